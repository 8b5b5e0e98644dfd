// The campus domain: people, their categories, credentials, passes,
// quarantine orders and gates. Plain values, no behaviour beyond simple
// predicates; the rules live in engine.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace cordon {

// Row ids assigned by storage. 0 means "not assigned".
using PersonId = int64_t;
using PassId = int64_t;
using QuarantineId = int64_t;
using GateRowId = int64_t;

// Numbers match proto cordon.v1.Direction and are stored in the database.
enum class Direction : uint8_t { kIn = 1, kOut = 2 };
std::string_view DirectionName(Direction d);  // "in" / "out"

// Who made a decision. Numbers match proto cordon.v1.DecisionSource.
enum class DecisionSource : uint8_t { kDaemon = 1, kGateOffline = 2 };

// Numbers match proto cordon.v1.PersonCategory and are stored in the database.
enum class PersonCategory : uint8_t {
  kResidentStaff = 1,
  kStudent = 2,
  kSingleVisit = 3,
  kContractor = 4,
};
// "resident_staff", "student", "single_visit", "contractor".
std::string_view CategoryName(PersonCategory c);
std::optional<PersonCategory> ParseCategory(std::string_view name);
// Single-visit entrants and contractors come in only on a pass.
inline bool NeedsPass(PersonCategory c) {
  return c == PersonCategory::kSingleVisit || c == PersonCategory::kContractor;
}

struct Person {
  PersonId id = 0;
  std::string external_id;  // staff or student number
  std::string name;
  PersonCategory category = PersonCategory::kStudent;
  std::string cohort;
  bool active = true;
  std::optional<TimePoint> valid_until;  // denied from this instant on
  int credential_count = 0;

  bool ExpiredAt(TimePoint t) const { return valid_until && t >= *valid_until; }
};

// Entry is denied in [starts_at, ends_at), or until cleared.
struct QuarantineOrder {
  QuarantineId id = 0;
  PersonId person = 0;
  TimePoint starts_at;
  TimePoint ends_at;
  std::string reason;
  TimePoint ordered_at;
  std::optional<TimePoint> cleared_at;

  bool ActiveAt(TimePoint t) const {
    return starts_at <= t && t < ends_at && !(cleared_at && *cleared_at <= t);
  }
};

// One entry and one exit for a single-visit entrant, the entry within
// [valid_from, valid_until). Whether it was used is campus state, not policy
// (see CampusState).
struct SingleVisitPass {
  PassId id = 0;
  PersonId person = 0;
  std::string host;
  TimePoint valid_from;
  TimePoint valid_until;
  TimePoint issued_at;

  bool ValidAt(TimePoint t) const { return valid_from <= t && t < valid_until; }
};

struct Gate {
  GateRowId id = 0;
  std::string gate_id;  // what the agent presents, e.g. "north-1"
  std::string description;
  TimePoint registered_at;
};

}  // namespace cordon
