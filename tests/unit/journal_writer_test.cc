// The journal writer on a real SQLite file: group commit, acks after commit,
// and commit failures (injected) that lose nothing.
#include "daemon/storage/journal_writer.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "daemon/storage/sqlite_store.h"
#include "tests/support/process.h"

namespace cordon::storage {
namespace {

const TimePoint kT0 = FromUnixMicros(1'790'000'000'000'000);

RecordedEvent Event(uint64_t seq) {
  RecordedEvent e;
  e.gate = 1;
  e.incarnation = 5;
  e.seq = seq;
  e.occurred_at = e.gate_time = e.received_at = e.decided_at = kT0;
  return e;
}

// Injected fault: the first `failures` commits fail as a full disk would.
class FailingStore : public Store {
 public:
  FailingStore(Store& real, int failures) : real_(real), failures_(failures) {}
  absl::Status CommitEvents(std::span<const RecordedEvent> events) override {
    if (failures_.fetch_sub(1) > 0) return absl::ResourceExhaustedError("disk full (injected)");
    return real_.CommitEvents(events);
  }
  absl::Status CommitEventsUnsynced(std::span<const RecordedEvent> events) override {
    if (failures_.fetch_sub(1) > 0) return absl::ResourceExhaustedError("disk full (injected)");
    return real_.CommitEventsUnsynced(events);
  }
  absl::Status SyncCommitted() override { return real_.SyncCommitted(); }
  absl::StatusOr<PolicySnapshot> LoadPolicy() override { return real_.LoadPolicy(); }
  absl::Status RestoreCampusState(const PolicySnapshot& p, CampusState& s) override {
    return real_.RestoreCampusState(p, s);
  }
  absl::Status SavePresenceSnapshot(std::span<const PresenceMark> m,
                                    std::span<const PersonId> u) override {
    return real_.SavePresenceSnapshot(m, u);
  }
  absl::Status SavePolicyDocument(const PolicyDocumentRecord& d) override {
    return real_.SavePolicyDocument(d);
  }
  absl::Status RecordHealth(PersonId p, const HealthRecord& h, int64_t v) override {
    return real_.RecordHealth(p, h, v);
  }
  absl::StatusOr<LeaveApproval> AddLeave(const LeaveApproval& l, TimePoint now,
                                         int64_t v) override {
    return real_.AddLeave(l, now, v);
  }
  absl::Status RecordDisinfection(PersonId p, TimePoint at, const std::string& by) override {
    return real_.RecordDisinfection(p, at, by);
  }
  absl::StatusOr<std::vector<PolicyDocumentRecord>> ListPolicyDocuments() override {
    return real_.ListPolicyDocuments();
  }
  absl::StatusOr<std::optional<PolicyDocumentRecord>> GetPolicyDocument(int64_t v) override {
    return real_.GetPolicyDocument(v);
  }
  absl::StatusOr<std::vector<DueAlert>> PendingDueAlerts() override {
    return real_.PendingDueAlerts();
  }
  absl::StatusOr<int64_t> LatestAlertId() override { return real_.LatestAlertId(); }
  absl::Status CampusStateAsOf(const PolicySnapshot& p, TimePoint t, CampusState& s) override {
    return real_.CampusStateAsOf(p, t, s);
  }
  absl::StatusOr<std::vector<ReplayRow>> ScansBetween(TimePoint from, TimePoint to) override {
    return real_.ScansBetween(from, to);
  }
  absl::Status AcknowledgeAlert(int64_t id, const std::string& by, TimePoint at) override {
    return real_.AcknowledgeAlert(id, by, at);
  }
  absl::Status RaiseDueAlert(const DueAlert& due, const std::string& d) override {
    return real_.RaiseDueAlert(due, d);
  }
  absl::StatusOr<std::vector<IncarnationMark>> LoadIncarnations() override {
    return real_.LoadIncarnations();
  }
  absl::StatusOr<Gate> RegisterGate(const Gate& g, int64_t v) override {
    return real_.RegisterGate(g, v);
  }
  absl::StatusOr<std::vector<Person>> UpsertPeople(std::span<const PersonRecord> p, int64_t v,
                                                   TimePoint now) override {
    return real_.UpsertPeople(p, v, now);
  }
  absl::StatusOr<QuarantineOrder> AddQuarantine(const QuarantineOrder& q, int64_t v) override {
    return real_.AddQuarantine(q, v);
  }
  absl::Status ClearQuarantines(std::span<const QuarantineId> o, TimePoint at, int64_t v) override {
    return real_.ClearQuarantines(o, at, v);
  }
  absl::StatusOr<SingleVisitPass> AddPass(const SingleVisitPass& p, int64_t v) override {
    return real_.AddPass(p, v);
  }
  void SetMaxStay(MaxStayFn f) override { real_.SetMaxStay(std::move(f)); }
  absl::StatusOr<bool> StaysNeedDeriving() override { return real_.StaysNeedDeriving(); }
  absl::Status DeriveStays(const MaxStayFn& f) override { return real_.DeriveStays(f); }
  absl::StatusOr<std::vector<Stay>> StaysOf(PersonId p, TimePoint from, TimePoint to,
                                            TimePoint now) override {
    return real_.StaysOf(p, from, to, now);
  }
  absl::StatusOr<std::vector<Stay>> StaysInZones(std::span<const ZoneSpan> spans,
                                                 TimePoint now) override {
    return real_.StaysInZones(spans, now);
  }
  absl::StatusOr<DailyFigures> GetDailyFigures(TimePoint from, TimePoint to) override {
    return real_.GetDailyFigures(from, to);
  }
  absl::StatusOr<std::vector<MovementRow>> ListMovements(const MovementQuery& q) override {
    return real_.ListMovements(q);
  }
  absl::StatusOr<std::vector<AlertRow>> ListAlerts(const AlertQuery& q) override {
    return real_.ListAlerts(q);
  }
  absl::StatusOr<int64_t> CountEvents() override { return real_.CountEvents(); }
  absl::StatusOr<BackupInfo> Backup(const std::string& path, TimePoint now) override {
    return real_.Backup(path, now);
  }
  absl::Status RecordBackup(const BackupInfo& info) override { return real_.RecordBackup(info); }
  absl::StatusOr<std::vector<AuditEntry>> ListAudit(const AuditQuery& q) override {
    return real_.ListAudit(q);
  }
  absl::StatusOr<AuditChainEnds> AuditEnds() override { return real_.AuditEnds(); }
  absl::StatusOr<PurgeReport> PurgeBefore(TimePoint p, TimePoint a, int64_t n) override {
    return real_.PurgeBefore(p, a, n);
  }
  absl::Status CompactAndCheckpoint() override { return real_.CompactAndCheckpoint(); }
  absl::Status AppendAudit(std::span<const AuditEntry> e, const std::string& tag) override {
    return real_.AppendAudit(e, tag);
  }
  absl::Status RaiseAlert(AlertKind k, TimePoint at, GateRowId g, const std::string& d,
                          PersonId p) override {
    return real_.RaiseAlert(k, at, g, d, p);
  }

 private:
  Store& real_;
  std::atomic<int> failures_;
};

// Injected fault: commits wait while held, as on a stalled disk.
class HeldStore final : public FailingStore {
 public:
  explicit HeldStore(Store& real) : FailingStore(real, 0) {}
  absl::Status CommitEvents(std::span<const RecordedEvent> events) override {
    {
      std::unique_lock lock(mu_);
      ++waiting_;
      ++arrivals_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !held_ || fail_through_ > 0; });
      --waiting_;
      if (held_) {  // let through to fail, as a full disk would
        --fail_through_;
        return absl::ResourceExhaustedError("disk full (injected)");
      }
    }
    return FailingStore::CommitEvents(events);
  }
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // The waiting attempt fails; the retry is held again.
  void FailOne() {
    std::lock_guard lock(mu_);
    ++fail_through_;
    cv_.notify_all();
  }
  bool WaitForACommit(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return waiting_ > 0; });
  }
  // Until `n` attempts in all have reached the store.
  bool WaitForAttempts(int n, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return arrivals_ >= n && waiting_ > 0; });
  }
  int attempts() {
    std::lock_guard lock(mu_);
    return arrivals_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  int waiting_ = 0;
  int arrivals_ = 0;
  int fail_through_ = 0;
};

