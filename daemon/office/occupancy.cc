#include "daemon/office/occupancy.h"

#include <algorithm>
#include <string>

#include "core/status_macros.h"

namespace cordon::office {
namespace {

std::vector<ZoneIndex> ZonesWithin(const ZonePolicy& zones, ZoneIndex within) {
  std::vector<ZoneIndex> out;
  for (ZoneIndex z = 0; z < static_cast<ZoneIndex>(zones.zones.size()); ++z) {
    if (zones.Within(z, within)) out.push_back(z);
  }
  return out;
}

// Fills `count` from `directly`: everyone in a zone or below it.
void AddUp(const ZonePolicy& zones, std::vector<ZoneCount>& counts) {
  std::vector<int64_t> total(zones.zones.size(), 0);
  for (const ZoneCount& c : counts) {
    for (ZoneIndex z : zones.zones[static_cast<size_t>(c.zone)].path) {
      total[static_cast<size_t>(z)] += c.directly;
    }
  }
  for (ZoneCount& c : counts) c.count = total[static_cast<size_t>(c.zone)];
}

}  // namespace

std::vector<ZoneCount> OccupancyNow(const presence::CampusPresence& presence,
                                    const ZonePolicy& zones, ZoneIndex within, bool with_people) {
  std::vector<ZoneIndex> chosen = ZonesWithin(zones, within);
  std::vector<std::string> ids;
  ids.reserve(chosen.size());
  for (ZoneIndex z : chosen) ids.emplace_back(zones.ZoneId(z));
  std::vector<int64_t> counts = presence.OccupancyOf(ids);
  std::vector<ZoneCount> out(chosen.size());
  std::vector<int64_t> below(zones.zones.size(), 0);  // in zones directly inside
  for (size_t i = 0; i < chosen.size(); ++i) {
    out[i].zone = chosen[i];
    out[i].count = counts[i];
    ZoneIndex parent = zones.zones[static_cast<size_t>(chosen[i])].parent;
    if (parent != kOutside) below[static_cast<size_t>(parent)] += counts[i];
  }
  for (ZoneCount& c : out) c.directly = c.count - below[static_cast<size_t>(c.zone)];
  if (with_people) {
    std::vector<size_t> slot(zones.zones.size(), SIZE_MAX);
    for (size_t i = 0; i < out.size(); ++i) slot[static_cast<size_t>(out[i].zone)] = i;
    for (const auto& [person, where] : presence.OnCampus()) {
      if (where.path.empty()) continue;
      ZoneIndex z = zones.FindZone(where.path.back());
      if (z != kOutside && slot[static_cast<size_t>(z)] != SIZE_MAX) {
        out[slot[static_cast<size_t>(z)]].people.push_back(person);
      }
    }
    for (ZoneCount& c : out) std::sort(c.people.begin(), c.people.end());
  }
  return out;
}

absl::StatusOr<std::vector<ZoneCount>> OccupancyAt(storage::Store& store, const ZonePolicy& zones,
                                                   ZoneIndex within, TimePoint at, TimePoint now,
                                                   bool with_people) {
  std::vector<ZoneIndex> chosen = ZonesWithin(zones, within);
  std::vector<storage::ZoneSpan> spans;
  for (ZoneIndex z : chosen) spans.push_back({std::string(zones.ZoneId(z)), at, at + Micros(1)});
  CORDON_ASSIGN_OR_RETURN(std::vector<Stay> stays, store.StaysInZones(spans, std::max(now, at)));
  std::vector<ZoneCount> all(zones.zones.size());
  for (size_t z = 0; z < all.size(); ++z) all[z].zone = static_cast<ZoneIndex>(z);
  for (const Stay& s : stays) {
    if (s.begin > at || s.end <= at) continue;
    ZoneIndex z = zones.FindZone(s.zone);
    if (z == kOutside) continue;
    all[static_cast<size_t>(z)].directly += 1;
    if (with_people) all[static_cast<size_t>(z)].people.push_back(s.person);
  }
  AddUp(zones, all);
  std::vector<ZoneCount> out;
  for (ZoneIndex z : chosen) {
    ZoneCount& c = all[static_cast<size_t>(z)];
    std::sort(c.people.begin(), c.people.end());
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace cordon::office
