// Presence intervals: (person, zone, entered, exited) derived from each
// person's movements as they are recorded, so the security office's
// questions (who was where, with whom) read intervals instead of replaying
// the journal.
//
// A person is in one innermost zone at a time. Each sighting (a scan, allowed
// or not) either fits the open interval (the person stood in that zone) or
// proves the person was elsewhere: then the exit that never came is inferred,
// at the sighting or at the zone's maximum stay, whichever is earlier.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/model.h"
#include "core/time.h"

namespace cordon {

// One recorded scan as the interval tracker sees it.
struct Sighting {
  TimePoint at;
  std::string at_zone;  // where the person stood: the gate's outer side for an
                        // entry, its inner side for an exit; "" = outside
  bool moved = false;   // allowed: the person passed the gate
  std::string to_zone;  // after an allowed scan; "" = outside the campus
  int64_t event_id = 0;
};

struct OpenInterval {
  std::string zone;
  TimePoint since;
};

// What one sighting does to a person's intervals.
struct IntervalStep {
  struct Close {
    TimePoint at;
    bool inferred = false;  // no exit scan: inferred from a sighting elsewhere or the maximum stay
    int64_t event_id = 0;   // the sighting that closed it
  };
  std::optional<Close> close;            // of the open interval
  std::optional<OpenInterval> open;      // the new one
};

// `max_stay` is the longest believable stay in the open interval's zone.
IntervalStep NextIntervalStep(const std::optional<OpenInterval>& open, const Sighting& s,
                              Micros max_stay);

// Intervals are indexed by duration class so that "which intervals overlap
// [a, b)" reads only rows entered in (a - longest of the class, b): class 0
// holds stays under a minute, class k >= 1 stays of [2^(k-1), 2^k) minutes.
inline constexpr int kOpenSpanClass = 63;  // still open: no exit yet
inline constexpr int kMaxSpanClass = 40;
int SpanClass(Micros duration);
Micros LongestInClass(int span_class);  // exclusive bound

}  // namespace cordon