// Injected fault: syncs wait while held, as on a slow disk, or fail as a
// disk that lost a write would.
class SyncHeldStore final : public FailingStore {
 public:
  explicit SyncHeldStore(Store& real) : FailingStore(real, 0) {}
  absl::Status SyncCommitted() override {
    std::unique_lock lock(mu_);
    ++arrivals_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    if (fail_) return absl::DataLossError("fdatasync: EIO (injected)");
    lock.unlock();
    return FailingStore::SyncCommitted();
  }
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release(bool fail = false) {
    std::lock_guard lock(mu_);
    held_ = false;
    fail_ = fail;
    cv_.notify_all();
  }
  // Until `n` syncs in all have reached the store.
  bool WaitForSyncs(int n, testing::Deadline deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return arrivals_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  bool fail_ = false;
  int arrivals_ = 0;
};

// The scheduling policy the kernel has for the writer thread (-1: none).
int WriterThreadPolicy() {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == "cordon-writer") return sched_getscheduler(std::stoi(task.path().filename()));
  }
  return -1;
}

class JournalWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("journal");
    auto s = SqliteStore::Open(dir_ + "/cordon.db");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Submits 5,000 events and checks that each is reported once, in order,
  // once readable, in fewer transactions than events. Returns the writer's
  // stats and the thread the listener ran on.
  std::pair<JournalWriter::Stats, std::thread::id> ExpectEveryEventAckedInOrder(
      JournalWriter::Options opts) {
    std::mutex mu;
    std::vector<uint64_t> acked;
    size_t batches = 0;
    std::thread::id listener_thread;
    JournalWriter writer(*store_, opts, [&](std::span<const RecordedEvent> batch) {
      // The listener runs after COMMIT: what it acks must already be readable.
      auto count = store_->CountEvents();
      std::lock_guard lock(mu);
      EXPECT_GE(*count, static_cast<int64_t>(acked.size() + batch.size()));
      for (const auto& e : batch) acked.push_back(e.seq);
      ++batches;
      listener_thread = std::this_thread::get_id();
    });
    writer.Start();
    for (uint64_t i = 1; i <= 5000; ++i) writer.Submit(Event(i));
    EXPECT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(30))));
    writer.Stop();
    EXPECT_EQ(*store_->CountEvents(), 5000);
    EXPECT_EQ(acked.size(), 5000u);
    for (size_t i = 0; i < acked.size(); ++i) EXPECT_EQ(acked[i], i + 1) << "acks in order";
    EXPECT_LT(batches, 5000u) << "events were grouped into fewer transactions";
    EXPECT_EQ(writer.stats().events_committed, 5000u);
    return {writer.stats(), listener_thread};
  }
  std::string dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(JournalWriterTest, EverySubmittedEventIsCommittedBeforeItsAck) {
  ExpectEveryEventAckedInOrder({});
}

