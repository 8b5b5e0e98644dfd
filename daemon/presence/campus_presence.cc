#include "daemon/presence/campus_presence.h"

namespace cordon::presence {

absl::Status CampusPresence::Restore(storage::Store& store) {
  CampusState restored;
  if (auto st = store.RestoreCampusState(restored); !st.ok()) return st;
  std::lock_guard lock(mu_);
  state_ = std::move(restored);
  return absl::OkStatus();
}

Decision CampusPresence::DecideAndApply(const PolicySnapshot& policy, const ScanInput& scan,
                                        TimePoint now, GateRowId gate) {
  std::lock_guard lock(mu_);
  Decision d = Decide(policy, state_, scan, now);
  if (d.allowed) state_.Apply(MovementOf(d, scan.direction, now, gate));
  return d;
}

Decision CampusPresence::Evaluate(const PolicySnapshot& policy, const ScanInput& scan,
                                  TimePoint at) const {
  std::lock_guard lock(mu_);
  return Decide(policy, state_, scan, at);
}

PassUse CampusPresence::ApplyDecided(const PolicySnapshot& policy, PersonId person,
                                     Direction direction, Reason reason, TimePoint at,
                                     GateRowId gate) {
  std::lock_guard lock(mu_);
  PassUse use = AttributePass(policy, state_, person, reason, at);
  state_.Apply(Movement{person, direction, at, gate, use.pass, use.step});
  return use;
}

std::optional<Presence> CampusPresence::PresenceOf(PersonId person) const {
  std::lock_guard lock(mu_);
  return state_.PresenceOf(person);
}

std::vector<std::pair<PersonId, Presence>> CampusPresence::OnCampus() const {
  std::lock_guard lock(mu_);
  return state_.OnCampus();
}

size_t CampusPresence::OnCampusCount() const {
  std::lock_guard lock(mu_);
  return state_.OnCampusCount();
}

PassProgress CampusPresence::ProgressOf(PassId pass) const {
  std::lock_guard lock(mu_);
  return state_.ProgressOf(pass);
}

}  // namespace cordon::presence
