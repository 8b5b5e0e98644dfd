#include "core/campus_state.h"

namespace cordon {

bool CampusState::IsOnCampus(PersonId person) const {
  auto it = presence_.find(person);
  return it != presence_.end() && it->second.on_campus;
}

PassProgress CampusState::ProgressOf(PassId pass) const {
  auto it = passes_.find(pass);
  return it == passes_.end() ? PassProgress{} : it->second;
}

void CampusState::Apply(const Movement& m) {
  if (m.pass != 0) {
    auto& progress = passes_[m.pass];
    if (m.pass_step == PassStep::kEntry && !progress.entered_at) progress.entered_at = m.at;
    if (m.pass_step == PassStep::kExit && !progress.exited_at) progress.exited_at = m.at;
  }
  auto [it, inserted] = presence_.try_emplace(m.person);
  Presence& p = it->second;
  if (!inserted && m.at < p.since) return;  // stale: a later movement is already applied
  bool inside = m.direction == Direction::kIn;
  if (inside && !p.on_campus) ++on_campus_count_;
  if (!inside && p.on_campus) --on_campus_count_;
  p = Presence{inside, m.at, m.gate};
}

void CampusState::RestorePass(PassId pass, const PassProgress& progress) {
  passes_[pass] = progress;
}

std::optional<Presence> CampusState::PresenceOf(PersonId person) const {
  auto it = presence_.find(person);
  if (it == presence_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<PersonId, Presence>> CampusState::OnCampus() const {
  std::vector<std::pair<PersonId, Presence>> out;
  out.reserve(on_campus_count_);
  for (const auto& [person, p] : presence_) {
    if (p.on_campus) out.emplace_back(person, p);
  }
  return out;
}

}  // namespace cordon