TEST_F(JournalWriterTest, FailedCommitsAreRetriedAndNothingIsLostOrAckedEarly) {
  FailingStore failing(*store_, 3);
  std::atomic<size_t> acked{0};
  JournalWriter::Options opts;
  opts.retry_initial = std::chrono::milliseconds(1);
  JournalWriter writer(failing, opts, [&](std::span<const RecordedEvent> batch) {
    EXPECT_GE(*store_->CountEvents(), static_cast<int64_t>(acked + batch.size()));
    acked += batch.size();
  });
  writer.Start();
  for (uint64_t i = 1; i <= 100; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(30))));
  writer.Stop();
  EXPECT_EQ(*store_->CountEvents(), 100);
  EXPECT_EQ(acked.load(), 100u);
  EXPECT_EQ(writer.stats().commit_failures, 3u);
}

TEST_F(JournalWriterTest, StopCommitsWhatIsQueued) {
  std::atomic<size_t> acked{0};
  JournalWriter writer(*store_, {}, [&](auto batch) { acked += batch.size(); });
  writer.Start();
  for (uint64_t i = 1; i <= 1000; ++i) writer.Submit(Event(i));
  writer.Stop();
  EXPECT_EQ(*store_->CountEvents(), 1000);
  EXPECT_EQ(acked.load(), 1000u);
}

