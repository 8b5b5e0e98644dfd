#include "core/campus_state.h"

#include <algorithm>

namespace cordon {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

bool CampusState::IsOnCampus(PersonId person) const {
  auto it = presence_.find(person);
  return it != presence_.end() && it->second.on_campus;
}

std::span<const std::string> CampusState::ZonePathOf(PersonId person) const {
  auto it = presence_.find(person);
  if (it == presence_.end()) return {};
  return it->second.path;
}

int CampusState::Occupancy(std::string_view zone) const {
  auto it = occupancy_.find(std::string(zone));
  return it == occupancy_.end() ? 0 : it->second;
}

std::string CampusState::CohortKey(std::string_view zone, std::string_view cohort) {
  std::string key;
  key.reserve(zone.size() + cohort.size() + 1);
  key.append(zone).push_back('\n');  // ids never hold a newline
  key.append(cohort);
  return key;
}

int CampusState::CohortCount(std::string_view zone, std::string_view cohort) const {
  auto it = cohorts_.find(CohortKey(zone, cohort));
  return it == cohorts_.end() ? 0 : it->second.count;
}

std::optional<TimePoint> CampusState::CohortLastLeft(std::string_view zone,
                                                     std::string_view cohort) const {
  auto it = cohorts_.find(CohortKey(zone, cohort));
  return it == cohorts_.end() ? std::nullopt : it->second.last_left;
}

PassProgress CampusState::ProgressOf(PassId pass) const {
  auto it = passes_.find(pass);
  return it == passes_.end() ? PassProgress{} : it->second;
}

LeaveProgress CampusState::ProgressOfLeave(LeaveId leave) const {
  auto it = leaves_.find(leave);
  return it == leaves_.end() ? LeaveProgress{} : it->second;
}

std::optional<TimePoint> CampusState::LastDisinfection(PersonId person) const {
  auto it = disinfected_.find(person);
  if (it == disinfected_.end()) return std::nullopt;
  return it->second;
}

void CampusState::Enter(const std::string& zone, const std::vector<std::string>& cohorts) {
  ++occupancy_[zone];
  for (const auto& c : cohorts) ++cohorts_[CohortKey(zone, c)].count;
}

void CampusState::Leave(const std::string& zone, const std::vector<std::string>& cohorts,
                        TimePoint at) {
  if (auto it = occupancy_.find(zone); it != occupancy_.end() && it->second > 0) --it->second;
  for (const auto& c : cohorts) {
    CohortPresence& cp = cohorts_[CohortKey(zone, c)];
    if (cp.count > 0 && --cp.count == 0) cp.last_left = at;
  }
}

void CampusState::Apply(const Movement& m) {
  if (m.pass != 0) {
    auto& progress = passes_[m.pass];
    if (m.pass_step == PassStep::kEntry && !progress.entered_at) progress.entered_at = m.at;
    if (m.pass_step == PassStep::kExit && !progress.exited_at) progress.exited_at = m.at;
  }
  if (m.leave != 0) {
    auto& progress = leaves_[m.leave];
    if (m.leave_step == LeaveStep::kExit && !progress.exited_at) progress.exited_at = m.at;
    if (m.leave_step == LeaveStep::kReturn && !progress.returned_at) progress.returned_at = m.at;
  }
  auto [it, inserted] = presence_.try_emplace(m.person);
  Presence& p = it->second;
  if (!inserted && m.at < p.since) return;  // stale: a later movement is already applied
  // Leave the zones not on the new path, deepest first, then enter the new ones.
  for (auto z = p.path.rbegin(); z != p.path.rend(); ++z) {
    if (!Contains(m.to_path, *z)) Leave(*z, p.cohorts, m.at);
  }
  for (const auto& z : m.to_path) {
    if (!Contains(p.path, z)) Enter(z, m.cohorts);
  }
  // Cohorts may have changed since the person entered: recount the zones kept.
  if (p.cohorts != m.cohorts) {
    for (const auto& z : m.to_path) {
      if (!Contains(p.path, z)) continue;
      for (const auto& c : p.cohorts) {
        CohortPresence& cp = cohorts_[CohortKey(z, c)];
        if (cp.count > 0 && --cp.count == 0) cp.last_left = m.at;
      }
      for (const auto& c : m.cohorts) ++cohorts_[CohortKey(z, c)].count;
    }
  }
  bool inside = !m.to_path.empty();
  if (inside && !p.on_campus) ++on_campus_count_;
  if (!inside && p.on_campus) --on_campus_count_;
  p.on_campus = inside;
  p.since = m.at;
  p.gate = m.gate;
  p.path = m.to_path;
  p.cohorts = m.cohorts;
}

void CampusState::RestorePass(PassId pass, const PassProgress& progress) {
  passes_[pass] = progress;
}

void CampusState::RestoreLeave(LeaveId leave, const LeaveProgress& progress) {
  leaves_[leave] = progress;
}

void CampusState::RecordDisinfection(PersonId person, TimePoint at) {
  auto [it, inserted] = disinfected_.try_emplace(person, at);
  if (!inserted && it->second < at) it->second = at;
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
