// Durable ingest: the journal writer (group commit through the Store
// interface, with acks) against the raw limit measured in the same run on
// the same disk: plain batched SQLite inserts of the same rows into the same
// schema and indexes, WAL, synchronous=FULL.
//
//   journal_bench [events] [batch]     defaults: 200000 4096
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "daemon/storage/journal_writer.h"
#include "daemon/storage/schema.h"
#include "daemon/storage/sqlite_store.h"

namespace {

using namespace cordon;
using Clock = std::chrono::steady_clock;

storage::RecordedEvent MakeEvent(uint64_t seq, const CredentialHasher& hasher) {
  storage::RecordedEvent e;
  e.gate = 1 + seq % 8;
  e.incarnation = 1234;
  e.seq = seq;
  e.person = static_cast<PersonId>(1 + seq % 60000);
  e.credential = hasher.Hash("CARD-" + std::to_string(e.person));
  e.direction = seq % 2 ? Direction::kIn : Direction::kOut;
  TimePoint t = FromUnixMicros(1'790'000'000'000'000 + static_cast<int64_t>(seq) * 1000);
  e.occurred_at = e.gate_time = e.received_at = e.decided_at = t;
  e.allowed = true;
  e.reason = Reason::kAllowStudent;
  e.policy_version = 3;
  return e;
}

double PlainSqlite(const std::string& path, const std::vector<storage::RecordedEvent>& events,
                   size_t batch) {
  auto db = sqlite::Database::Open(path, sqlite::Database::Mode::kReadWrite);
  if (!db.ok() || !storage::Migrate(*db).ok()) std::abort();
  auto ins = db->Prepare(
      "INSERT INTO events(gate_id, incarnation, seq, person_id, credential_hash, direction, "
      "occurred_at, gate_time, received_at, decided_at, allowed, reason, policy_version, source, "
      "pass_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
  auto start = Clock::now();
  for (size_t i = 0; i < events.size(); i += batch) {
    (void)db->Exec("BEGIN IMMEDIATE");
    for (size_t j = i; j < std::min(events.size(), i + batch); ++j) {
      const auto& e = events[j];
      (void)ins->Bind(1, e.gate).Bind(2, static_cast<int64_t>(e.incarnation))
          .Bind(3, static_cast<int64_t>(e.seq)).Bind(4, e.person).BindBlob(5, e.credential.AsBytes())
          .Bind(6, static_cast<int64_t>(e.direction)).Bind(7, ToUnixMicros(e.occurred_at))
          .Bind(8, ToUnixMicros(e.gate_time)).Bind(9, ToUnixMicros(e.received_at))
          .Bind(10, ToUnixMicros(e.decided_at)).Bind(11, int64_t{1}).Bind(12, int64_t{2})
          .Bind(13, int64_t{3}).Bind(14, int64_t{1}).BindNull(15).Run();
    }
    (void)db->Exec("COMMIT");
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Journal(const std::string& path, const std::vector<storage::RecordedEvent>& events,
               size_t batch) {
  auto store = storage::SqliteStore::Open(path);
  if (!store.ok()) std::abort();
  storage::JournalWriter::Options opts;
  opts.max_batch = batch;
  size_t acked = 0;
  storage::JournalWriter writer(**store, opts, [&](auto b) { acked += b.size(); });
  writer.Start();
  auto start = Clock::now();
  for (const auto& e : events) writer.Submit(e);
  writer.WaitUntilCommitted(Clock::now() + std::chrono::minutes(10));
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  writer.Stop();
  if (acked != events.size()) std::abort();
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  size_t batch = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 4096;
  std::string dir = std::filesystem::temp_directory_path() / "cordon-journal-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  CredentialHasher hasher(std::string(32, 'k'));
  std::vector<storage::RecordedEvent> events;
  events.reserve(n);
  for (uint64_t i = 1; i <= n; ++i) events.push_back(MakeEvent(i, hasher));

  double plain = PlainSqlite(dir + "/plain.db", events, batch);
  double journal = Journal(dir + "/journal.db", events, batch);
  double plain_rate = static_cast<double>(n) / plain;
  double journal_rate = static_cast<double>(n) / journal;
  std::printf("events             %zu (batch up to %zu)\n", n, batch);
  std::printf("plain SQLite       %10.0f events/s  (%.2f s)\n", plain_rate, plain);
  std::printf("cordon journal     %10.0f events/s  (%.2f s)\n", journal_rate, journal);
  std::printf("ratio              %10.2f x plain SQLite\n", journal_rate / plain_rate);
  std::filesystem::remove_all(dir);
  return 0;
}