// The size of each batch the listener is told of, in order.
struct BatchSizes {
  std::mutex mu;
  std::vector<size_t> sizes;
  JournalWriter::CommitListener Listener() {
    return [this](std::span<const RecordedEvent> batch) {
      std::lock_guard lock(mu);
      sizes.push_back(batch.size());
    };
  }
  std::vector<size_t> Get() {
    std::lock_guard lock(mu);
    return sizes;
  }
};

TEST_F(JournalWriterTest, TheCommitWindowGathersEventsUntilItEndsABatchFillsOrAJobComes) {
  BatchSizes batches;
  JournalWriter::Options opts;
  opts.commit_window = std::chrono::seconds(60);  // longer than any test: only the others commit
  opts.max_batch = 4;
  JournalWriter writer(*store_, opts, batches.Listener());
  writer.Start();
  // A full batch commits at once.
  for (uint64_t i = 1; i <= 4; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(30))));
  // Three more wait for the window (not over in a second) ...
  for (uint64_t i = 5; i <= 7; ++i) writer.Submit(Event(i));
  EXPECT_FALSE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(1))));
  EXPECT_EQ(*store_->CountEvents(), 4);
  // ... until a job (an administrator's change, an audit entry) comes: it
  // runs at once, and they go with it.
  writer.Post([](Store&) {});
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(30))));
  writer.Stop();
  EXPECT_EQ(*store_->CountEvents(), 7);
  EXPECT_EQ(batches.Get(), (std::vector<size_t>{4, 3}));
}

TEST_F(JournalWriterTest, EnoughQueuedEventsEndTheWindowBeforeABatchIsFull) {
  BatchSizes batches;
  JournalWriter::Options opts;
  opts.commit_window = std::chrono::seconds(60);  // longer than any test
  opts.max_batch = 8;
  opts.commit_at = 4;
  JournalWriter writer(*store_, opts, batches.Listener());
  writer.Start();
  // Three wait for the window ...
  for (uint64_t i = 1; i <= 3; ++i) writer.Submit(Event(i));
  EXPECT_FALSE(writer.WaitUntilCommitted(testing::In(std::chrono::milliseconds(300))));
  EXPECT_EQ(*store_->CountEvents(), 0);
  // ... the fourth ends it, half a batch.
  writer.Submit(Event(4));
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(30))));
  EXPECT_EQ(*store_->CountEvents(), 4);
  writer.Stop();
  EXPECT_EQ(batches.Get(), (std::vector<size_t>{4}));
}

TEST_F(JournalWriterTest, AShortCommitWindowCommitsOnItsOwn) {
  JournalWriter::Options opts;
  opts.commit_window = std::chrono::milliseconds(200);
  std::atomic<size_t> batches{0};
  JournalWriter writer(*store_, opts, [&](auto) { ++batches; });
  writer.Start();
  for (uint64_t i = 1; i <= 50; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(30))));
  EXPECT_EQ(*store_->CountEvents(), 50);
  EXPECT_LE(batches.load(), 2u) << "events within one window share a commit";
  writer.Stop();
}

