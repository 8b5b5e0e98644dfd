// Scanners emit one line per credential: "CREDENTIAL in" or "CREDENTIAL out".
// The guard's console adds "CREDENTIAL disinfected" for a vehicle or delivery
// just disinfected at this gate.
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
struct ParsedDisinfection {
  std::string credential;
};
struct SkippedLine {};  // blank or comment
struct BadLine {
  std::string problem;
};

std::variant<ParsedScan, ParsedDisinfection, SkippedLine, BadLine> ParseScanLine(
    std::string_view line);

}  // namespace cordon::gate
