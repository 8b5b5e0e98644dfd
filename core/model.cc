#include "core/model.h"

namespace cordon {

std::string_view DirectionName(Direction d) { return d == Direction::kIn ? "in" : "out"; }

std::string_view CategoryName(PersonCategory c) {
  switch (c) {
    case PersonCategory::kResidentStaff: return "resident_staff";
    case PersonCategory::kStudent: return "student";
    case PersonCategory::kSingleVisit: return "single_visit";
    case PersonCategory::kContractor: return "contractor";
  }
  return "unknown";
}

std::optional<PersonCategory> ParseCategory(std::string_view name) {
  for (auto c : {PersonCategory::kResidentStaff, PersonCategory::kStudent,
                 PersonCategory::kSingleVisit, PersonCategory::kContractor}) {
    if (CategoryName(c) == name) return c;
  }
  return std::nullopt;
}

}  // namespace cordon
