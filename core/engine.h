// The access decision: a pure function of the policy, what has happened on
// campus so far, the scan and the time. Same code online (cordond) and,
// later, offline (cordon-gate).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/campus_state.h"
#include "core/credential.h"
#include "core/policy_snapshot.h"
#include "core/reason.h"
#include "core/time.h"

namespace cordon {

enum class AlertKind : uint8_t {
  kExitWithoutEntry = 1,  // numbers match proto cordon.v1.AlertKind
  kLateViolation = 2,     // admitted offline; the current policy denies it
  kClockSkew = 3,         // a gate's clock is off by more than the threshold
  kNeverSeenEntering = 4,   // a scan inside by someone never seen entering (a wall was climbed)
  kRestrictedPerson = 5,    // quarantined or red code at a gate
  kSeparationAttempt = 6,   // refused: a cohort that must not mix was inside
  kZoneAtCapacity = 7,      // refused: the zone is full
  kPassOverstay = 8,        // a single-visit entrant inside after the pass window
  kLeaveOverdue = 9,        // not back from leave by the return-by time
  kGateSilent = 10,         // a connected gate stopped sending heartbeats
};
enum class Severity : uint8_t { kInfo = 1, kWarning = 2, kCritical = 3 };  // as proto
Severity SeverityOf(AlertKind kind);
// "exit_without_entry": the label metrics and logs use.
std::string_view AlertKindName(AlertKind kind);
inline constexpr AlertKind kAllAlertKinds[] = {
    AlertKind::kExitWithoutEntry,   AlertKind::kLateViolation,     AlertKind::kClockSkew,
    AlertKind::kNeverSeenEntering,  AlertKind::kRestrictedPerson,  AlertKind::kSeparationAttempt,
    AlertKind::kZoneAtCapacity,     AlertKind::kPassOverstay,      AlertKind::kLeaveOverdue,
    AlertKind::kGateSilent};
std::optional<AlertKind> AlertKindFromNumber(int number);

struct ScanInput {
  CredentialHash credential;
  Direction direction = Direction::kIn;
  std::string_view gate;  // gate id: which zones it joins (ZonePolicy::gates)
};

struct Decision {
  bool allowed = false;
  Reason reason = Reason::kDenyUnknownCredential;
  int64_t policy_version = 0;
  PersonId person = 0;  // 0 for an unknown credential
  PassId pass = 0;      // the pass used, if any
  PassStep pass_step = PassStep::kNone;
  LeaveId leave = 0;  // the leave used, if any
  LeaveStep leave_step = LeaveStep::kNone;
  std::optional<AlertKind> alert;
  std::string display;  // short text for the gate; names masked
  // Which rule decided, for the record: "zone teaching closed in
  // closed_management", "separation students/staff @ canteen-1", ...
  std::string rule;
  // Zones the person is in after an allowed movement; empty: outside.
  std::vector<std::string> to_path;
  std::vector<std::string> cohorts;  // the person's, for presence counts
};

// A gate joins an outer zone to an inner one ("in" moves a person from outer
// to inner); the campus mode in force says how each zone may be entered.
// Rules, in order (the first that applies decides):
//   unknown credential                        -> DENY_UNKNOWN_CREDENTIAL
//   person inactive                           -> DENY_PERSON_INACTIVE
//   person past valid_until                   -> DENY_PERSON_EXPIRED
// in:
//   quarantine order in force at `now`        -> DENY_QUARANTINE + alert
//   health colour not admitted by the mode    -> DENY_HEALTH_STATUS (+ alert if red)
//   already in the inner zone (anti-passback) -> DENY_ALREADY_ON_CAMPUS / _IN_ZONE
//   (not in the outer zone: alert NEVER_SEEN_ENTERING, and go on)
//   at the campus edge:
//     vehicle / delivery not disinfected within the policy's window -> DENY_NO_DISINFECTION
//     single-visit or contractor: unused pass valid now, else DENY_PASS_USED / _NO_VALID_PASS
//   inner zone closed in the mode             -> DENY_ZONE_CLOSED
//   ... open only to cohorts the person is not in -> DENY_ZONE_COHORT
//   ... restricted: no cohort permission      -> DENY_NO_ZONE_PERMISSION
//                   permission, not at this time -> DENY_OUTSIDE_TIME_WINDOW
//   inner zone at capacity                    -> DENY_ZONE_FULL + alert
//   a separated cohort inside, or left less than the buffer ago -> DENY_COHORT_SEPARATION + alert
//   allowed: by category, ALLOW_PASS_ENTRY, ALLOW_VEHICLE, ALLOW_LEAVE_RETURN, ALLOW_ZONE_MOVE
// out:
//   campus edge, mode requires leave, student or resident staff:
//     an unused approved leave open now -> ALLOW_LEAVE_EXIT, else DENY_NO_LEAVE
//   not in the inner zone                     -> ALLOW_EXIT_WITHOUT_ENTRY + alert
//   single-visit or contractor at the edge    -> ALLOW_PASS_EXIT (the pass is used up)
//   otherwise by category (ALLOW_ZONE_MOVE for visitors inside)
// Exits are never refused for quarantine, health, an expired pass or a full
// zone: nobody is trapped inside. Only closed management's leave rule holds
// residents in, as the campus decided.
Decision Decide(const PolicySnapshot& policy, const AccessState& state, const ScanInput& scan,
                TimePoint now);

// The movement of an allowed decision made elsewhere (a gate resending the
// decision it held): the pass or leave it used, chosen as Decide() would
// choose, and the zones it leads to.
Movement HeldMovement(const PolicySnapshot& policy, const AccessState& state, PersonId person,
                      Direction direction, Reason reason, std::string_view gate, TimePoint at,
                      GateRowId gate_row);

// The movement an allowed decision makes (for CampusState::Apply).
Movement MovementOf(const Decision& d, Direction direction, TimePoint at, GateRowId gate);

}  // namespace cordon
