#include "daemon/office/tracing.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/status_macros.h"

namespace cordon::office {
namespace {

// The spans to read for `stays` within [from, to): each stay, or (for the
// ruled-out list) each campus-local day it touches; merged per zone so no
// range is read twice.
std::vector<storage::ZoneSpan> SpansToRead(const std::vector<Stay>& stays, TimePoint from,
                                           TimePoint to, bool whole_days,
                                           const ZonePolicy& zones) {
  const std::string_view root = zones.zones.front().id;
  std::map<std::string, std::vector<std::pair<TimePoint, TimePoint>>> by_zone;
  for (const Stay& s : stays) {
    if (s.zone == root) continue;
    TimePoint b = std::max(s.begin, from);
    TimePoint e = std::min(s.end, to);
    if (e <= b) continue;
    if (whole_days) {
      auto day = [&](TimePoint t) {
        return std::chrono::floor<std::chrono::days>(t + zones.utc_offset) - zones.utc_offset;
      };
      b = std::max(day(b), from);
      e = std::min(day(e - Micros(1)) + std::chrono::days(1), to);
    }
    by_zone[s.zone].emplace_back(b, e);
  }
  std::vector<storage::ZoneSpan> out;
  for (auto& [zone, ranges] : by_zone) {
    std::sort(ranges.begin(), ranges.end());
    for (const auto& [b, e] : ranges) {
      if (!out.empty() && out.back().zone == zone && b <= out.back().to) {
        out.back().to = std::max(out.back().to, e);
      } else {
        out.push_back({zone, b, e});
      }
    }
  }
  return out;
}

struct OneTrace {
  std::vector<Stay> index_stays;
  ContactTrace trace;
  int64_t stays_read = 0;
};

absl::StatusOr<OneTrace> TraceOne(storage::Store& store, const ZonePolicy& zones, PersonId person,
                                  TimePoint from, TimePoint to, Micros min_exposure,
                                  bool ruled_out, TimePoint now) {
  OneTrace one;
  CORDON_ASSIGN_OR_RETURN(one.index_stays, store.StaysOf(person, from, to, now));
  auto spans = SpansToRead(one.index_stays, from, to, ruled_out, zones);
  CORDON_ASSIGN_OR_RETURN(std::vector<Stay> others, store.StaysInZones(spans, now));
  one.stays_read = static_cast<int64_t>(one.index_stays.size() + others.size());
  const std::string_view root = zones.zones.front().id;
  std::erase_if(one.index_stays, [](const Stay& s) { return s.end <= s.begin; });
  std::vector<Stay> traced;
  for (const Stay& s : one.index_stays) {
    if (s.zone != root) traced.push_back(s);
  }
  one.trace = FindContacts(person, traced, others,
                           TraceWindow{from, to, min_exposure, zones.utc_offset});
  return one;
}

}  // namespace

absl::StatusOr<TraceReport> TraceContacts(storage::Store& store, const ZonePolicy& zones,
                                          const TraceRequest& r) {
  CORDON_ASSIGN_OR_RETURN(OneTrace first, TraceOne(store, zones, r.person, r.from, r.to,
                                                   r.min_exposure, r.ruled_out, r.now));
  TraceReport report;
  report.index_stays = std::move(first.index_stays);
  report.below_minimum = std::move(first.trace.below);
  report.ruled_out = std::move(first.trace.ruled_out);
  report.stays_read = first.stays_read;
  std::set<PersonId> known{r.person};
  for (Contact& c : first.trace.contacts) {
    known.insert(c.person);
    report.contacts.push_back({std::move(c), 1});
  }
  if (!r.second_generation) return report;

  // Each contact from the moment they first met the index case: a second
  // generation contact keeps the strongest link.
  std::map<PersonId, Contact> second;
  size_t first_generation = report.contacts.size();
  for (size_t i = 0; i < first_generation; ++i) {
    const Contact& via = report.contacts[i].contact;
    CORDON_ASSIGN_OR_RETURN(OneTrace next, TraceOne(store, zones, via.person, via.first, r.to,
                                                    r.min_exposure, false, r.now));
    report.stays_read += next.stays_read;
    for (Contact& c : next.trace.contacts) {
      if (known.count(c.person)) continue;
      c.via = via.person;
      auto [it, fresh] = second.try_emplace(c.person, c);
      if (!fresh && c.exposure > it->second.exposure) it->second = std::move(c);
    }
  }
  std::vector<Contact> more;
  for (auto& [id, c] : second) more.push_back(std::move(c));
  std::sort(more.begin(), more.end(), [](const Contact& a, const Contact& b) {
    return a.exposure != b.exposure ? a.exposure > b.exposure : a.person < b.person;
  });
  for (Contact& c : more) report.contacts.push_back({std::move(c), 2});
  return report;
}

}  // namespace cordon::office