TEST_F(JournalWriterTest, JobsRunOnTheWriterThreadInOrder) {
  JournalWriter writer(*store_, {}, [](auto) {});
  writer.Start();
  std::vector<int> order;
  std::thread::id writer_thread;
  for (int i = 0; i < 10; ++i) {
    writer.Post([&, i](Store&) {
      order.push_back(i);
      writer_thread = std::this_thread::get_id();
    });
  }
  writer.Stop();
  ASSERT_EQ(order.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(order[i], i);
  EXPECT_NE(writer_thread, std::this_thread::get_id());
}

JournalWriter::Options SyncThreadOptions() {
  JournalWriter::Options opts;
  opts.sync_thread = true;
  return opts;
}

TEST_F(JournalWriterTest, WithASyncThreadEveryEventIsReportedInOrderAndOnlyOnce) {
  auto [stats, listener_thread] = ExpectEveryEventAckedInOrder(SyncThreadOptions());
  EXPECT_GE(stats.syncs, 1u);
  EXPECT_LE(stats.syncs, stats.batches_committed);
  EXPECT_NE(listener_thread, std::this_thread::get_id());
}

TEST_F(JournalWriterTest, WithASyncThreadNothingIsReportedBeforeItsSyncAndTheWriterGoesOn) {
  SyncHeldStore disk(*store_);
  std::atomic<size_t> acked{0};
  JournalWriter::Options opts = SyncThreadOptions();
  opts.max_batch = 10;
  opts.commit_window = std::chrono::seconds(60);  // only full batches commit
  JournalWriter writer(disk, opts, [&](auto batch) { acked += batch.size(); });
  writer.Start();
  disk.Hold();
  for (uint64_t i = 1; i <= 10; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(disk.WaitForSyncs(1, testing::In(std::chrono::seconds(20))));
  // Committed (readers see it) but not yet durable: not acknowledged.
  EXPECT_EQ(*store_->CountEvents(), 10);
  EXPECT_EQ(acked.load(), 0u);
  EXPECT_EQ(writer.Uncommitted(), 10u);
  EXPECT_FALSE(writer.WaitUntilCommitted(testing::In(std::chrono::milliseconds(50))));
  // The writer commits the next two batches while the disk is still busy.
  for (uint64_t i = 11; i <= 30; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(testing::WaitFor([&] { return writer.stats().batches_unsynced == 2; },
                               testing::In(std::chrono::seconds(20))));
  EXPECT_EQ(*store_->CountEvents(), 30);
  EXPECT_EQ(acked.load(), 0u);
  disk.Release();
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(20))));
  EXPECT_EQ(acked.load(), 30u);
  writer.Stop();
  EXPECT_EQ(writer.stats().syncs, 2u) << "the second sync covers both batches committed meanwhile";
  EXPECT_EQ(writer.stats().batches_committed, 3u);
}

