#include "gate-agent/scan_line.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/identifiers.h"

namespace cordon::gate {

std::variant<ParsedScan, ParsedDisinfection, SkippedLine, BadLine> ParseScanLine(
    std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF from some scanners
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  if (words.empty() || words[0].front() == '#') return SkippedLine{};
  if (words.size() != 2) {
    return BadLine{"expected 'CREDENTIAL in' or 'CREDENTIAL out', got " +
                   std::to_string(words.size()) + " word(s)"};
  }
  if (auto problem = CheckCredential(words[0]); !problem.empty()) {
    return BadLine{"credential " + problem};
  }
  std::string dir(words[1]);
  std::transform(dir.begin(), dir.end(), dir.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (dir == "disinfected") return ParsedDisinfection{std::string(words[0])};
  if (dir != "in" && dir != "out") {
    return BadLine{"direction must be 'in' or 'out', got '" + std::string(words[1]) + "'"};
  }
  return ParsedScan{std::string(words[0]), dir == "in" ? Direction::kIn : Direction::kOut};
}

}  // namespace cordon::gate
