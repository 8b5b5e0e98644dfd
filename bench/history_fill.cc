// Fills a cordond store with history, through the real ingest path
// (SqliteStore::CommitEvents: events, their indexes and presence intervals),
// for the benchmarks that need a store of realistic size (issue 7: 10 M
// events, a year). The people and gates must already be registered (by
// cordond, e.g. `cordon-bench setup`); cordond must not be running.
//
// Each visit is an entry and, 10 minutes to 6 hours later, an exit through
// random gates, between 07:00 and 22:00. Visits are spread evenly over the
// days, which end the day before now: everybody is outside afterwards.
//
//   history_fill DB [events=10000000] [days=365]
//
// The raw limit on such a store, for the same rows: N more visits' events
// and their presence intervals, written with plain prepared statements in
// batched transactions (WAL, synchronous=FULL, as cordond), into the same
// tables and indexes, timed:
//   history_fill DB --plain N [batch=4096] [random|sequential|late]
// and the same rows through cordond's writer path alone (no gRPC, no
// deciding threads), timed the same way:
//   history_fill DB --store N [batch=4096] [random|sequential|late]
// "sequential" writes what bench/history.sh replays: one gate, everybody in,
// in roster order, then everybody out, after the latest event stored (a
// gate's buffered scans are the newest); "random" (the default) scatters
// people and gates, as the load generator does. "late" is "sequential" with
// one live scan (an entry by a random person at another gate, dated after
// the whole backlog) after every 60 replayed rows, as the 1,000 live scans
// a second beside a replay at 60,000/s in bench/history.sh: the replayed
// rows of those people then arrive older than their latest stay, and the
// writer rebuilds their stays (N counts the live scans too).
//
// A store that cordond has been using holds in the page cache only pages
// SQLite read, one at a time (no readahead, sqlite/database.h). After a
// restart, the benchmark brings it back to that state, not by a sequential
// read (cat), which leaves large folios the writer then pays for:
//   history_fill DB --warm
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/plain_rows.h"
#include "daemon/storage/sqlite_store.h"
#include "sqlite/database.h"

