#include "core/contacts.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace cordon {
namespace {

int64_t LocalDay(TimePoint t, Micros utc_offset) {
  return std::chrono::floor<std::chrono::days>(t + utc_offset).time_since_epoch().count();
}

}  // namespace

ContactTrace FindContacts(PersonId person, std::span<const Stay> index,
                          std::span<const Stay> others, const TraceWindow& window) {
  // The index person's stays by zone, clipped to the window, in time order.
  std::map<std::string, std::vector<const Stay*>, std::less<>> mine;
  std::set<std::pair<std::string, int64_t>> zone_days;
  for (const Stay& s : index) {
    if (s.end <= window.from || s.begin >= window.to) continue;
    mine[s.zone].push_back(&s);
    for (int64_t d = LocalDay(std::max(s.begin, window.from), window.utc_offset);
         d <= LocalDay(std::min(s.end, window.to) - Micros(1), window.utc_offset); ++d) {
      zone_days.emplace(s.zone, d);
    }
  }
  for (auto& [zone, stays] : mine) {
    std::sort(stays.begin(), stays.end(), [](const Stay* a, const Stay* b) { return a->begin < b->begin; });
  }

  struct Tally {
    Contact c;
    bool overlapped = false;
    bool same_day = false;
  };
  std::unordered_map<PersonId, Tally> tally;
  std::unordered_set<int64_t> seen;
  tally.reserve(others.size());
  seen.reserve(others.size());
  for (const Stay& o : others) {
    if (o.person == person || !seen.insert(o.id).second) continue;
    auto it = mine.find(o.zone);
    if (it == mine.end()) continue;
    TimePoint ob = std::max(o.begin, window.from);
    TimePoint oe = std::min(o.end, window.to);
    if (oe <= ob) continue;
    Tally& t = tally[o.person];
    t.c.person = o.person;
    for (int64_t d = LocalDay(ob, window.utc_offset);
         !t.same_day && d <= LocalDay(oe - Micros(1), window.utc_offset); ++d) {
      t.same_day = zone_days.count({o.zone, d}) > 0;
    }
    // The index person's stays are disjoint, so overlaps add up exactly.
    for (const Stay* m : it->second) {
      if (m->begin >= oe) break;
      TimePoint b = std::max({ob, m->begin, window.from});
      TimePoint e = std::min({oe, m->end, window.to});
      if (e <= b) continue;
      if (!t.overlapped || b < t.c.first) t.c.first = b;
      if (!t.overlapped || e > t.c.last) t.c.last = e;
      t.overlapped = true;
      t.c.exposure += e - b;
      // A handful of zones per contact: a vector beats a set.
      if (std::find(t.c.zones.begin(), t.c.zones.end(), o.zone) == t.c.zones.end()) {
        t.c.zones.push_back(o.zone);
      }
      t.c.inferred = t.c.inferred || o.inferred || m->inferred;
    }
  }

  ContactTrace out;
  for (auto& [id, t] : tally) {
    if (!t.overlapped) {
      if (t.same_day) out.ruled_out.push_back(id);
      continue;
    }
    std::sort(t.c.zones.begin(), t.c.zones.end());
    (t.c.exposure >= window.min_exposure ? out.contacts : out.below).push_back(std::move(t.c));
  }
  auto by_exposure = [](const Contact& a, const Contact& b) {
    return a.exposure != b.exposure ? a.exposure > b.exposure : a.person < b.person;
  };
  std::sort(out.contacts.begin(), out.contacts.end(), by_exposure);
  std::sort(out.below.begin(), out.below.end(), by_exposure);
  std::sort(out.ruled_out.begin(), out.ruled_out.end());
  return out;
}

}  // namespace cordon
