// Occupancy per zone: now from the daemon's memory (a copy of its counters),
// or as of a past time from the presence intervals.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "core/zones.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/storage/store.h"

namespace cordon::office {

struct ZoneCount {
  ZoneIndex zone = 0;
  int64_t count = 0;     // in the zone or below it
  int64_t directly = 0;  // in the zone itself
  std::vector<PersonId> people;  // directly in it, when asked for
};

// `within`: only this zone and those below it (0: every zone).
std::vector<ZoneCount> OccupancyNow(const presence::CampusPresence& presence,
                                    const ZonePolicy& zones, ZoneIndex within, bool with_people);

absl::StatusOr<std::vector<ZoneCount>> OccupancyAt(storage::Store& store, const ZonePolicy& zones,
                                                   ZoneIndex within, TimePoint at, TimePoint now,
                                                   bool with_people);

}  // namespace cordon::office
