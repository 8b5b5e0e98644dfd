// The security office's queries on a campus-sized store, each beside the
// plain-SQL way of asking the same thing, measured in the same run:
//   - one person's movements (a page of 100)
//   - contact tracing over 14 days
//   - occupancy of every zone now
//   - the daily briefing of a past day
//   - decision and commit latency while tracing queries run, against without
//
// The store is generated through the real ingest path (SqliteStore::
// CommitEvents, which keeps the presence intervals): 30 days, 60,000 people,
// 300 zones, 8 scans per person per day = 14.4 M events. It is kept at PATH
// and reused by later runs.
//
//   office_bench PATH [people=60000] [days=30] [steps=12345]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "daemon/office/daily_report.h"
#include "daemon/office/occupancy.h"
#include "daemon/office/tracing.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/storage/journal_writer.h"
#include "daemon/storage/person_days.h"
#include "daemon/storage/sqlite_store.h"

namespace {

using namespace cordon;
using Steady = std::chrono::steady_clock;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

constexpr int kZones = 300;  // the campus and 299 buildings
const Micros kOffset = hours(8);
const TimePoint kStart = FromUnixMicros(1'790'812'800'000'000) - kOffset;  // 2026-10-01 00:00 local

std::string Building(int b) { return "b" + std::to_string(b); }

std::shared_ptr<const ZonePolicy> Layout() {
  auto z = std::make_shared<ZonePolicy>();
  z->utc_offset = kOffset;
  z->zones.push_back(Zone{"campus", "Campus", kOutside, std::nullopt, {0}});
  for (int b = 1; b < kZones; ++b) z->zones.push_back(Zone{Building(b), Building(b), 0, std::nullopt, {0, b}});
  z->modes.push_back(CampusMode{"normal", "", std::vector<ZoneRule>(kZones),
                                {HealthColour::kGreen, HealthColour::kYellow}, false});
  z->initial_mode = "normal";
  return z;
}

Micros MaxStay(std::string_view zone) { return zone == "campus" ? Micros::max() / 4 : hours(16); }

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Us(Steady::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles Summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  return {at(0.50), at(0.99), v.back()};
}

void Generate(storage::SqliteStore& store, const CredentialHasher& hasher, int people, int ndays) {
  std::vector<PersonRecord> roster;
  for (int p = 1; p <= people; ++p) {
    roster.push_back({Person{0, "P" + std::to_string(p), "Person " + std::to_string(p), PersonCategory::kStudent},
                      std::vector{hasher.Hash("CARD-" + std::to_string(p))}});
  }
  auto stored = store.UpsertPeople(roster, 1, kStart);
  if (!stored.ok()) std::abort();
  std::mt19937 rng(42);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  uint64_t seq = 0;
  size_t total = 0;
  auto started = Steady::now();
  for (int d = 0; d < ndays; ++d) {
    std::vector<storage::RecordedEvent> day;
    day.reserve(static_cast<size_t>(people) * 8);
    for (int p = 1; p <= people; ++p) {
      PersonId id = (*stored)[static_cast<size_t>(p - 1)].id;
      TimePoint t = kStart + days(d) + hours(7) + minutes(pick(0, 120)) + std::chrono::seconds(pick(0, 59));
      auto emit = [&](std::string at, std::string to, Direction dir) {
        storage::RecordedEvent e;
        e.gate = 1;
        e.incarnation = 1;
        e.person = id;
        e.credential = hasher.Hash("CARD-" + std::to_string(p));
        e.direction = dir;
        e.occurred_at = e.gate_time = e.received_at = e.decided_at = t;
        e.allowed = true;
        e.reason = Reason::kAllowStudent;
        e.policy_version = 1;
        e.at_zone = std::move(at);
        e.zone = std::move(to);
        e.rule = "student";
        day.push_back(std::move(e));
      };
      emit("", "campus", Direction::kIn);
      for (int v = 0; v < 3; ++v) {
        std::string b = Building(pick(1, kZones - 1));
        t += minutes(pick(2, 30));
        emit("campus", b, Direction::kIn);
        t += minutes(pick(20, 120));
        emit(b, "campus", Direction::kOut);
      }
      t += minutes(pick(1, 20));
      emit("campus", "", Direction::kOut);
    }
    std::sort(day.begin(), day.end(), [](const auto& a, const auto& b) { return a.occurred_at < b.occurred_at; });
    for (auto& e : day) e.seq = ++seq;
    for (size_t i = 0; i < day.size(); i += 4096) {
      std::span<const storage::RecordedEvent> batch(day.data() + i, std::min<size_t>(4096, day.size() - i));
      if (auto st = store.CommitEvents(batch); !st.ok()) {
        std::fprintf(stderr, "commit: %s\n", st.ToString().c_str());
        std::abort();
      }
    }
    total += day.size();
    std::fprintf(stderr, "generated day %d of %d: %zu events, %.0f events/s with intervals\n", d + 1,
                 ndays, total, static_cast<double>(total) / std::chrono::duration<double>(Steady::now() - started).count());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: office_bench PATH [people=60000] [days=30]\n");
    return 2;
  }
  std::string path = argv[1];
  int people = argc > 2 ? std::atoi(argv[2]) : 60000;
  int ndays = argc > 3 ? std::atoi(argv[3]) : 30;
  CredentialHasher hasher(std::string(32, 'k'));
  bool fresh = !std::filesystem::exists(path);
  auto opened = storage::SqliteStore::Open(path);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  storage::SqliteStore& store = **opened;
  store.SetMaxStay(MaxStay);
  if (fresh) Generate(store, hasher, people, ndays);
  // Figures appear as they are measured, even when piped.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string steps = argc > 4 ? argv[4] : "12345";
  auto step = [&](char n) { return steps.find(n) != std::string::npos; };
  auto zones = Layout();
  const TimePoint now = kStart + days(ndays);
  auto events = store.CountEvents();
  auto raw = sqlite::Database::Open(path, sqlite::Database::Mode::kReadOnly);
  if (!raw.ok()) return 1;
  std::printf("store: %lld events, %d people, %d zones, %d days, %.2f GB\n",
              static_cast<long long>(events.value_or(0)), people, kZones, ndays,
              static_cast<double>(std::filesystem::file_size(path)) / 1e9);
  std::mt19937 rng(7);
  auto person = [&] { return static_cast<PersonId>(std::uniform_int_distribution<int>(1, people)(rng)); };

  // 1. One person's movements, a page of 100 over the 30 days.
  if (step('1')) {
    std::vector<double> ours, plain;
    // The per-person index is keyed by day (schema v10): the plain query
    // seeks each day of the window, as ours does.
    auto stmt = raw->Prepare(
        "WITH RECURSIVE days(d) AS (SELECT ?2 UNION ALL SELECT d + 1 FROM days WHERE d < ?3) "
        "SELECT id, person_id, gate_id, seq, direction, allowed, reason, occurred_at, gate_time, "
        "policy_version, source, zone, at_zone, rule FROM days CROSS JOIN events "
        "ON occurred_at / 86400000000 = days.d AND person_id = ?1 "
        "ORDER BY occurred_at, id LIMIT 100");
    for (int i = 0; i < 2000; ++i) {
      PersonId p = person();
      storage::MovementQuery q;
      q.person = p;
      q.from = kStart;
      q.to = now;
      // Alternate which goes first: the second finds the person's pages cached.
      auto mine = [&] {
        auto t0 = Steady::now();
        auto rows = store.ListMovements(q);
        ours.push_back(Ms(Steady::now() - t0));
        if (!rows.ok() || rows->empty()) std::abort();
      };
      auto theirs = [&] {
        auto t0 = Steady::now();
        stmt->Bind(1, p).Bind(2, storage::IndexDay(ToUnixMicros(kStart)))
            .Bind(3, storage::IndexDay(ToUnixMicros(now)));
        while (*stmt->Step()) {}
        stmt->Reset();
        plain.push_back(Ms(Steady::now() - t0));
      };
      if (i % 2) {
        mine();
        theirs();
      } else {
        theirs();
        mine();
      }
    }
    auto a = Summarise(ours), b = Summarise(plain);
    std::printf("movements of one person (100 rows): p50 %.3f ms p99 %.3f ms | plain SQL p50 %.3f ms p99 %.3f ms | p99 ratio %.2f\n",
                a.p50, a.p99, b.p50, b.p99, a.p99 / b.p99);
  }

  // 2. Contact tracing over 14 days, minimum 15 minutes.
  if (step('2')) {
    std::vector<double> ours, plain;
    size_t contacts = 0;
    auto join = raw->Prepare(R"sql(
        WITH RECURSIVE days(d) AS (SELECT ?5 UNION ALL SELECT d + 1 FROM days WHERE d < ?6)
        SELECT o.person_id, sum(min(coalesce(o.exited_at, ?4), p.exited_at, ?3) - max(o.entered_at, p.entered_at, ?2)) AS overlap
        FROM days CROSS JOIN presence_intervals p
          ON p.entered_at / 86400000000 = days.d AND p.person_id = ?1
        JOIN presence_intervals o
          ON o.zone = p.zone AND o.person_id != p.person_id
         AND o.entered_at < min(p.exited_at, ?3) AND coalesce(o.exited_at, ?4) > max(p.entered_at, ?2)
        WHERE p.entered_at < ?3 AND p.exited_at > ?2 AND p.zone != 'campus'
        GROUP BY o.person_id HAVING overlap >= 900000000)sql");
    for (int i = 0; i < 200; ++i) {
      PersonId p = person();
      office::TraceRequest r{p, now - days(14), now, minutes(15), false, false, now};
      auto t0 = Steady::now();
      auto report = office::TraceContacts(store, *zones, r);
      ours.push_back(Ms(Steady::now() - t0));
      if (!report.ok()) std::abort();
      contacts += report->contacts.size();
      if (i < 20) {  // the plain join is slow: a sample
        t0 = Steady::now();
        join->Bind(1, p).Bind(2, ToUnixMicros(now - days(14))).Bind(3, ToUnixMicros(now)).Bind(4, ToUnixMicros(now));
        // Stays entered up to a day before the window (the longest here: 16 h).
        join->Bind(5, storage::IndexDay(ToUnixMicros(now - days(15))))
            .Bind(6, storage::IndexDay(ToUnixMicros(now)));
        size_t n = 0;
        while (*join->Step()) ++n;
        join->Reset();
        plain.push_back(Ms(Steady::now() - t0));
        if (n != report->contacts.size()) {
          std::fprintf(stderr, "plain join found %zu contacts, the tracer %zu (person %lld)\n", n,
                       report->contacts.size(), static_cast<long long>(p));
        }
      }
    }
    auto a = Summarise(ours), b = Summarise(plain);
    std::printf("contact tracing, 14 days (%.0f contacts each): p50 %.2f ms p99 %.2f ms | plain SQL join p50 %.1f ms p99 %.1f ms | p50 ratio %.3f\n",
                static_cast<double>(contacts) / 200, a.p50, a.p99, b.p50, b.p99, a.p50 / b.p50);
  }

  // 3. Occupancy of every zone now: memory against SQL over open intervals.
  PolicySnapshot policy;
  {
    auto loaded = store.LoadPolicy();
    if (!loaded.ok()) std::abort();
    policy = std::move(*loaded);
    policy.SetZones(zones);
  }
  presence::CampusPresence presence;
  if (!presence.Restore(store, policy).ok()) std::abort();
  {
    std::vector<double> ours, plain;
    auto stmt = raw->Prepare("SELECT zone, count(*) FROM presence_intervals WHERE span_class = 63 GROUP BY zone");
    int64_t sink = 0;
    for (int i = 0; i < 2000; ++i) {
      auto t0 = Steady::now();
      auto counts = office::OccupancyNow(presence, *zones, 0, false);
      ours.push_back(Us(Steady::now() - t0));
      sink += counts[0].count;
      if (i < 200) {
        t0 = Steady::now();
        while (*stmt->Step()) sink += stmt->Int(1);
        stmt->Reset();
        plain.push_back(Us(Steady::now() - t0));
      }
    }
    auto a = Summarise(ours), b = Summarise(plain);
    std::printf("occupancy of all %d zones now: p50 %.1f us p99 %.1f us | plain SQL p50 %.1f us p99 %.1f us | p99 ratio %.3f (%lld)\n",
                kZones, a.p50, a.p99, b.p50, b.p99, a.p99 / b.p99, static_cast<long long>(sink % 10));
  }

  // 4. The daily briefing of a past day.
  if (step('4')) {
    std::vector<double> ours, plain;
    TimePoint day = kStart + days(ndays - 2);
    auto stmt = raw->Prepare("SELECT allowed, reason, count(*) FROM events WHERE occurred_at >= ?1 AND occurred_at < ?2 GROUP BY allowed, reason");
    std::string date = "2026-10-" + std::to_string(ndays - 1);
    if (date.size() == 9) date.insert(8, "0");
    for (int i = 0; i < 5; ++i) {
      auto t0 = Steady::now();
      auto r = office::BuildDailyReport(store, presence, policy, date, now);
      ours.push_back(Ms(Steady::now() - t0));
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        std::abort();
      }
      if (i == 0) std::printf("  briefing %s: %lld scans, %lld on campus at midnight\n", date.c_str(),
                              static_cast<long long>(r->figures.scans),
                              static_cast<long long>(r->on_campus.empty() ? 0 : r->on_campus.begin()->second));
      t0 = Steady::now();
      stmt->Bind(1, ToUnixMicros(day)).Bind(2, ToUnixMicros(day + days(1)));
      while (*stmt->Step()) {}
      stmt->Reset();
      plain.push_back(Ms(Steady::now() - t0));
    }
    auto a = Summarise(ours), b = Summarise(plain);
    std::printf("daily briefing of a past day: p50 %.0f ms max %.0f ms | plain SQL (denials GROUP BY over the day) p50 %.0f ms | ratio %.2f\n",
                a.p50, a.max, b.p50, a.p50 / b.p50);
  }

  // 5. Decisions and commits at 1,000 scans/s for 20 s, without and with a
  // thread tracing back to back.
  if (step('5')) {
    std::mutex mu;
    std::unordered_map<uint64_t, Steady::time_point> submitted;
    std::vector<double> commit_ms;
    storage::JournalWriter journal(store, {}, [&](std::span<const storage::RecordedEvent> batch) {
      auto t = Steady::now();
      std::lock_guard lock(mu);
      for (const auto& e : batch) {
        auto it = submitted.find(e.seq);
        if (it != submitted.end()) commit_ms.push_back(Ms(t - it->second));
      }
    });
    journal.Start();
    uint64_t seq = 1'000'000'000;
    auto run = [&](bool tracing) {
      std::atomic<bool> stop{false};
      std::atomic<int> traces{0};
      std::thread tracer([&] {
        std::mt19937 r2(9);
        while (tracing && !stop) {
          PersonId p = static_cast<PersonId>(std::uniform_int_distribution<int>(1, people)(r2));
          office::TraceRequest r{p, now - days(14), now, minutes(15), false, false, now};
          if (office::TraceContacts(store, *zones, r).ok()) ++traces;
        }
      });
      {
        std::lock_guard lock(mu);
        commit_ms.clear();
      }
      std::vector<double> decide_us;
      auto begin = Steady::now();
      for (int i = 0; i < 20'000; ++i) {
        auto due = begin + std::chrono::microseconds(1000 * i);
        std::this_thread::sleep_until(due);
        int p = 1 + i / 2 % people;
        ScanInput scan{hasher.Hash("CARD-" + std::to_string(p)), i % 2 ? Direction::kOut : Direction::kIn, "north-1"};
        TimePoint t = now + std::chrono::microseconds(1000 * i) + hours(tracing ? 1 : 0);
        auto t0 = Steady::now();
        Decision d = presence.DecideAndApply(policy, scan, t, 1);
        decide_us.push_back(Us(Steady::now() - t0));
        storage::RecordedEvent e;
        e.gate = 2;
        e.incarnation = tracing ? 3 : 2;
        e.seq = ++seq;
        e.person = d.person;
        e.credential = scan.credential;
        e.direction = scan.direction;
        e.occurred_at = e.gate_time = e.received_at = e.decided_at = t;
        e.allowed = d.allowed;
        e.reason = d.reason;
        e.zone = d.allowed && !d.to_path.empty() ? d.to_path.back() : "";
        e.at_zone = StandingZone(*zones, "north-1", scan.direction);
        {
          std::lock_guard lock(mu);
          submitted[e.seq] = due;
        }
        journal.Submit(std::move(e));
      }
      journal.WaitUntilCommitted(Steady::now() + std::chrono::seconds(30));
      stop = true;
      tracer.join();
      std::lock_guard lock(mu);
      auto d = Summarise(decide_us), c = Summarise(commit_ms);
      std::printf("  %s: decision p50 %.1f us p99 %.1f us; scan to commit p50 %.2f ms p99 %.2f ms; %d traces\n",
                  tracing ? "while tracing" : "alone        ", d.p50, d.p99, c.p50, c.p99, traces.load());
      return std::make_pair(d.p99, c.p99);
    };
    std::printf("decisions at 1,000 scans/s for 20 s on this store:\n");
    auto alone = run(false);
    auto busy = run(true);
    std::printf("  p99 rise while tracing: decision %+.0f%%, scan to commit %+.0f%%\n",
                100 * (busy.first / alone.first - 1), 100 * (busy.second / alone.second - 1));
    journal.Stop();
  }
  return 0;
}
