// A roster CSV as the administrator exports it from the HR or student
// system. The first row names the columns (any order):
//   external_id,name,category,cohort,credential,active,valid_until
// external_id, name and category are required. credential may hold several
// credentials separated by ';'. active is true/false/yes/no/1/0 (empty:
// true). valid_until is a time (see console/time_text.h); a bare date means
// valid through that day.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cordon/v1/admin.pb.h"
#include "core/time.h"

namespace cordon::ctl {

struct RosterFile {
  std::vector<v1::RosterRow> rows;         // rows that parsed
  std::vector<v1::RosterProblem> problems;  // rows that did not
};

// A malformed file (no header, an unknown column, broken quoting) is an
// error; a bad row is a problem in the result.
absl::StatusOr<RosterFile> ReadRosterCsv(const std::string& text, TimePoint now);

}  // namespace cordon::ctl