TEST_F(JournalWriterTest, WithASyncThreadJobsRunOnlyOnceEveryCommitIsDurable) {
  SyncHeldStore disk(*store_);
  std::atomic<size_t> acked{0};
  JournalWriter writer(disk, SyncThreadOptions(), [&](auto batch) { acked += batch.size(); });
  writer.Start();
  disk.Hold();
  for (uint64_t i = 1; i <= 10; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(disk.WaitForSyncs(1, testing::In(std::chrono::seconds(20))));
  std::atomic<bool> ran{false};
  std::atomic<size_t> acked_when_run{0};
  writer.Post([&](Store&) {
    acked_when_run = acked.load();
    ran = true;
  });
  EXPECT_FALSE(testing::WaitFor([&] { return ran.load(); }, testing::In(std::chrono::milliseconds(100))))
      << "a job waits for the sync in flight";
  disk.Release();
  ASSERT_TRUE(testing::WaitFor([&] { return ran.load(); }, testing::In(std::chrono::seconds(20))));
  EXPECT_EQ(acked_when_run.load(), 10u) << "the job saw every commit reported";
  writer.Stop();
}

TEST_F(JournalWriterTest, AFailedSyncAcknowledgesNothingAgainAndStopStillReturns) {
  SyncHeldStore disk(*store_);
  std::atomic<size_t> acked{0};
  std::mutex mu;
  std::vector<std::string> failures;
  JournalWriter::Options opts = SyncThreadOptions();
  opts.on_sync_failure = [&](const absl::Status& st) {
    std::lock_guard lock(mu);
    failures.push_back(std::string(st.message()));
  };
  JournalWriter writer(disk, opts, [&](auto batch) { acked += batch.size(); });
  writer.Start();
  writer.Submit(Event(1));
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(20))));
  disk.Hold();
  for (uint64_t i = 2; i <= 10; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(disk.WaitForSyncs(2, testing::In(std::chrono::seconds(20))));
  disk.Release(/*fail=*/true);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return !failures.empty();
      },
      testing::In(std::chrono::seconds(20))));
  EXPECT_NE(failures[0].find("EIO"), std::string::npos);
  // Later events are committed, and never reported either.
  for (uint64_t i = 11; i <= 20; ++i) writer.Submit(Event(i));
  ASSERT_TRUE(testing::WaitFor([&] { return *store_->CountEvents() == 20; },
                               testing::In(std::chrono::seconds(20))));
  // Jobs do not wait for a sync that will not come.
  std::atomic<bool> ran{false};
  writer.Post([&](Store&) { ran = true; });
  ASSERT_TRUE(testing::WaitFor([&] { return ran.load(); }, testing::In(std::chrono::seconds(20))));
  writer.Stop();
  EXPECT_EQ(acked.load(), 1u) << "only the event synced before the failure";
  EXPECT_EQ(writer.Uncommitted(), 19u);
}


// Commits one event at a time until the writer has found storage light and
// will yield in its next commit, or the deadline passes.
bool FeedUntilYielding(JournalWriter& writer, uint64_t& seq,
                       std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline) {
    writer.Submit(Event(++seq));
    if (!writer.WaitUntilCommitted(deadline)) return false;
    if (writer.stats().writer_yields) return true;
  }
  return false;
}

// Once the writer yields, the disk stalls with one commit in flight, and
// events queue up behind it.
bool YieldThenStall(JournalWriter& writer, HeldStore& store, uint64_t& seq) {
  if (!FeedUntilYielding(writer, seq, testing::In(std::chrono::seconds(20)))) return false;
  store.Hold();
  writer.Submit(Event(++seq));
  return store.WaitForACommit(testing::In(std::chrono::seconds(20)));
}

JournalWriter::Options YieldingOptions() {
  JournalWriter::Options opts;
  opts.yield_when_light = true;
  opts.light_share = 2.0;  // light whatever its CPU: ASan makes a commit costly
  opts.priority_period = std::chrono::milliseconds(20);
  return opts;
}

