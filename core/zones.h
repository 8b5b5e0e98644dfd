// The campus layout and its rules: the zone tree, cohorts and their zone
// permissions, cohort separation rules, campus modes and which gate joins
// which zones. Administrators write it as a YAML document (policydoc/); this
// is its validated, resolved form. Immutable once built; the engine decides
// against it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace cordon {

// Numbers match proto cordon.v1.HealthColour and are stored in the database.
enum class HealthColour : uint8_t { kGreen = 1, kYellow = 2, kRed = 3 };
std::string_view HealthColourName(HealthColour c);  // "green", "yellow", "red"
std::optional<HealthColour> ParseHealthColour(std::string_view name);

// A span of the week in campus local time, [begin, end) in minutes from
// Monday 00:00. end <= begin means the span runs over the end of the week
// (Sunday 22:00 - Monday 02:00).
struct WeeklyWindow {
  int begin = 0;
  int end = 0;
  bool Contains(int minute_of_week) const;
};
inline constexpr int kMinutesPerWeek = 7 * 24 * 60;
// Minutes since Monday 00:00 in the campus's local time.
int MinuteOfWeek(TimePoint t, Micros utc_offset);

using ZoneIndex = int;
inline constexpr ZoneIndex kOutside = -1;

struct Zone {
  std::string id;    // "dorm-a"
  std::string name;  // "Dormitory block A"
  ZoneIndex parent = kOutside;
  std::optional<int> capacity;  // maximum occupancy, people at or below it
  std::vector<ZoneIndex> path;  // from the campus root down to this zone
  // The longest believable stay: an exit never scanned is inferred here.
  std::optional<Micros> max_stay;
};

struct ZonePermission {
  ZoneIndex zone = 0;
  std::vector<WeeklyWindow> windows;  // empty: at any time
};

struct Cohort {
  std::string id;
  std::string description;
  std::vector<ZonePermission> permissions;
  const ZonePermission* PermissionFor(ZoneIndex zone) const;
};

// Cohorts `a` and `b` may not be inside `zone` at the same time, and one may
// enter only `buffer` after the last of the other has left (cleaning).
struct SeparationRule {
  std::string a;
  std::string b;
  ZoneIndex zone = 0;
  Micros buffer{0};
  std::string Label(const struct ZonePolicy& policy) const;  // "students/canteen-staff @ canteen-1"
};

enum class ZoneAccess : uint8_t {
  kOpen,        // anyone who may be on campus
  kClosed,      // nobody
  kRestricted,  // only with a cohort permission for this zone, in its time windows
  kCohorts,     // only members of the listed cohorts
};
std::string_view ZoneAccessName(ZoneAccess a);

struct ZoneRule {
  ZoneAccess access = ZoneAccess::kOpen;
  std::vector<std::string> cohorts;  // for kCohorts
};

struct CampusMode {
  std::string id;  // "closed_management", "partial_reopening", "normal"
  std::string description;
  std::vector<ZoneRule> zones;  // by ZoneIndex
  std::vector<HealthColour> health_admitted = {HealthColour::kGreen};
  // Students and resident staff leave the campus only on an approved leave.
  bool leave_required = false;
  bool Admits(HealthColour c) const;
};

struct GateZones {
  ZoneIndex outer = kOutside;
  ZoneIndex inner = 0;
  bool AtCampusEdge() const { return outer == kOutside; }
};

struct ZonePolicy;
enum class Direction : uint8_t;
// Where someone scanning at the gate stands: the gate's outer zone for an
// entry, its inner zone for an exit; "" outside the campus.
std::string StandingZone(const ZonePolicy& policy, std::string_view gate_id, Direction d);

struct ZonePolicy {
  Micros utc_offset{0};  // campus local time; China: +08:00, no daylight saving
  std::vector<Zone> zones;  // zones[0] is the campus itself
  std::vector<Cohort> cohorts;
  std::vector<SeparationRule> separation;
  std::vector<CampusMode> modes;
  std::string initial_mode;
  std::map<std::string, GateZones, std::less<>> gates;  // gates not listed join outside and campus
  Micros disinfection_valid = std::chrono::minutes(30);
  std::string document;  // the YAML text this was built from; empty for the default

  ZoneIndex FindZone(std::string_view id) const;  // kOutside if unknown
  const Cohort* FindCohort(std::string_view id) const;
  int FindMode(std::string_view id) const;  // -1 if unknown
  GateZones ZonesOfGate(std::string_view gate_id) const;
  std::string_view ZoneId(ZoneIndex z) const;  // "outside" for kOutside
  // True if `inner` is `outer` or lies below it.
  bool Within(ZoneIndex inner, ZoneIndex outer) const;

  // No document yet: one zone, "campus", open in one mode, "normal", that
  // admits every health colour and needs no leave.
  static std::shared_ptr<const ZonePolicy> Default();
};

}  // namespace cordon
