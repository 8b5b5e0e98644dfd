// RFC 4180 CSV: commas, double-quoted fields with "" for a quote, newlines
// inside quotes, LF or CRLF line ends, an optional UTF-8 byte-order mark.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cordon::ctl {

struct CsvRecord {
  int line = 0;  // line number where the record starts (1-based)
  std::vector<std::string> fields;
};

// Errors name the line: an unterminated quote, a quote inside an unquoted
// field, or text after a closing quote. Blank lines are skipped.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text);

}  // namespace cordon::ctl