TEST_F(JournalWriterTest, ALightWritersCommitsYieldTheCpuAndABacklogTakesItBackAtOnce) {
  HeldStore store(*store_);
  JournalWriter::Options opts = YieldingOptions();
  opts.max_batch = 64;
  opts.retry_initial = std::chrono::milliseconds(1);
  // The listener takes the locks the deciding threads take: never at idle
  // priority, or a preempted writer would stall every gate.
  std::atomic<int> listener_not_normal{0};
  JournalWriter writer(store, opts, [&](auto) {
    if (sched_getscheduler(0) != SCHED_OTHER) ++listener_not_normal;
  });
  writer.Start();
  if (auto note = writer.PriorityNote(); !note.empty()) GTEST_SKIP() << note;
  uint64_t seq = 0;
  ASSERT_TRUE(YieldThenStall(writer, store, seq));
  EXPECT_EQ(WriterThreadPolicy(), SCHED_IDLE) << "the SQLite work of a light writer yields";
  for (int i = 0; i < 15; ++i) writer.Submit(Event(++seq));
  EXPECT_EQ(WriterThreadPolicy(), SCHED_IDLE) << "15 queued is under a quarter of max_batch";
  // The 16th (a quarter of max_batch) raises the writer from the submitting
  // thread: a starved commit could not do it itself.
  writer.Submit(Event(++seq));
  EXPECT_EQ(WriterThreadPolicy(), SCHED_OTHER);
  // That commit fails; its retry runs at normal priority too.
  int attempts = store.attempts();
  store.FailOne();
  ASSERT_TRUE(store.WaitForAttempts(attempts + 1, testing::In(std::chrono::seconds(20))));
  EXPECT_EQ(WriterThreadPolicy(), SCHED_OTHER) << "a raised writer does not yield on a retry";

  store.Release();
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(20))));
  EXPECT_EQ(*store_->CountEvents(), static_cast<int64_t>(seq)) << "nothing lost";
  EXPECT_FALSE(writer.stats().writer_yields) << "not for a whole period after a backlog";
  // Light again: its commits yield again.
  ASSERT_TRUE(YieldThenStall(writer, store, seq));
  EXPECT_EQ(WriterThreadPolicy(), SCHED_IDLE);
  store.Release();
  writer.Stop();
  EXPECT_EQ(listener_not_normal.load(), 0);
  EXPECT_GE(writer.stats().priority_changes, 4u) << "idle, raised, idle, normal at least";
}

TEST_F(JournalWriterTest, EventsWaitingLongBehindAYieldingWriterTakeTheCpuBack) {
  HeldStore store(*store_);
  JournalWriter::Options opts = YieldingOptions();
  opts.commit_window = std::chrono::milliseconds(10);  // starved after 200 ms (the floor)
  JournalWriter writer(store, opts, [](auto) {});
  writer.Start();
  if (auto note = writer.PriorityNote(); !note.empty()) GTEST_SKIP() << note;
  uint64_t seq = 0;
  ASSERT_TRUE(YieldThenStall(writer, store, seq));
  // A trickle far below a quarter of max_batch (1,024): only the age of the
  // oldest queued event can raise the writer.
  auto first_queued = std::chrono::steady_clock::now();
  writer.Submit(Event(++seq));
  auto deadline = testing::In(std::chrono::seconds(20));
  while (WriterThreadPolicy() == SCHED_IDLE && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a gate's pace, not a wait
    writer.Submit(Event(++seq));
  }
  auto waited = std::chrono::steady_clock::now() - first_queued;
  EXPECT_EQ(WriterThreadPolicy(), SCHED_OTHER);
  EXPECT_GE(waited, std::chrono::milliseconds(200));
  EXPECT_LT(seq, 1024u);
  store.Release();
  ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(20))));
  writer.Stop();
  EXPECT_EQ(*store_->CountEvents(), static_cast<int64_t>(seq));
}

TEST_F(JournalWriterTest, AWriterToldNotToYieldStaysANormalThread) {
  JournalWriter::Options opts;
  opts.priority_period = std::chrono::milliseconds(1);
  opts.light_share = 2.0;  // would yield after every period if it were allowed to
  HeldStore store(*store_);
  JournalWriter writer(store, opts, [](auto) {});
  writer.Start();
  EXPECT_EQ(writer.PriorityNote(), "turned off (journal.writer_yields: false)");
  for (uint64_t i = 1; i <= 20; ++i) {
    writer.Submit(Event(i));
    ASSERT_TRUE(writer.WaitUntilCommitted(testing::In(std::chrono::seconds(20))));
    ASSERT_FALSE(writer.stats().writer_yields);
  }
  store.Hold();
  writer.Submit(Event(21));
  ASSERT_TRUE(store.WaitForACommit(testing::In(std::chrono::seconds(20))));
  EXPECT_EQ(WriterThreadPolicy(), SCHED_OTHER);
  store.Release();
  writer.Stop();
  EXPECT_EQ(writer.stats().priority_changes, 0u);
}

}  // namespace
}  // namespace cordon::storage
