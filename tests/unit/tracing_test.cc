// Presence intervals, contact tracing and past occupancy, checked against an
// independent brute force over the raw events of a generated campus: 2,000
// people, 40 buildings, 5 days, about 100,000 events on a real SQLite file,
// with missed exit scans, denied sightings, overnight stays past the maximum
// and events committed late (a gate replaying its outbox).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "daemon/office/daily_report.h"
#include "daemon/office/occupancy.h"
#include "daemon/office/tracing.h"
#include "daemon/storage/sqlite_store.h"
#include "tests/support/process.h"

namespace cordon {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

constexpr int kPeople = 2000;
constexpr int kBuildings = 40;
constexpr int kDays = 5;
const Micros kOffset = hours(8);
// 2026-09-21 00:00 campus local time.
const TimePoint kStart = FromUnixMicros(1'789'948'800'000'000) - kOffset;
// After every generated scan (a day's visits can run past midnight).
const TimePoint kNow = kStart + days(kDays + 2);

Micros MaxStay(std::string_view zone) { return zone == "campus" ? Micros::max() / 4 : hours(12); }

struct RawEvent {
  PersonId person = 0;
  TimePoint at;
  std::string at_zone;
  bool moved = false;
  std::string to_zone;
};

std::string Building(int b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "b%02d", b);
  return buf;
}

// Each person's days: into the campus (or out of a dorm), 2-6 buildings,
// then home or a dorm for the night. Some exits are never scanned, some
// scans are refused; the person's physical path stays consistent.
std::vector<RawEvent> GenerateCampus(std::mt19937& rng) {
  std::vector<RawEvent> events;
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  for (PersonId p = 1; p <= kPeople; ++p) {
    std::string where;  // physically: "" outside, "campus", or a building
    for (int d = 0; d < kDays; ++d) {
      TimePoint t = kStart + days(d) + hours(6) + minutes(pick(0, 180)) + std::chrono::seconds(pick(0, 59));
      auto emit = [&](std::string at_zone, bool moved, std::string to) {
        events.push_back({p, t, at_zone, moved, to});
        if (moved) where = to;
        t += std::chrono::seconds(pick(30, 600));
      };
      if (where.empty()) {
        emit("", true, "campus");
      } else if (where != "campus") {
        if (chance(0.05)) {
          where = "campus";  // left the dorm without scanning
        } else {
          emit(where, true, "campus");
        }
      }
      for (int v = pick(2, 6); v > 0; --v) {
        std::string b = Building(pick(0, kBuildings - 1));
        emit("campus", true, b);
        t += minutes(pick(5, 180));
        if (chance(0.05)) {
          where = "campus";  // tailgated out: no exit scan
        } else {
          emit(b, true, "campus");
        }
        if (chance(0.03)) emit(chance(0.5) ? "campus" : Building(pick(0, kBuildings - 1)), false, "");
        t += minutes(pick(1, 40));
      }
      if (chance(0.2)) {
        emit("campus", true, Building(pick(0, 4)));  // a night in a dorm
      } else {
        emit("campus", true, "");
      }
    }
  }
  return events;
}

struct Interval {
  PersonId person = 0;
  std::string zone;
  TimePoint begin;
  TimePoint end;
  bool inferred = false;
};

// The brute force: walk each person's scans in time order; an exit is the
// scan leaving the zone; a scan anywhere else means the exit was missed
// (inferred at that scan or the maximum stay, whichever is first).
std::vector<Interval> BruteIntervals(std::vector<RawEvent> events) {
  std::stable_sort(events.begin(), events.end(), [](const RawEvent& a, const RawEvent& b) {
    return a.person != b.person ? a.person < b.person : a.at < b.at;
  });
  std::vector<Interval> out;
  std::optional<Interval> open;
  PersonId current = 0;
  auto finish_open = [&] {
    if (!open) return;
    TimePoint cap = open->begin + std::min(MaxStay(open->zone), kNow - open->begin);
    open->end = cap;
    open->inferred = cap < kNow;
    out.push_back(*open);
    open.reset();
  };
  for (const RawEvent& e : events) {
    if (e.person != current) {
      finish_open();
      current = e.person;
    }
    if (open && e.at_zone != open->zone) {
      open->end = std::min(e.at, open->begin + MaxStay(open->zone));
      open->inferred = true;
      out.push_back(*open);
      open.reset();
    } else if (open && e.moved && e.to_zone != open->zone) {
      open->end = e.at;
      out.push_back(*open);
      open.reset();
    }
    if (e.moved && !e.to_zone.empty() && !open) open = Interval{e.person, e.to_zone, e.at, e.at, false};
  }
  finish_open();
  return out;
}

struct BruteContact {
  Micros exposure{0};
  bool inferred = false;
  TimePoint first = TimePoint::max();
};

int64_t LocalDay(TimePoint t) {
  return std::chrono::floor<days>(t + kOffset).time_since_epoch().count();
}

// Every pair of intervals in the same room (not the open grounds).
void BruteTrace(const std::vector<Interval>& all, PersonId index, TimePoint from, TimePoint to,
                Micros minimum, std::map<PersonId, BruteContact>& contacts,
                std::map<PersonId, BruteContact>& below, std::set<PersonId>& ruled_out) {
  std::vector<const Interval*> mine;
  std::set<std::pair<std::string, int64_t>> zone_days;
  for (const Interval& i : all) {
    if (i.person != index || i.zone == "campus") continue;
    TimePoint b = std::max(i.begin, from), e = std::min(i.end, to);
    if (e <= b) continue;
    mine.push_back(&i);
    for (int64_t d = LocalDay(b); d <= LocalDay(e - Micros(1)); ++d) zone_days.emplace(i.zone, d);
  }
  std::map<PersonId, BruteContact> all_overlaps;
  std::set<PersonId> same_day;
  for (const Interval& o : all) {
    if (o.person == index || o.zone == "campus") continue;
    TimePoint ob = std::max(o.begin, from), oe = std::min(o.end, to);
    if (oe <= ob) continue;
    for (int64_t d = LocalDay(ob); d <= LocalDay(oe - Micros(1)); ++d) {
      if (zone_days.count({o.zone, d})) same_day.insert(o.person);
    }
    for (const Interval* m : mine) {
      if (m->zone != o.zone) continue;
      TimePoint b = std::max({ob, m->begin, from}), e = std::min({oe, m->end, to});
      if (e <= b) continue;
      BruteContact& c = all_overlaps[o.person];
      c.exposure += e - b;
      c.inferred = c.inferred || o.inferred || m->inferred;
      c.first = std::min(c.first, b);
    }
  }
  for (const auto& [id, c] : all_overlaps) (c.exposure >= minimum ? contacts : below)[id] = c;
  for (PersonId id : same_day) {
    if (!all_overlaps.count(id)) ruled_out.insert(id);
  }
}

ZonePolicy Layout() {
  ZonePolicy z;
  z.utc_offset = kOffset;
  z.zones.push_back(Zone{"campus", "Campus", kOutside, std::nullopt, {0}});
  for (int b = 0; b < kBuildings; ++b) {
    z.zones.push_back(Zone{Building(b), Building(b), 0, std::nullopt, {0, b + 1}});
  }
  return z;
}

class Tracing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("tracing"));
    auto store = storage::SqliteStore::Open(*dir_ + "/cordon.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    store_->SetMaxStay(MaxStay);
    std::mt19937 rng(20221122);
    events_ = new std::vector<RawEvent>(GenerateCampus(rng));
    // Commit in time order in batches, except 2% held back and committed
    // last, as a gate replaying its offline outbox would.
    std::vector<size_t> order(events_->size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [](size_t a, size_t b) { return (*events_)[a].at < (*events_)[b].at; });
    std::vector<size_t> on_time, late;
    for (size_t i : order) (std::bernoulli_distribution(0.02)(rng) ? late : on_time).push_back(i);
    late_ = late.size();
    uint64_t seq = 0;
    auto commit = [&](const std::vector<size_t>& which) {
      std::vector<storage::RecordedEvent> batch;
      auto flush = [&] {
        auto st = store_->CommitEvents(batch);
        ASSERT_TRUE(st.ok()) << st;
        batch.clear();
      };
      for (size_t i : which) {
        const RawEvent& r = (*events_)[i];
        storage::RecordedEvent e;
        e.gate = 1;
        e.incarnation = 1;
        e.seq = ++seq;
        e.person = r.person;
        e.direction = r.at_zone.empty() || r.to_zone != "campus" ? Direction::kIn : Direction::kOut;
        e.occurred_at = e.gate_time = e.received_at = e.decided_at = r.at;
        e.allowed = r.moved;
        e.reason = r.moved ? Reason::kAllowStudent : Reason::kDenyAlreadyOnCampus;
        e.zone = r.to_zone;
        e.at_zone = r.at_zone;
        batch.push_back(std::move(e));
        if (batch.size() == 1000) flush();
      }
      if (!batch.empty()) flush();
    };
    commit(on_time);
    commit(late);
    intervals_ = new std::vector<Interval>(BruteIntervals(*events_));
  }
  static void TearDownTestSuite() {
    delete store_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete events_;
    delete intervals_;
  }

  static inline std::string* dir_ = nullptr;
  static inline storage::SqliteStore* store_ = nullptr;
  static inline std::vector<RawEvent>* events_ = nullptr;
  static inline std::vector<Interval>* intervals_ = nullptr;
  static inline size_t late_ = 0;
};

