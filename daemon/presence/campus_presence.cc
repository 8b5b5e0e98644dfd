#include "daemon/presence/campus_presence.h"

namespace cordon::presence {

absl::Status CampusPresence::Restore(storage::Store& store, const PolicySnapshot& policy) {
  CampusState restored;
  if (auto st = store.RestoreCampusState(policy, restored); !st.ok()) return st;
  std::lock_guard lock(mu_);
  state_ = std::move(restored);
  return absl::OkStatus();
}

absl::Status CampusPresence::SaveSnapshot(storage::Store& store) const {
  // Copied under the lock, written without it: decisions take this lock, and
  // writing 100,000 rows takes the disk hundreds of milliseconds.
  std::vector<storage::PresenceMark> marks;
  std::vector<PersonId> unsettled;
  {
    std::lock_guard lock(mu_);
    marks.reserve(state_.AllPresence().size());
    for (const auto& [person, p] : state_.AllPresence()) {
      if (uncommitted_.contains(person)) continue;
      marks.push_back({person, p.since, p.gate, p.path.empty() ? std::string() : p.path.back()});
    }
    for (const auto& [person, count] : uncommitted_) unsettled.push_back(person);
  }
  return store.SavePresenceSnapshot(marks, unsettled);
}

void CampusPresence::Committed(std::span<const storage::RecordedEvent> batch) {
  std::lock_guard lock(mu_);
  for (const storage::RecordedEvent& e : batch) {
    if (!e.allowed || e.person == 0) continue;  // applied nothing
    auto it = uncommitted_.find(e.person);
    if (it != uncommitted_.end() && --it->second == 0) uncommitted_.erase(it);
  }
}

Decision CampusPresence::DecideAndApply(const PolicySnapshot& policy, const ScanInput& scan,
                                        TimePoint now, GateRowId gate) {
  std::lock_guard lock(mu_);
  Decision d = Decide(policy, state_, scan, now);
  if (d.allowed) {
    state_.Apply(MovementOf(d, scan.direction, now, gate));
    ++uncommitted_[d.person];
  }
  return d;
}

Decision CampusPresence::Evaluate(const PolicySnapshot& policy, const ScanInput& scan,
                                  TimePoint at) const {
  std::lock_guard lock(mu_);
  return Decide(policy, state_, scan, at);
}

Movement CampusPresence::ApplyDecided(const PolicySnapshot& policy, PersonId person,
                                      Direction direction, Reason reason, TimePoint at,
                                      std::string_view gate_id, GateRowId gate) {
  std::lock_guard lock(mu_);
  Movement m = HeldMovement(policy, state_, person, direction, reason, gate_id, at, gate);
  state_.Apply(m);
  ++uncommitted_[person];
  return m;
}

void CampusPresence::RecordDisinfection(PersonId person, TimePoint at) {
  std::lock_guard lock(mu_);
  state_.RecordDisinfection(person, at);
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

std::vector<int64_t> CampusPresence::OccupancyOf(const std::vector<std::string>& zones) const {
  std::vector<int64_t> out(zones.size(), 0);
  std::lock_guard lock(mu_);
  const auto& counts = state_.OccupancyByZone();
  for (size_t i = 0; i < zones.size(); ++i) {
    if (auto it = counts.find(zones[i]); it != counts.end()) out[i] = it->second;
  }
  return out;
}

PassProgress CampusPresence::ProgressOf(PassId pass) const {
  std::lock_guard lock(mu_);
  return state_.ProgressOf(pass);
}

LeaveProgress CampusPresence::ProgressOfLeave(LeaveId leave) const {
  std::lock_guard lock(mu_);
  return state_.ProgressOfLeave(leave);
}

}  // namespace cordon::presence
