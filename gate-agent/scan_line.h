// Scanners emit one line per credential: "CREDENTIAL in" or "CREDENTIAL out".
// Blank lines and lines starting with '#' are ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/model.h"

namespace cordon::gate {

struct ParsedScan {
  std::string credential;
  Direction direction = Direction::kIn;
};
struct SkippedLine {};  // blank or comment
struct BadLine {
  std::string problem;
};

std::variant<ParsedScan, SkippedLine, BadLine> ParseScanLine(std::string_view line);

}  // namespace cordon::gate
