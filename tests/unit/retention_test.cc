// Retention on a real SQLite file with a fake clock: after a pass nothing
// older than the period is left in the bytes of the database or its WAL,
// what the current state needs is kept, and the audit chain still verifies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <atomic>
#include <future>
#include <thread>

#include "daemon/audit/audit_log.h"
#include "daemon/schedule/retention.h"
#include "daemon/storage/journal_writer.h"
#include "daemon/storage/sqlite_store.h"
#include "tests/support/process.h"

namespace cordon {
namespace {

using std::chrono::days;
using std::chrono::hours;
using storage::RecordedEvent;

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint t) : now_(t) {}
  TimePoint Now() const override { return now_; }

 private:
  TimePoint now_;
};

const TimePoint kNow = FromUnixMicros(1'795'000'000'000'000);

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("retention");
    auto store = storage::SqliteStore::Open(dir_ + "/cordon.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    journal_ = std::make_unique<storage::JournalWriter>(*store_, storage::JournalWriter::Options{},
                                                        nullptr);
    journal_->Start();
  }
  void TearDown() override {
    journal_->Stop();
    journal_.reset();
    store_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // An entry then an exit of `person` through a building, `age` ago.
  void Visit(PersonId person, Micros age, const std::string& marker, uint64_t& seq) {
    std::vector<RecordedEvent> batch;
    for (Direction d : {Direction::kIn, Direction::kOut}) {
      RecordedEvent e;
      e.gate = 1;
      e.incarnation = 9;
      e.seq = ++seq;
      e.person = person;
      e.direction = d;
      e.occurred_at = e.gate_time = e.received_at = e.decided_at =
          kNow - age + (d == Direction::kIn ? Micros(0) : hours(1));
      e.allowed = true;
      e.reason = Reason::kAllowStudent;
      e.zone = d == Direction::kIn ? "zone-" + marker : "campus";
      e.at_zone = d == Direction::kIn ? "campus" : "zone-" + marker;
      e.rule = "rule-" + marker;
      batch.push_back(e);
    }
    ASSERT_TRUE(store_->CommitEvents(batch).ok());
  }

  void Audit(audit::AuditLog& log, Micros age, const std::string& purpose) {
    std::promise<absl::Status> written;
    storage::AuditEntry e;
    e.at = kNow - age;
    e.actor = "security:alice";
    e.action = "SecurityService/TraceContacts";
    e.purpose = purpose;
    e.outcome = "ok";
    log.Record(e, [&](absl::Status st) { written.set_value(st); });
    ASSERT_TRUE(written.get_future().get().ok());
  }

  std::string dir_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<storage::JournalWriter> journal_;
};

TEST_F(RetentionTest, NothingOlderThanThePeriodRemainsInTheDatabaseOrTheWal) {
  uint64_t seq = 0;
  for (PersonId p = 1; p <= 50; ++p) Visit(p, days(40), "OLDMARK" + std::to_string(p), seq);
  for (PersonId p = 1; p <= 50; ++p) Visit(p, days(2), "NEWMARK", seq);
  // Person 51 came in 40 days ago and lives on campus: their entry stays.
  {
    RecordedEvent e;
    e.gate = 1;
    e.incarnation = 9;
    e.seq = ++seq;
    e.person = 51;
    e.occurred_at = e.gate_time = e.received_at = e.decided_at = kNow - days(40);
    e.allowed = true;
    e.reason = Reason::kAllowResidentStaff;
    e.zone = "campus";
    e.at_zone = "";
    e.rule = "rule-KEEPMARK";
    ASSERT_TRUE(store_->CommitEvents({&e, 1}).ok());
  }
  audit::AuditLog log(audit::ChainKey(std::string(32, 'k')), *journal_);
  ASSERT_TRUE(log.Load(*store_).ok());
  for (int i = 0; i < 5; ++i) Audit(log, days(200), "AUDITOLD" + std::to_string(i));
  for (int i = 0; i < 3; ++i) Audit(log, days(100), "AUDITNEW" + std::to_string(i));
  ASSERT_EQ(*store_->CountEvents(), 201);

  FakeClock clock(kNow);
  boost::asio::io_context io;
  schedule::RetentionPeriods periods;  // 28 and 180 days
  periods.slice_rows = 7;              // many slices, gates' commits between them
  schedule::Retention retention(io, *journal_, clock, periods);
  std::promise<std::pair<storage::PurgeReport, bool>> finished;
  retention.RunOnce([&](const storage::PurgeReport& r, bool checkpointed) {
    finished.set_value({r, checkpointed});
  });
  auto [report, checkpointed] = finished.get_future().get();
  EXPECT_EQ(report.events, 100);
  EXPECT_EQ(report.intervals, 50);
  EXPECT_EQ(report.audit, 5);
  EXPECT_TRUE(checkpointed);
  EXPECT_EQ(*store_->CountEvents(), 101);

  // The chain verifies from its new anchor.
  auto verified = log.Verify(*store_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->problems.empty()) << verified->problems.front().Describe();
  EXPECT_EQ(verified->anchor_id, 5);
  EXPECT_EQ(verified->entries, 3);

  // The raw bytes: the database and whatever WAL is left.
  std::string bytes = Bytes(dir_ + "/cordon.db") + Bytes(dir_ + "/cordon.db-wal");
  EXPECT_EQ(bytes.find("OLDMARK"), std::string::npos) << dir_;
  EXPECT_EQ(bytes.find("AUDITOLD"), std::string::npos);
  EXPECT_NE(bytes.find("NEWMARK"), std::string::npos);
  EXPECT_NE(bytes.find("KEEPMARK"), std::string::npos);
  EXPECT_NE(bytes.find("AUDITNEW"), std::string::npos);

  // A second pass finds nothing more.
  std::promise<storage::PurgeReport> again;
  retention.RunOnce([&](const storage::PurgeReport& r, bool) { again.set_value(r); });
  EXPECT_EQ(again.get_future().get().total(), 0);
}

// The audit log shares this fixture's real store and writer: entries
// recorded from many threads at once are queued and appended in batches;
// every one is numbered, chained and committed.
TEST_F(RetentionTest, AuditEntriesFromManyThreadsAreAllChained) {
  audit::AuditLog log(audit::ChainKey(std::string(32, 'k')), *journal_);
  ASSERT_TRUE(log.Load(*store_).ok());
  constexpr int kThreads = 8, kEach = 200;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        storage::AuditEntry e;
        e.at = kNow;
        e.actor = "security:t" + std::to_string(t);
        e.action = "SecurityService/ListMovements";
        e.outcome = "ok";
        e.rows = i;
        log.Record(e, [&](absl::Status st) { (st.ok() ? ok : failed)++; });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(journal_->WaitUntilCommitted(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  std::promise<void> drained;  // jobs run in order: this one runs after every flush
  journal_->Post([&](storage::Store&) { drained.set_value(); });
  drained.get_future().wait();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(failed.load(), 0);
  auto verified = log.Verify(*store_);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->entries, kThreads * kEach);
  EXPECT_EQ(verified->head_id, kThreads * kEach);
  EXPECT_TRUE(verified->problems.empty()) << verified->problems.front().Describe();
}

}  // namespace
}  // namespace cordon
