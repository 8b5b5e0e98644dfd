// Stable reason codes carried by every decision. The numbers match proto
// cordon.v1.Reason and are stored in the database: never renumber.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace cordon {

enum class Reason : uint16_t {
  kAllowResidentStaff = 1,
  kAllowStudent = 2,
  kAllowPassEntry = 3,
  kAllowPassExit = 4,
  kAllowExitWithoutEntry = 5,
  kAllowLeaveExit = 6,    // a resident left on an approved leave
  kAllowLeaveReturn = 7,  // ... and came back
  kAllowVehicle = 8,      // a disinfected vehicle or delivery
  kAllowZoneMove = 9,     // a visitor, vehicle or delivery moving between inner zones

  kDenyUnknownCredential = 100,
  kDenyPersonInactive = 101,
  kDenyPersonExpired = 102,
  kDenyQuarantine = 103,
  kDenyAlreadyOnCampus = 104,
  kDenyNoValidPass = 105,
  kDenyPassUsed = 106,
  kDenyGatePolicyStale = 107,  // offline only
  kDenyGateNoPolicy = 108,     // offline only
  kDenyHealthStatus = 109,     // the health code's colour is not admitted in this mode
  kDenyZoneClosed = 110,
  kDenyZoneCohort = 111,       // the zone is open only to named cohorts
  kDenyNoZonePermission = 112,
  kDenyOutsideTimeWindow = 113,
  kDenyZoneFull = 114,
  kDenyCohortSeparation = 115,
  kDenyNoLeave = 116,
  kDenyNoDisinfection = 117,
  kDenyAlreadyInZone = 118,    // anti-passback at an inner gate
};

inline bool IsAllow(Reason r) { return static_cast<uint16_t>(r) < 100; }

// "ALLOW_STUDENT", "DENY_QUARANTINE", ...: the name logs, JSON and the CLI show.
std::string_view ReasonName(Reason r);
// Accepts a stored or transmitted number; nullopt for an unknown one.
std::optional<Reason> ReasonFromNumber(int number);
// Every reason, in code order (metrics pre-create a counter for each).
std::span<const Reason> AllReasons();

}  // namespace cordon
