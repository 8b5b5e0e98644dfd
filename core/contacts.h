// Contact tracing over presence intervals: who shared a zone with the index
// person, for how long in total, and who was in the same zones the same day
// without overlapping (ruled out). Pure: the caller reads the intervals.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/time.h"

namespace cordon {

// A stay of one person in one zone, [begin, end), as read for tracing (an
// open interval already ended at the query's "now" or its maximum stay).
struct Stay {
  int64_t id = 0;  // interval id: a stay read twice counts once
  PersonId person = 0;
  std::string zone;
  TimePoint begin;
  TimePoint end;
  bool inferred = false;  // its exit was inferred, not scanned
};

struct Contact {
  PersonId person = 0;
  Micros exposure{0};              // total overlap in [from, to)
  std::vector<std::string> zones;  // where they overlapped, sorted
  TimePoint first;                 // first and last instant of overlap
  TimePoint last;
  bool inferred = false;  // some overlap rests on an inferred exit
  PersonId via = 0;       // second generation: the first-generation contact
};

struct ContactTrace {
  std::vector<Contact> contacts;  // exposure >= minimum, largest first
  std::vector<Contact> below;     // overlapped, but less than the minimum
  // Same zone on the same campus-local day, no overlap at all.
  std::vector<PersonId> ruled_out;
};

struct TraceWindow {
  TimePoint from;
  TimePoint to;
  Micros min_exposure{0};
  Micros utc_offset{0};  // campus local time, for "the same day"
};

// `index` are the index person's stays; `others` anyone's stays in the same
// zones (the index person's own are ignored, duplicates by id counted once).
ContactTrace FindContacts(PersonId person, std::span<const Stay> index,
                          std::span<const Stay> others, const TraceWindow& window);

}  // namespace cordon
