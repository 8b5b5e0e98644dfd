// Text for terminals and pipes: JSON string literals, display width (CJK
// names take two columns), aligned tables.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::console {

// A JSON string literal, quotes included.
std::string JsonString(std::string_view s);

// Columns the UTF-8 text occupies on a terminal (East Asian wide = 2).
size_t DisplayWidth(std::string_view s);

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  size_t size() const { return rows_.size(); }
  // Header, a rule, then the rows; columns separated by two spaces.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace cordon::console
