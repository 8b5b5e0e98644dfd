// The access decision: a pure function of the policy, what has happened on
// campus so far, the scan and the time. Same code online (cordond) and,
// later, offline (cordon-gate).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
};
// "exit_without_entry": the label metrics and logs use.
std::string_view AlertKindName(AlertKind kind);
inline constexpr AlertKind kAllAlertKinds[] = {AlertKind::kExitWithoutEntry,
                                               AlertKind::kLateViolation, AlertKind::kClockSkew};

struct ScanInput {
  CredentialHash credential;
  Direction direction = Direction::kIn;
};

struct Decision {
  bool allowed = false;
  Reason reason = Reason::kDenyUnknownCredential;
  int64_t policy_version = 0;
  PersonId person = 0;  // 0 for an unknown credential
  PassId pass = 0;      // the pass used, if any
  PassStep pass_step = PassStep::kNone;
  std::optional<AlertKind> alert;
  std::string display;  // short text for the gate; names masked
};

// Rules, in order (the first that applies decides):
//   unknown credential                        -> DENY_UNKNOWN_CREDENTIAL
//   person inactive                           -> DENY_PERSON_INACTIVE
//   person past valid_until                   -> DENY_PERSON_EXPIRED
// in:
//   quarantine order in force at `now`        -> DENY_QUARANTINE
//   already on campus (anti-passback)         -> DENY_ALREADY_ON_CAMPUS
//   resident staff / student                  -> ALLOW_RESIDENT_STAFF / ALLOW_STUDENT
//   single-visit or contractor with an unused pass valid now -> ALLOW_PASS_ENTRY
//   ... whose pass valid now is used up       -> DENY_PASS_USED
//   ... otherwise                             -> DENY_NO_VALID_PASS
// out:
//   not on campus                             -> ALLOW_EXIT_WITHOUT_ENTRY + alert
//   single-visit or contractor                -> ALLOW_PASS_EXIT (the pass is used up)
//   resident staff / student                  -> ALLOW_RESIDENT_STAFF / ALLOW_STUDENT
// Exits are never refused for quarantine or an expired pass: nobody is
// trapped inside.
Decision Decide(const PolicySnapshot& policy, const AccessState& state, const ScanInput& scan,
                TimePoint now);

// Which pass a recorded allow used, for a decision made elsewhere (a gate
// resending the decision it holds): the same choice Decide() makes.
struct PassUse {
  PassId pass = 0;
  PassStep step = PassStep::kNone;
};
PassUse AttributePass(const PolicySnapshot& policy, const AccessState& state, PersonId person,
                      Reason reason, TimePoint at);

// The movement an allowed decision makes (for CampusState::Apply).
Movement MovementOf(const Decision& d, Direction direction, TimePoint at, GateRowId gate);

}  // namespace cordon
