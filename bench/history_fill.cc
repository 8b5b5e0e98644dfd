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
//   history_fill DB --plain N [batch=4096] [random|sequential|late|replayed SOURCE GATE]
// and the same rows through cordond's writer path alone (no gRPC, no
// deciding threads), timed the same way:
//   history_fill DB --store N [batch=4096] [random|sequential|late|replayed SOURCE GATE]
// "random" (the default) scatters people and gates, as the load generator
// does. "sequential" writes what bench/history.sh replays: one gate's
// backlog from one incarnation, everybody in, in roster order, then
// everybody out, and again, decided 10 µs apart as the gate decides them
// offline, all on one day after the latest event stored (a gate's buffered
// scans are the newest). "late" is "sequential" with one live scan (an
// entry by a random person at another gate, dated after the whole backlog)
// after every 60 replayed rows, as the 1,000 live scans a second beside a
// replay at 60,000/s in bench/history.sh: the replayed rows of those people
// then arrive older than their latest stay, and the writer rebuilds their
// stays (N counts the live scans too). "replayed SOURCE GATE" takes the
// rows cordond stored while bench/history.sh replayed gate GATE's backlog,
// from SOURCE (the store afterwards): every event after the last one in DB
// up to the gate's last, in the order stored (the live scans of the other
// gates between them too), with their own times. Run on a copy of the store
// taken before the replay, they meet the state the replay met; the rate
// counts the gate's N events.
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
#include "core/status_macros.h"
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
  uint64_t next_incarnation = 2;      // one no stored event uses (gate_incarnations has each)
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

// Prints a timed insert: `counted` of the events per second of the whole
// (a replayed gate's, with the live scans stored between them), CPU per
// event over all of them.
void Report(const char* what, const char* rows, size_t all, long long counted, size_t batch,
            double secs, double cpu_s) {
  std::string which = std::to_string(all) + " events";
  if (static_cast<size_t>(counted) != all) {
    which = "the gate's " + std::to_string(counted) + " events, with the " +
            std::to_string(all - static_cast<size_t>(counted)) + " others stored between them";
  }
  std::printf("%s %.0f events/s (%s%s, batches of %zu, %.2f s), CPU %.1f µs per event\n", what,
              static_cast<double>(counted) / secs, which.c_str(), rows, batch, secs,
              cpu_s * 1e6 / static_cast<double>(all));
}

