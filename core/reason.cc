#include "core/reason.h"

#include <array>
#include <utility>

namespace cordon {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 28> kNames{{
    {Reason::kAllowResidentStaff, "ALLOW_RESIDENT_STAFF"},
    {Reason::kAllowStudent, "ALLOW_STUDENT"},
    {Reason::kAllowPassEntry, "ALLOW_PASS_ENTRY"},
    {Reason::kAllowPassExit, "ALLOW_PASS_EXIT"},
    {Reason::kAllowExitWithoutEntry, "ALLOW_EXIT_WITHOUT_ENTRY"},
    {Reason::kAllowLeaveExit, "ALLOW_LEAVE_EXIT"},
    {Reason::kAllowLeaveReturn, "ALLOW_LEAVE_RETURN"},
    {Reason::kAllowVehicle, "ALLOW_VEHICLE"},
    {Reason::kAllowZoneMove, "ALLOW_ZONE_MOVE"},
    {Reason::kDenyUnknownCredential, "DENY_UNKNOWN_CREDENTIAL"},
    {Reason::kDenyPersonInactive, "DENY_PERSON_INACTIVE"},
    {Reason::kDenyPersonExpired, "DENY_PERSON_EXPIRED"},
    {Reason::kDenyQuarantine, "DENY_QUARANTINE"},
    {Reason::kDenyAlreadyOnCampus, "DENY_ALREADY_ON_CAMPUS"},
    {Reason::kDenyNoValidPass, "DENY_NO_VALID_PASS"},
    {Reason::kDenyPassUsed, "DENY_PASS_USED"},
    {Reason::kDenyGatePolicyStale, "DENY_GATE_POLICY_STALE"},
    {Reason::kDenyGateNoPolicy, "DENY_GATE_NO_POLICY"},
    {Reason::kDenyHealthStatus, "DENY_HEALTH_STATUS"},
    {Reason::kDenyZoneClosed, "DENY_ZONE_CLOSED"},
    {Reason::kDenyZoneCohort, "DENY_ZONE_COHORT"},
    {Reason::kDenyNoZonePermission, "DENY_NO_ZONE_PERMISSION"},
    {Reason::kDenyOutsideTimeWindow, "DENY_OUTSIDE_TIME_WINDOW"},
    {Reason::kDenyZoneFull, "DENY_ZONE_FULL"},
    {Reason::kDenyCohortSeparation, "DENY_COHORT_SEPARATION"},
    {Reason::kDenyNoLeave, "DENY_NO_LEAVE"},
    {Reason::kDenyNoDisinfection, "DENY_NO_DISINFECTION"},
    {Reason::kDenyAlreadyInZone, "DENY_ALREADY_IN_ZONE"},
}};

constexpr std::array<Reason, kNames.size()> kAll = [] {
  std::array<Reason, kNames.size()> all{};
  for (size_t i = 0; i < kNames.size(); ++i) all[i] = kNames[i].first;
  return all;
}();

}  // namespace

std::span<const Reason> AllReasons() { return kAll; }

std::string_view ReasonName(Reason r) {
  for (const auto& [reason, name] : kNames) {
    if (reason == r) return name;
  }
  return "REASON_UNKNOWN";
}

std::optional<Reason> ReasonFromNumber(int number) {
  for (const auto& [reason, name] : kNames) {
    if (static_cast<int>(reason) == number) return reason;
  }
  return std::nullopt;
}

}  // namespace cordon