TEST_F(Tracing, IntervalsKeptAtIngestEqualTheBruteForceForEveryone) {
  ASSERT_GT(events_->size(), 80'000u);
  ASSERT_GT(late_, 1'000u);
  std::map<PersonId, std::vector<Interval>> expected;
  size_t inferred = 0;
  for (const Interval& i : *intervals_) {
    expected[i.person].push_back(i);
    inferred += i.inferred;
  }
  ASSERT_GT(inferred, 1'000u) << "the campus must exercise inferred exits";
  for (PersonId p = 1; p <= kPeople; ++p) {
    auto stays = store_->StaysOf(p, kStart - days(1), kNow, kNow);
    ASSERT_TRUE(stays.ok()) << stays.status();
    const auto& want = expected[p];
    ASSERT_EQ(stays->size(), want.size()) << "person " << p;
    for (size_t k = 0; k < want.size(); ++k) {
      const Stay& s = (*stays)[k];
      ASSERT_EQ(s.zone, want[k].zone) << "person " << p << " stay " << k;
      ASSERT_EQ(s.begin, want[k].begin) << "person " << p << " stay " << k;
      ASSERT_EQ(s.end, want[k].end) << "person " << p << " stay " << k;
      ASSERT_EQ(s.inferred, want[k].inferred) << "person " << p << " stay " << k;
    }
  }
}

TEST_F(Tracing, ContactsAndExposureEqualTheBruteForce) {
  ZonePolicy zones = Layout();
  std::mt19937 rng(7);
  TimePoint from = kStart + days(1) + hours(5);
  TimePoint to = kStart + days(4) + hours(13);
  size_t total_contacts = 0, total_below = 0, total_ruled_out = 0;
  for (int n = 0; n < 40; ++n) {
    PersonId index = std::uniform_int_distribution<PersonId>(1, kPeople)(rng);
    office::TraceRequest r{index, from, to, minutes(15), false, true, kNow};
    auto report = office::TraceContacts(*store_, zones, r);
    ASSERT_TRUE(report.ok()) << report.status();
    std::map<PersonId, BruteContact> contacts, below;
    std::set<PersonId> ruled_out;
    BruteTrace(*intervals_, index, from, to, minutes(15), contacts, below, ruled_out);
    ASSERT_EQ(report->contacts.size(), contacts.size()) << "index " << index;
    for (const auto& c : report->contacts) {
      ASSERT_TRUE(contacts.count(c.contact.person)) << "index " << index << " contact " << c.contact.person;
      EXPECT_EQ(c.contact.exposure, contacts[c.contact.person].exposure) << c.contact.person;
      EXPECT_EQ(c.contact.inferred, contacts[c.contact.person].inferred) << c.contact.person;
      EXPECT_EQ(c.contact.first, contacts[c.contact.person].first) << c.contact.person;
    }
    ASSERT_EQ(report->below_minimum.size(), below.size()) << "index " << index;
    for (const auto& c : report->below_minimum) {
      EXPECT_EQ(c.exposure, below[c.person].exposure) << c.person;
    }
    EXPECT_EQ(std::set<PersonId>(report->ruled_out.begin(), report->ruled_out.end()), ruled_out)
        << "index " << index;
    total_contacts += contacts.size();
    total_below += below.size();
    total_ruled_out += ruled_out.size();
  }
  // The campus is dense enough for every list to matter.
  EXPECT_GT(total_contacts, 400u);
  EXPECT_GT(total_below, 400u);
  EXPECT_GT(total_ruled_out, 400u);
}

TEST_F(Tracing, SecondGenerationEqualsTheBruteForce) {
  ZonePolicy zones = Layout();
  TimePoint from = kStart + days(2);
  TimePoint to = kStart + days(3);
  for (PersonId index : {PersonId{11}, PersonId{777}, PersonId{1500}}) {
    office::TraceRequest r{index, from, to, minutes(30), true, false, kNow};
    auto report = office::TraceContacts(*store_, zones, r);
    ASSERT_TRUE(report.ok()) << report.status();
    std::map<PersonId, BruteContact> first, below;
    std::set<PersonId> ruled_out;
    BruteTrace(*intervals_, index, from, to, minutes(30), first, below, ruled_out);
    // Each contact's own contacts from their first contact on; the strongest link wins.
    std::map<PersonId, Micros> second;
    for (const auto& [c, link] : first) {
      std::map<PersonId, BruteContact> theirs, their_below;
      std::set<PersonId> ignored;
      BruteTrace(*intervals_, c, link.first, to, minutes(30), theirs, their_below, ignored);
      for (const auto& [id, x] : theirs) {
        if (id == index || first.count(id)) continue;
        second[id] = std::max(second[id], x.exposure);
      }
    }
    std::map<PersonId, Micros> got_first, got_second;
    for (const auto& c : report->contacts) {
      (c.generation == 1 ? got_first : got_second)[c.contact.person] = c.contact.exposure;
    }
    ASSERT_EQ(got_first.size(), first.size());
    EXPECT_EQ(got_second, second) << "index " << index;
    EXPECT_FALSE(second.empty());
  }
}

TEST_F(Tracing, PastOccupancyEqualsTheBruteForce) {
  ZonePolicy zones = Layout();
  for (TimePoint at : {kStart + days(1) + hours(12), kStart + days(3) + hours(2) + minutes(17),
                       kStart + days(4) + hours(9)}) {
    auto counts = office::OccupancyAt(*store_, zones, 0, at, kNow, false);
    ASSERT_TRUE(counts.ok()) << counts.status();
    std::map<std::string, int64_t> want;
    int64_t total = 0;
    for (const Interval& i : *intervals_) {
      if (i.begin <= at && at < i.end) {
        ++want[i.zone];
        ++total;
      }
    }
    ASSERT_EQ(counts->size(), zones.zones.size());
    EXPECT_EQ((*counts)[0].count, total);
    EXPECT_GT(total, 100);
    for (const auto& c : *counts) {
      EXPECT_EQ(c.directly, want[zones.zones[static_cast<size_t>(c.zone)].id])
          << zones.zones[static_cast<size_t>(c.zone)].id;
    }
  }
}

// The daily briefing's "today" is the campus's date, either side of its
// midnight, whatever the asker's clock says.
TEST(CampusDay, TodayIsTheCampusDateEitherSideOfItsMidnight) {
  const Micros plus8 = std::chrono::hours(8), minus5 = -std::chrono::hours(5);
  const TimePoint midnight_at_plus8 = FromUnixMicros(1'795'449'600'000'000);  // 2026-11-23T16:00Z
  EXPECT_EQ(office::CampusDate(midnight_at_plus8 - Micros(1), plus8), "2026-11-23");
  EXPECT_EQ(office::CampusDate(midnight_at_plus8, plus8), "2026-11-24");
  EXPECT_EQ(office::CampusDate(midnight_at_plus8, minus5), "2026-11-23");
  EXPECT_EQ(office::CampusDate(midnight_at_plus8, Micros(0)), "2026-11-23");
  // And the day it names begins at that midnight.
  auto day = office::LocalDay(office::CampusDate(midnight_at_plus8, plus8), plus8);
  ASSERT_TRUE(day);
  EXPECT_EQ(day->first, midnight_at_plus8);
}

}  // namespace
}  // namespace cordon