// Commits `events` `batch` at a time with `commit`, and reports.
template <typename CommitFn>
int Timed(const char* what, const char* rows, const std::vector<storage::RecordedEvent>& events,
          size_t batch, long long counted, CommitFn commit) {
  const double cpu_before = CpuSeconds();
  auto started = Steady::now();
  for (size_t i = 0; i < events.size(); i += batch) {
    std::span<const storage::RecordedEvent> part(events.data() + i, std::min(batch, events.size() - i));
    if (auto st = commit(part); !st.ok()) {
      std::fprintf(stderr, "history_fill: %s commit: %s\n", what, st.ToString().c_str());
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(Steady::now() - started).count();
  Report(what, rows, events.size(), counted > 0 ? counted : static_cast<long long>(events.size()),
         batch, secs, CpuSeconds() - cpu_before);
  return 0;
}

// The same rows through cordond's writer path (SqliteStore::CommitEvents:
// events, intervals found and closed by the interval journal), without gRPC
// or the deciding threads: what the writer costs alone, beside PlainInsert.
int StoreInsert(const std::string& path, const std::vector<storage::RecordedEvent>& events,
                size_t batch, long long counted = 0) {
  auto opened = storage::SqliteStore::Open(path);
  if (!opened.ok()) {
    std::fprintf(stderr, "history_fill: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  return Timed("writer path", "", events, batch, counted,
               [&](std::span<const storage::RecordedEvent> part) { return (*opened)->CommitEvents(part); });
}

// Plain SQLite (bench/plain_rows.h): the same rows with plain prepared
// statements, one transaction per batch.
int PlainInsert(const std::string& path, const std::vector<storage::RecordedEvent>& events,
                size_t batch, long long counted = 0) {
  auto rows = bench::PlainRows::Open(path);
  if (!rows.ok()) {
    std::fprintf(stderr, "history_fill: %s\n", rows.status().ToString().c_str());
    return 1;
  }
  return Timed("plain SQLite", " and their intervals", events, batch, counted,
               [&](std::span<const storage::RecordedEvent> part) { return rows->Commit(part); });
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
// random start), as events in time order, numbered per gate.
std::vector<storage::RecordedEvent> Day(const Registered& reg, TimePoint day_start, long long visits,
                                        uint64_t incarnation, std::vector<uint64_t>& seq,
                                        std::mt19937_64& rng) {
  using std::chrono::hours;
  using std::chrono::minutes;
  auto pick = [&](long long lo, long long hi) {
    return std::uniform_int_distribution<long long>(lo, hi)(rng);
  };
  const size_t n = reg.people.size();
  std::vector<std::pair<storage::RecordedEvent, size_t>> day;  // with the gate's index
  size_t at = static_cast<size_t>(pick(0, static_cast<long long>(n) - 1));
  visits = std::min(visits, static_cast<long long>(n));
  for (long long v = 0; v < visits; ++v, at = (at + 7919) % n) {
    PersonId person = reg.people[at];
    TimePoint in = day_start + hours(7) + std::chrono::seconds(pick(0, 9 * 3600));
    TimePoint out = in + minutes(pick(10, 360));
    for (Direction dir : {Direction::kIn, Direction::kOut}) {
      size_t g = static_cast<size_t>(pick(0, static_cast<long long>(reg.gates.size()) - 1));
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

// A gate's backlog as bench/history.sh replays it: scan i is the roster's
// person i % P, in on even passes over the roster and out on odd ones, from
// one gate and one incarnation, decided offline 10 µs apart (a gate decides
// about 90,000 a second) from `from` on. The day matters: the per-person
// indexes are keyed by day first, so each pass over the roster rewrites the
// whole day's part of them, and a backlog split over two days rewrites half
// as much.
std::vector<storage::RecordedEvent> Backlog(const Registered& reg, TimePoint from, long long n,
                                            uint64_t incarnation) {
  std::vector<storage::RecordedEvent> out;
  out.reserve(static_cast<size_t>(n));
  const auto people = static_cast<long long>(reg.people.size());
  for (long long i = 0; i < n; ++i) {
    Direction dir = (i / people) % 2 ? Direction::kOut : Direction::kIn;
    out.push_back(Movement(reg, reg.people[static_cast<size_t>(i % people)], reg.gates[0],
                           incarnation, dir, from + std::chrono::microseconds(10 * i)));
    storage::RecordedEvent& e = out.back();
    e.seq = static_cast<uint64_t>(i + 1);
    e.source = DecisionSource::kGateOffline;
    e.rule.clear();  // an offline decision's rule text is not stored
  }
  return out;
}

// What cordond stored at `source` after the last event in `path`, up to
// gate `gate_id`'s last event, in the order stored.
struct StoredRows {
  std::vector<storage::RecordedEvent> events;
  long long of_gate = 0;  // how many are the gate's
};

absl::StatusOr<StoredRows> ReadStoredRows(const std::string& path, const std::string& source,
                                          const std::string& gate_id) {
  CORDON_ASSIGN_OR_RETURN(sqlite::Database before,
                          sqlite::Database::Open(path, sqlite::Database::Mode::kReadOnly));
  CORDON_ASSIGN_OR_RETURN(sqlite::Statement last, before.Prepare("SELECT max(id) FROM events"));
  CORDON_ASSIGN_OR_RETURN(bool any, last.Step());
  const int64_t after = any && !last.IsNull(0) ? last.Int(0) : 0;
  CORDON_ASSIGN_OR_RETURN(sqlite::Database db,
                          sqlite::Database::Open(source, sqlite::Database::Mode::kReadOnly));
  CORDON_ASSIGN_OR_RETURN(sqlite::Statement rows, db.Prepare(R"sql(
      SELECT e.gate_id, incarnation, seq, person_id, credential_hash, direction, occurred_at,
             gate_time, received_at, decided_at, allowed, reason, policy_version, source,
             pass_id, zone, rule, leave_id, at_zone, e.gate_id = g.id
      FROM events e, (SELECT id FROM gates WHERE gate_id = ?1) g
      WHERE e.id > ?2
        AND e.id <= (SELECT max(id) FROM events WHERE gate_id = g.id AND id > ?2)
      ORDER BY e.id)sql"));
  rows.Bind(1, gate_id).Bind(2, after);
  StoredRows out;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    storage::RecordedEvent e;
    e.gate = rows.Int(0);
    e.incarnation = static_cast<uint64_t>(rows.Int(1));
    e.seq = static_cast<uint64_t>(rows.Int(2));
    e.person = rows.IsNull(3) ? 0 : rows.Int(3);
    e.credential = CredentialHash::FromBytes(rows.Blob(4));
    e.direction = static_cast<Direction>(rows.Int(5));
    e.occurred_at = FromUnixMicros(rows.Int(6));
    e.gate_time = FromUnixMicros(rows.Int(7));
    e.received_at = FromUnixMicros(rows.Int(8));
    e.decided_at = FromUnixMicros(rows.Int(9));
    e.allowed = rows.Int(10) != 0;
    e.reason = static_cast<Reason>(rows.Int(11));
    e.policy_version = rows.Int(12);
    e.source = static_cast<DecisionSource>(rows.Int(13));
    e.pass = rows.IsNull(14) ? 0 : rows.Int(14);
    e.zone = rows.IsNull(15) ? "" : rows.Text(15);
    e.rule = rows.IsNull(16) ? "" : rows.Text(16);
    e.leave = rows.IsNull(17) ? 0 : rows.Int(17);
    e.at_zone = rows.IsNull(18) ? "" : rows.Text(18);
    out.of_gate += rows.Int(19);
    out.events.push_back(std::move(e));
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
                 "       history_fill DB --plain N [batch=4096] [random|sequential|late|replayed SOURCE GATE]\n"
                 "       history_fill DB --store N [batch=4096] [random|sequential|late|replayed SOURCE GATE]\n"
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
    const long long n = argc > 3 ? std::atoll(argv[3]) : 200'000;
    const size_t batch = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 4096;
    if (n < 1 || batch < 1) {
      std::fprintf(stderr, "history_fill: N and batch must be positive numbers\n");
      return 2;
    }
    const std::string order = argc > 5 ? argv[5] : "random";
    if (order != "random" && order != "sequential" && order != "late" && order != "replayed") {
      std::fprintf(stderr,
                   "history_fill: the order is random, sequential, late or replayed, not '%s'\n",
                   order.c_str());
      return 2;
    }
    if (order == "replayed") {
      if (argc < 8) {
        std::fprintf(stderr, "history_fill: replayed takes the source store and the gate id\n");
        return 2;
      }
      auto rows = ReadStoredRows(path, argv[6], argv[7]);
      if (!rows.ok()) {
        std::fprintf(stderr, "history_fill: %s\n", rows.status().ToString().c_str());
        return 1;
      }
      if (rows->of_gate != n) {
        std::fprintf(stderr, "history_fill: %s stored %lld events of gate %s after %s's last, not %lld\n",
                     argv[6], rows->of_gate, argv[7], path.c_str(), n);
        return 1;
      }
      return through_store ? StoreInsert(path, rows->events, batch, n)
                           : PlainInsert(path, rows->events, batch, n);
    }
    const bool late = order == "late";
    const bool sequential = order == "sequential" || late;
    std::vector<storage::RecordedEvent> events;
    if (sequential) {
      // 08:00 on the day after the latest event stored (or today): a day of
      // its own, as the replayed day in bench/history.sh has, and after
      // everything stored (the writer path would otherwise take the rows as
      // late and rebuild stays).
      TimePoint from = day_start(0) + std::chrono::hours(8);
      if (reg.latest) from = std::chrono::floor<days>(*reg.latest) + days(1) + std::chrono::hours(8);
      // A gate's incarnation is random with the top bit clear; a fixed one
      // of the same size keeps the rows as long.
      events = Backlog(reg, from, n, (uint64_t{1} << 62) + reg.next_incarnation);
      if (late) events = WithLiveScans(reg, std::move(events), n, rng);
      return through_store ? StoreInsert(path, events, batch) : PlainInsert(path, events, batch);
    }
    // Rounds of a day's visits each (07:00 to at most 22:00 after the
    // round's start), from incarnations of their own (the history's is 1),
    // an hour apart: times only go forward, as live. They end before now: a
    // daemon started afterwards would otherwise take every live scan as
    // older than the person's latest stay, and rebuild their stays.
    std::vector<uint64_t> seq(reg.gates.size(), 0);
    const long long per_round = 2 * static_cast<long long>(reg.people.size());
    const long long rounds = (n + per_round - 1) / per_round;
    TimePoint first_round = SystemClock().Now() - std::chrono::hours(23 + rounds);
    for (uint64_t inc = reg.next_incarnation; static_cast<long long>(events.size()) < n; ++inc) {
      std::fill(seq.begin(), seq.end(), 0);
      auto more = Day(reg, first_round + std::chrono::hours(inc - reg.next_incarnation),
                      (n - static_cast<long long>(events.size()) + 1) / 2, inc, seq, rng);
      events.insert(events.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
    }
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
