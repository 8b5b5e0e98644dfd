// Contact tracing: reads the index case's stays and the stays that overlap
// them from the presence intervals, and finds contacts with core/contacts.
// The campus root is open ground, not a shared room: a stay there makes no
// contact.
#pragma once

#include "absl/status/statusor.h"
#include "core/contacts.h"
#include "core/zones.h"
#include "daemon/storage/store.h"

namespace cordon::office {

struct TraceRequest {
  PersonId person = 0;
  TimePoint from;
  TimePoint to;
  Micros min_exposure = std::chrono::minutes(15);
  bool second_generation = false;
  bool ruled_out = false;
  TimePoint now;  // open stays end here
};

struct TracedContact {
  Contact contact;
  int generation = 1;
};

struct TraceReport {
  std::vector<Stay> index_stays;
  std::vector<TracedContact> contacts;  // generation 1 (longest first), then generation 2
  std::vector<Contact> below_minimum;   // generation 1
  std::vector<PersonId> ruled_out;
  int64_t stays_read = 0;
};

absl::StatusOr<TraceReport> TraceContacts(storage::Store& store, const ZonePolicy& zones,
                                          const TraceRequest& request);

}  // namespace cordon::office
