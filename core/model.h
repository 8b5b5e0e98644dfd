// The campus domain: people, their categories, credentials, passes,
// quarantine orders and gates. Plain values, no behaviour beyond simple
// predicates; the rules live in engine.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "core/zones.h"

namespace cordon {

// Row ids assigned by storage. 0 means "not assigned".
using PersonId = int64_t;
using PassId = int64_t;
using QuarantineId = int64_t;
using GateRowId = int64_t;
using LeaveId = int64_t;

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
  kVehicle = 5,   // a vehicle's plate or card: needs a recent disinfection
  kDelivery = 6,  // a delivery or materials: needs a recent disinfection
};
inline constexpr PersonCategory kAllCategories[] = {
    PersonCategory::kResidentStaff, PersonCategory::kStudent, PersonCategory::kSingleVisit,
    PersonCategory::kContractor,    PersonCategory::kVehicle, PersonCategory::kDelivery};
// "resident_staff", "student", "single_visit", "contractor", "vehicle", "delivery".
std::string_view CategoryName(PersonCategory c);
std::optional<PersonCategory> ParseCategory(std::string_view name);
// Single-visit entrants and contractors come in only on a pass.
inline bool NeedsPass(PersonCategory c) {
  return c == PersonCategory::kSingleVisit || c == PersonCategory::kContractor;
}
// Vehicles and deliveries come in only after a recorded disinfection.
inline bool NeedsDisinfection(PersonCategory c) {
  return c == PersonCategory::kVehicle || c == PersonCategory::kDelivery;
}
// Students and resident staff live on campus: under closed management they
// leave only on an approved leave.
inline bool IsResident(PersonCategory c) {
  return c == PersonCategory::kResidentStaff || c == PersonCategory::kStudent;
}

struct Person {
  PersonId id = 0;
  std::string external_id;  // staff or student number
  std::string name;
  PersonCategory category = PersonCategory::kStudent;
  std::string cohort;  // as entered: cohort ids separated by ';' ("dorm-a;chem-lab")
  std::vector<std::string> cohorts;  // the same, split (PolicySnapshot::PutPerson fills it)
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

// A person's health code (green/yellow/red), with where it came from.
struct HealthRecord {
  HealthColour colour = HealthColour::kGreen;
  std::string source;  // "provincial health code", "campus clinic", ...
  TimePoint at;
};

// Under closed management a resident leaves only on an approved leave: one
// exit within [exit_from, exit_until), back by return_by. Whether it was used
// is campus state (LeaveProgress).
struct LeaveApproval {
  LeaveId id = 0;
  PersonId person = 0;
  TimePoint exit_from;
  TimePoint exit_until;
  TimePoint return_by;
  std::string reason;
  std::string approved_by;

  bool ExitOpenAt(TimePoint t) const { return exit_from <= t && t < exit_until; }
};

// Splits "a; b;c" into {"a", "b", "c"}.
std::vector<std::string> SplitCohorts(std::string_view text);

struct Gate {
  GateRowId id = 0;
  std::string gate_id;  // what the agent presents, e.g. "north-1"
  std::string description;
  TimePoint registered_at;
};

}  // namespace cordon
