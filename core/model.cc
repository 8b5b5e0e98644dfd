#include "core/model.h"

namespace cordon {

std::string_view DirectionName(Direction d) { return d == Direction::kIn ? "in" : "out"; }

std::string_view CategoryName(PersonCategory c) {
  switch (c) {
    case PersonCategory::kResidentStaff: return "resident_staff";
    case PersonCategory::kStudent: return "student";
    case PersonCategory::kSingleVisit: return "single_visit";
    case PersonCategory::kContractor: return "contractor";
    case PersonCategory::kVehicle: return "vehicle";
    case PersonCategory::kDelivery: return "delivery";
  }
  return "unknown";
}

std::optional<PersonCategory> ParseCategory(std::string_view name) {
  for (auto c : kAllCategories) {
    if (CategoryName(c) == name) return c;
  }
  return std::nullopt;
}

std::vector<std::string> SplitCohorts(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t end = text.find(';');
    std::string_view part = text.substr(0, end);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace cordon