namespace {

using namespace cordon;
using Steady = std::chrono::steady_clock;

struct Registered {
  std::vector<PersonId> people;
  std::unordered_map<PersonId, CredentialHash> credential_of;
  std::vector<GateRowId> gates;
  std::vector<uint64_t> history_seq;  // per gate: the highest seq of incarnation 1 stored
  uint64_t next_incarnation = 2;      // one no stored event uses
  std::optional<TimePoint> latest;    // the latest event stored
};

Registered Load(const std::string& path) {
  auto db = sqlite::Database::Open(path, sqlite::Database::Mode::kReadOnly);
  if (!db.ok()) {
    std::fprintf(stderr, "history_fill: %s\n", db.status().ToString().c_str());
    std::exit(1);
  }
  Registered r;
  auto people = db->Prepare("SELECT person_id, hash FROM credentials ORDER BY person_id");
  while (*people->Step()) {
    PersonId id = people->Int(0);
    if (r.credential_of.emplace(id, CredentialHash::FromBytes(people->Blob(1))).second) {
      r.people.push_back(id);
    }
  }
  auto gates = db->Prepare("SELECT id FROM gates ORDER BY id");
  while (*gates->Step()) r.gates.push_back(gates->Int(0));
  auto last = db->Prepare("SELECT max(incarnation) FROM events WHERE gate_id = ?1");  // an index seek
  for (GateRowId g : r.gates) {
    if (*last->Bind(1, g).Step() && !last->IsNull(0)) {
      r.next_incarnation = std::max(r.next_incarnation, static_cast<uint64_t>(last->Int(0)) + 1);
    }
    last->Reset();
  }
  r.history_seq.assign(r.gates.size(), 0);
  auto marks = db->Prepare("SELECT gate_id, incarnation, highest_seq FROM gate_incarnations");
  while (*marks->Step()) {
    auto inc = static_cast<uint64_t>(marks->Int(1));
    r.next_incarnation = std::max(r.next_incarnation, inc + 1);
    auto g = std::find(r.gates.begin(), r.gates.end(), marks->Int(0));
    if (inc == 1 && g != r.gates.end()) {
      r.history_seq[static_cast<size_t>(g - r.gates.begin())] = static_cast<uint64_t>(marks->Int(2));
    }
  }
  auto newest = db->Prepare("SELECT max(occurred_at) FROM events");
  if (*newest->Step() && !newest->IsNull(0)) r.latest = FromUnixMicros(newest->Int(0));
  return r;
}

double CpuSeconds() {
  rusage used{};
  getrusage(RUSAGE_SELF, &used);
  return static_cast<double>(used.ru_utime.tv_sec + used.ru_stime.tv_sec) +
         static_cast<double>(used.ru_utime.tv_usec + used.ru_stime.tv_usec) / 1e6;
}

// The same rows through cordond's writer path (SqliteStore::CommitEvents:
// events, intervals found and closed by the interval journal), without gRPC
// or the deciding threads: what the writer costs alone, beside PlainInsert.
int StoreInsert(const std::string& path, const std::vector<storage::RecordedEvent>& events,
                size_t batch) {
  auto opened = storage::SqliteStore::Open(path);
  if (!opened.ok()) {
    std::fprintf(stderr, "history_fill: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  const double cpu_before = CpuSeconds();
  auto started = Steady::now();
  for (size_t i = 0; i < events.size(); i += batch) {
    std::span<const storage::RecordedEvent> part(events.data() + i, std::min(batch, events.size() - i));
    if (auto st = (*opened)->CommitEvents(part); !st.ok()) {
      std::fprintf(stderr, "history_fill: commit: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(Steady::now() - started).count();
  std::printf("writer path %.0f events/s (%zu events, batches of %zu, %.2f s), CPU %.1f µs per event\n",
              static_cast<double>(events.size()) / secs, events.size(), batch, secs,
              (CpuSeconds() - cpu_before) * 1e6 / static_cast<double>(events.size()));
  return 0;
}

// Plain SQLite (bench/plain_rows.h): the same rows with plain prepared
// statements, one transaction per batch.
int PlainInsert(const std::string& path, const std::vector<storage::RecordedEvent>& events,
                size_t batch) {
  auto rows = bench::PlainRows::Open(path);
  if (!rows.ok()) {
    std::fprintf(stderr, "history_fill: %s\n", rows.status().ToString().c_str());
    return 1;
  }
  const double cpu_before = CpuSeconds();
  auto started = Steady::now();
  for (size_t i = 0; i < events.size(); i += batch) {
    std::span<const storage::RecordedEvent> part(events.data() + i, std::min(batch, events.size() - i));
    if (auto st = rows->Commit(part); !st.ok()) {
      std::fprintf(stderr, "history_fill: plain commit: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(Steady::now() - started).count();
  double cpu_us = (CpuSeconds() - cpu_before) * 1e6;
  std::printf("plain SQLite %.0f events/s (%zu events and their intervals, batches of %zu, %.2f s), "
              "CPU %.1f µs per event\n",
              static_cast<double>(events.size()) / secs, events.size(), batch, secs,
              cpu_us / static_cast<double>(events.size()));
  return 0;
}

// A student's allowed entry to the campus or exit from it, numbered later.
storage::RecordedEvent Movement(const Registered& reg, PersonId person, GateRowId gate,
                                uint64_t incarnation, Direction dir, TimePoint at) {
  storage::RecordedEvent e;
  e.gate = gate;
  e.incarnation = incarnation;
  e.person = person;
  e.credential = reg.credential_of.at(person);
  e.direction = dir;
  e.occurred_at = e.gate_time = e.received_at = e.decided_at = at;
  e.allowed = true;
  e.reason = Reason::kAllowStudent;
  e.policy_version = 1;
  e.zone = dir == Direction::kIn ? "campus" : "";
  e.at_zone = dir == Direction::kIn ? "" : "campus";
  e.rule = "student";
  return e;
}

// One day's visits by distinct people (a stride through the roster from a
// random start), as events in time order, numbered per gate. `replay_order`:
// as a gate's replayed day in bench/history.sh: one gate, everybody in, in
// roster order, then everybody out.
std::vector<storage::RecordedEvent> Day(const Registered& reg, TimePoint day_start, long long visits,
                                        uint64_t incarnation, std::vector<uint64_t>& seq,
                                        std::mt19937_64& rng, bool replay_order = false) {
  using std::chrono::hours;
  using std::chrono::minutes;
  auto pick = [&](long long lo, long long hi) {
    return std::uniform_int_distribution<long long>(lo, hi)(rng);
  };
  const size_t n = reg.people.size();
  std::vector<std::pair<storage::RecordedEvent, size_t>> day;  // with the gate's index
  size_t at = replay_order ? 0 : static_cast<size_t>(pick(0, static_cast<long long>(n) - 1));
  visits = std::min(visits, static_cast<long long>(n));
  for (long long v = 0; v < visits; ++v, at = (at + (replay_order ? 1 : 7919)) % n) {
    PersonId person = reg.people[at];
    TimePoint in = day_start + hours(7) + std::chrono::seconds(pick(0, 9 * 3600));
    TimePoint out = in + minutes(pick(10, 360));
    if (replay_order) {
      in = day_start + hours(7) + std::chrono::milliseconds(v);
      out = in + std::chrono::milliseconds(visits);
    }
    for (Direction dir : {Direction::kIn, Direction::kOut}) {
      size_t g = replay_order ? 0 : static_cast<size_t>(pick(0, static_cast<long long>(reg.gates.size()) - 1));
      day.emplace_back(
          Movement(reg, person, reg.gates[g], incarnation, dir, dir == Direction::kIn ? in : out), g);
    }
  }
  std::sort(day.begin(), day.end(),
            [](const auto& a, const auto& b) { return a.first.occurred_at < b.first.occurred_at; });
  std::vector<storage::RecordedEvent> out;
  out.reserve(day.size());
  for (auto& [e, g] : day) {
    e.seq = ++seq[g];
    out.push_back(std::move(e));
  }
  return out;
}

// A replay's rows with live scans among them: after every 60 rows, an entry
// by a random person at another gate (its own incarnation), dated after the
// whole backlog, as a live scan beside a replaying gate is. N rows in all.
std::vector<storage::RecordedEvent> WithLiveScans(const Registered& reg,
                                                  std::vector<storage::RecordedEvent> replay,
                                                  long long n, std::mt19937_64& rng) {
  constexpr size_t kReplayedPerLive = 60;
  TimePoint live_from = replay.back().occurred_at + std::chrono::seconds(1);
  uint64_t live_incarnation = 0;
  for (const auto& e : replay) live_incarnation = std::max(live_incarnation, e.incarnation + 1);
  const GateRowId live_gate = reg.gates[reg.gates.size() > 1 ? 1 : 0];
  std::uniform_int_distribution<size_t> anyone(0, reg.people.size() - 1);
  std::vector<storage::RecordedEvent> out;
  out.reserve(static_cast<size_t>(n));
  uint64_t live_seq = 0;
  for (size_t i = 0; i < replay.size() && static_cast<long long>(out.size()) < n; ++i) {
    out.push_back(std::move(replay[i]));
    if ((i + 1) % kReplayedPerLive != 0 || static_cast<long long>(out.size()) >= n) continue;
    ++live_seq;
    out.push_back(Movement(reg, reg.people[anyone(rng)], live_gate, live_incarnation,
                           Direction::kIn,
                           live_from + std::chrono::milliseconds(static_cast<int64_t>(live_seq))));
    out.back().seq = live_seq;
  }
  return out;
}

// Reads every page of the file, 4 KB at a time with readahead off.
int Warm(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    std::perror(path.c_str());
    return 1;
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
  const auto t0 = std::chrono::steady_clock::now();
  char page[4096];
  off_t at = 0;
  ssize_t n;
  while ((n = pread(fd, page, sizeof page, at)) > 0) at += n;
  if (n < 0) std::perror(path.c_str());
  close(fd);
  if (n < 0) return 1;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  std::printf("warmed %lld MB page by page in %lld ms\n", static_cast<long long>(at >> 20),
              static_cast<long long>(ms));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: history_fill DB [events=10000000] [days=365]\n"
                 "       history_fill DB --plain N [batch=4096] [random|sequential|late]\n"
                 "       history_fill DB --store N [batch=4096] [random|sequential|late]\n"
                 "       history_fill DB --warm\n");
    return 2;
  }
  const std::string path = argv[1];
  if (argc > 2 && std::string(argv[2]) == "--warm") return Warm(path);
  const bool through_store = argc > 2 && std::string(argv[2]) == "--store";
  // --plain and --store time N more rows; otherwise the history is filled.
  const bool timed_rows = through_store || (argc > 2 && std::string(argv[2]) == "--plain");
  Registered reg = Load(path);
  if (reg.people.empty() || reg.gates.empty()) {
    std::fprintf(stderr, "history_fill: register people with credentials and gates first\n");
    return 1;
  }
  using std::chrono::days;
  const auto today = std::chrono::floor<days>(std::chrono::system_clock::now());
  auto day_start = [&](int days_ago) {
    return FromUnixMicros(std::chrono::duration_cast<Micros>(
                              (today - days(days_ago)).time_since_epoch()).count());
  };
  std::mt19937_64 rng(42);
  if (timed_rows) {
    std::vector<uint64_t> seq(reg.gates.size(), 0);
    const long long n = argc > 3 ? std::atoll(argv[3]) : 200'000;
    const size_t batch = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 4096;
    if (n < 1 || batch < 1) {
      std::fprintf(stderr, "history_fill: N and batch must be positive numbers\n");
      return 2;
    }
    const std::string order = argc > 5 ? argv[5] : "random";
    if (order != "random" && order != "sequential" && order != "late") {
      std::fprintf(stderr, "history_fill: the order is random, sequential or late, not '%s'\n",
                   order.c_str());
      return 2;
    }
    const bool late = order == "late";
    const bool sequential = order == "sequential" || late;
    std::vector<storage::RecordedEvent> events;
    // Rounds of a day's visits each (07:00 to at most 22:00 after the
    // round's start), from incarnations of their own (the history's is 1),
    // an hour apart: times only go forward, as live. They end before now: a
    // daemon started afterwards would otherwise take every live scan as
    // older than the person's latest stay, and rebuild their stays.
    const long long per_round = 2 * static_cast<long long>(reg.people.size());
    const long long rounds = (n + per_round - 1) / per_round;
    TimePoint first_round = SystemClock().Now() - std::chrono::hours(23 + rounds);
    // A replay's rows come after everything stored, as a gate's buffered
    // scans do (the writer path would otherwise take them as late and
    // rebuild stays).
    if (sequential && reg.latest) first_round = *reg.latest + std::chrono::milliseconds(1) - std::chrono::hours(7);
    for (uint64_t inc = reg.next_incarnation; static_cast<long long>(events.size()) < n; ++inc) {
      std::fill(seq.begin(), seq.end(), 0);
      auto more = Day(reg, first_round + std::chrono::hours(inc - reg.next_incarnation),
                      (n - static_cast<long long>(events.size()) + 1) / 2, inc, seq, rng,
                      sequential);
      events.insert(events.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
    }
    if (late) events = WithLiveScans(reg, std::move(events), n, rng);
    return through_store ? StoreInsert(path, events, batch) : PlainInsert(path, events, batch);
  }

  const long long events = argc > 2 ? std::atoll(argv[2]) : 10'000'000;
  const int ndays = argc > 3 ? std::atoi(argv[3]) : 365;
  auto opened = storage::SqliteStore::Open(path);
  if (!opened.ok()) {
    std::fprintf(stderr, "history_fill: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  storage::SqliteStore& store = **opened;
  const long long visits_per_day = std::max(1LL, events / 2 / ndays);
  std::vector<uint64_t> seq = reg.history_seq;
  long long written = 0;
  auto started = Steady::now();
  for (int d = 0; d < ndays && written < events; ++d) {
    // Incarnation 1: no live gate uses it (theirs are random, bit 40 set).
    auto day = Day(reg, day_start(ndays - d), std::min(visits_per_day, (events - written + 1) / 2),
                   1, seq, rng);
    for (size_t i = 0; i < day.size(); i += 8192) {
      std::span<const storage::RecordedEvent> batch(day.data() + i, std::min<size_t>(8192, day.size() - i));
      if (auto st = store.CommitEvents(batch); !st.ok()) {
        std::fprintf(stderr, "history_fill: commit: %s\n", st.ToString().c_str());
        return 1;
      }
    }
    written += static_cast<long long>(day.size());
    if ((d + 1) % 10 == 0 || d + 1 == ndays) {
      double secs = std::chrono::duration<double>(Steady::now() - started).count();
      std::fprintf(stderr, "history: day %d of %d, %lld events, %.0f events/s\n", d + 1, ndays,
                   written, static_cast<double>(written) / secs);
    }
  }
  std::printf("%lld events over %d days written\n", written, ndays);
  return 0;
}
