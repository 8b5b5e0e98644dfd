#include "core/zones.h"

#include "core/model.h"

#include <algorithm>

namespace cordon {

std::string_view HealthColourName(HealthColour c) {
  switch (c) {
    case HealthColour::kGreen: return "green";
    case HealthColour::kYellow: return "yellow";
    case HealthColour::kRed: return "red";
  }
  return "unknown";
}

std::optional<HealthColour> ParseHealthColour(std::string_view name) {
  for (auto c : {HealthColour::kGreen, HealthColour::kYellow, HealthColour::kRed}) {
    if (HealthColourName(c) == name) return c;
  }
  return std::nullopt;
}

bool WeeklyWindow::Contains(int m) const {
  if (begin < end) return begin <= m && m < end;
  return m >= begin || m < end;  // runs over Sunday midnight
}

int MinuteOfWeek(TimePoint t, Micros utc_offset) {
  using namespace std::chrono;
  auto local = floor<minutes>(t + utc_offset);
  auto day = floor<days>(local);
  // 1970-01-01 was a Thursday: weekday 3 counting from Monday = 0.
  int64_t day_number = day.time_since_epoch().count();
  int64_t weekday = ((day_number + 3) % 7 + 7) % 7;
  int64_t minute_of_day = (local - day).count();
  return static_cast<int>(weekday * 24 * 60 + minute_of_day);
}

const ZonePermission* Cohort::PermissionFor(ZoneIndex zone) const {
  for (const auto& p : permissions) {
    if (p.zone == zone) return &p;
  }
  return nullptr;
}

std::string SeparationRule::Label(const ZonePolicy& policy) const {
  return a + "/" + b + " @ " + std::string(policy.ZoneId(zone));
}

std::string_view ZoneAccessName(ZoneAccess a) {
  switch (a) {
    case ZoneAccess::kOpen: return "open";
    case ZoneAccess::kClosed: return "closed";
    case ZoneAccess::kRestricted: return "restricted";
    case ZoneAccess::kCohorts: return "cohorts";
  }
  return "unknown";
}

bool CampusMode::Admits(HealthColour c) const {
  return std::find(health_admitted.begin(), health_admitted.end(), c) != health_admitted.end();
}

ZoneIndex ZonePolicy::FindZone(std::string_view id) const {
  for (size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].id == id) return static_cast<ZoneIndex>(i);
  }
  return kOutside;
}

const Cohort* ZonePolicy::FindCohort(std::string_view id) const {
  for (const auto& c : cohorts) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

int ZonePolicy::FindMode(std::string_view id) const {
  for (size_t i = 0; i < modes.size(); ++i) {
    if (modes[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

GateZones ZonePolicy::ZonesOfGate(std::string_view gate_id) const {
  auto it = gates.find(gate_id);
  return it == gates.end() ? GateZones{} : it->second;
}

std::string_view ZonePolicy::ZoneId(ZoneIndex z) const {
  if (z < 0 || static_cast<size_t>(z) >= zones.size()) return "outside";
  return zones[static_cast<size_t>(z)].id;
}

bool ZonePolicy::Within(ZoneIndex inner, ZoneIndex outer) const {
  if (outer == kOutside) return true;
  if (inner == kOutside) return false;
  const auto& path = zones[static_cast<size_t>(inner)].path;
  return std::find(path.begin(), path.end(), outer) != path.end();
}

std::shared_ptr<const ZonePolicy> ZonePolicy::Default() {
  static const std::shared_ptr<const ZonePolicy> policy = [] {
    auto p = std::make_shared<ZonePolicy>();
    p->zones.push_back(Zone{"campus", "Campus", kOutside, std::nullopt, {0}});
    CampusMode normal;
    normal.id = "normal";
    normal.description = "everything open";
    normal.zones.resize(1);
    normal.health_admitted = {HealthColour::kGreen, HealthColour::kYellow, HealthColour::kRed};
    p->modes.push_back(std::move(normal));
    p->initial_mode = "normal";
    return p;
  }();
  return policy;
}

std::string StandingZone(const ZonePolicy& policy, std::string_view gate_id, Direction d) {
  GateZones g = policy.ZonesOfGate(gate_id);
  ZoneIndex z = d == Direction::kIn ? g.outer : g.inner;
  return z == kOutside ? std::string() : std::string(policy.ZoneId(z));
}

}  // namespace cordon
