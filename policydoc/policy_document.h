// The campus policy as a YAML document: zones, gates, cohorts and their
// permissions, separation rules and campus modes (see
// deploy/etc/campus-policy.yaml for a commented sample). Parsing validates
// everything and reports every problem with its line; a document with any
// error yields no policy at all.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/zones.h"

namespace cordon::policydoc {

struct DocumentError {
  int line = 0;  // 1-based; 0 when the problem is the document as a whole
  std::string message;
  std::string ToString() const;  // "12: zone 'lab' has no parent"
};

struct ParseResult {
  std::shared_ptr<const ZonePolicy> policy;  // null when errors is not empty
  std::vector<DocumentError> errors;
  bool ok() const { return errors.empty(); }
  // One error per line, the first `most` of them: the text travels in a gRPC
  // status, whose metadata must stay small, and a person reads it.
  std::string ErrorText(size_t most = 40) const;
};

ParseResult ParsePolicyDocument(std::string_view yaml);

// What changes from `before` to `after`, one line per change:
// "+ zone lab-bio in teaching", "~ mode closed_management: teaching closed -> open".
std::vector<std::string> DescribeChanges(const ZonePolicy& before, const ZonePolicy& after);

// "mon-fri 11:00-13:30", "daily 22:00-02:00", "sat,sun 10:00-12:00" into
// one window per day, in minutes of the week.
bool ParseWeeklyWindows(std::string_view text, std::vector<WeeklyWindow>& out,
                        std::string& error);

}  // namespace cordon::policydoc
