#include "core/engine.h"

#include "core/identifiers.h"

namespace cordon {
namespace {

Decision Deny(const PolicySnapshot& policy, PersonId person, Reason reason, std::string display) {
  Decision d;
  d.allowed = false;
  d.reason = reason;
  d.policy_version = policy.version;
  d.person = person;
  d.display = std::move(display);
  return d;
}

Decision Allow(const PolicySnapshot& policy, const Person& person, Direction direction,
               Reason reason) {
  Decision d;
  d.allowed = true;
  d.reason = reason;
  d.policy_version = policy.version;
  d.person = person.id;
  d.display = (direction == Direction::kIn ? "Welcome, " : "Goodbye, ") + MaskName(person.name);
  return d;
}

Reason ResidentReason(PersonCategory c) {
  return c == PersonCategory::kResidentStaff ? Reason::kAllowResidentStaff : Reason::kAllowStudent;
}

// The unused pass valid at `now` that ends first. *used_up tells whether a
// pass valid now exists but was already used for an entry.
const SingleVisitPass* EntryPass(const PolicySnapshot& policy, const AccessState& state,
                                 PersonId person, TimePoint now, bool* used_up) {
  const SingleVisitPass* best = nullptr;
  for (const auto& pass : policy.PassesOf(person)) {
    if (!pass.ValidAt(now)) continue;
    if (state.ProgressOf(pass.id).entered_at) {
      *used_up = true;
      continue;
    }
    if (best == nullptr || pass.valid_until < best->valid_until) best = &pass;
  }
  return best;
}

// The pass the person entered on and has not yet left on.
const SingleVisitPass* OpenPass(const PolicySnapshot& policy, const AccessState& state,
                                PersonId person) {
  for (const auto& pass : policy.PassesOf(person)) {
    PassProgress progress = state.ProgressOf(pass.id);
    if (progress.entered_at && !progress.exited_at) return &pass;
  }
  return nullptr;
}

Decision DecideEntry(const PolicySnapshot& policy, const AccessState& state, const Person& person,
                     TimePoint now) {
  if (policy.ActiveQuarantine(person.id, now) != nullptr) {
    return Deny(policy, person.id, Reason::kDenyQuarantine, "Entry denied: isolation order in force");
  }
  if (state.IsOnCampus(person.id)) {
    return Deny(policy, person.id, Reason::kDenyAlreadyOnCampus,
                "Already on campus: no exit recorded");
  }
  if (!NeedsPass(person.category)) {
    return Allow(policy, person, Direction::kIn, ResidentReason(person.category));
  }
  bool used_up = false;
  if (const SingleVisitPass* pass = EntryPass(policy, state, person.id, now, &used_up)) {
    Decision d = Allow(policy, person, Direction::kIn, Reason::kAllowPassEntry);
    d.pass = pass->id;
    d.pass_step = PassStep::kEntry;
    return d;
  }
  if (used_up) return Deny(policy, person.id, Reason::kDenyPassUsed, "Pass already used");
  return Deny(policy, person.id, Reason::kDenyNoValidPass, "No pass valid now: contact your host");
}

Decision DecideExit(const PolicySnapshot& policy, const AccessState& state, const Person& person) {
  if (!state.IsOnCampus(person.id)) {
    Decision d = Allow(policy, person, Direction::kOut, Reason::kAllowExitWithoutEntry);
    d.alert = AlertKind::kExitWithoutEntry;
    return d;
  }
  if (!NeedsPass(person.category)) {
    return Allow(policy, person, Direction::kOut, ResidentReason(person.category));
  }
  Decision d = Allow(policy, person, Direction::kOut, Reason::kAllowPassExit);
  if (const SingleVisitPass* pass = OpenPass(policy, state, person.id)) {
    d.pass = pass->id;
    d.pass_step = PassStep::kExit;
  }
  return d;
}

}  // namespace

std::string_view AlertKindName(AlertKind kind) {
  switch (kind) {
    case AlertKind::kExitWithoutEntry: return "exit_without_entry";
    case AlertKind::kLateViolation: return "late_violation";
    case AlertKind::kClockSkew: return "clock_skew";
  }
  return "unknown";
}

Decision Decide(const PolicySnapshot& policy, const AccessState& state, const ScanInput& scan,
                TimePoint now) {
  const Person* person = policy.FindByCredential(scan.credential);
  if (person == nullptr) {
    return Deny(policy, 0, Reason::kDenyUnknownCredential, "Card not recognised");
  }
  if (!person->active) {
    return Deny(policy, person->id, Reason::kDenyPersonInactive,
                "Access suspended: see the security office");
  }
  if (person->ExpiredAt(now)) {
    return Deny(policy, person->id, Reason::kDenyPersonExpired,
                "Access expired: see the security office");
  }
  return scan.direction == Direction::kIn ? DecideEntry(policy, state, *person, now)
                                          : DecideExit(policy, state, *person);
}

PassUse AttributePass(const PolicySnapshot& policy, const AccessState& state, PersonId person,
                      Reason reason, TimePoint at) {
  if (reason == Reason::kAllowPassEntry) {
    bool used_up = false;
    if (const SingleVisitPass* pass = EntryPass(policy, state, person, at, &used_up)) {
      return {pass->id, PassStep::kEntry};
    }
  } else if (reason == Reason::kAllowPassExit) {
    if (const SingleVisitPass* pass = OpenPass(policy, state, person)) {
      return {pass->id, PassStep::kExit};
    }
  }
  return {};
}

Movement MovementOf(const Decision& d, Direction direction, TimePoint at, GateRowId gate) {
  return Movement{d.person, direction, at, gate, d.pass, d.pass_step};
}

}  // namespace cordon
