// Shutdown, restart and gate incarnations.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>

#include "tests/support/campus.h"

namespace cordon::testing {
namespace {

std::set<uint64_t> OutboxSeqs(const std::string& path) {
  std::set<uint64_t> seqs;
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT seq FROM outbox", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) seqs.insert(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return seqs;
}

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("lifecycle");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    daemon_->Start();
    daemon_->RegisterGate("north-1");
  }
  void TearDown() override {
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  // Runs one gate to completion over `lines`.
  int RunGate(const std::vector<std::string>& lines, const std::string& name,
              GateUnderTest& gate) {
    WriteLines(dir_ + "/" + name, lines);
    gate.Start(daemon_->address(), dir_ + "/" + name);
    return gate.Wait(In(std::chrono::seconds(60))).value_or(-1);
  }
  // Stored and acknowledged are the same set: the gate drops what was acked
  // from its outbox once it has settled the last acks, so no stored scan
  // may stay there.
  void ExpectEveryStoredScanAcknowledged(GateUnderTest& gate) {
    std::set<uint64_t> stored;
    for (const auto& e : ReadEvents(daemon_->db_path())) stored.insert(e.seq);
    size_t both = 0;
    EXPECT_TRUE(WaitFor([&] {
      both = 0;
      for (uint64_t s : OutboxSeqs(gate.outbox_path())) both += stored.count(s);
      return both == 0;
    }, In(std::chrono::seconds(10)))) << both << " committed but never acknowledged";
  }
  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
};

TEST_F(Lifecycle, SigtermCommitsAndAcksWhatIsInFlightThenExitsZero) {
  daemon_->ImportStudents(100);
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) lines.push_back("CARD-S" + std::to_string(i % 100) + (i % 3 ? " in" : " out"));
  WriteLines(dir_ + "/scans.txt", lines);
  GateUnderTest gate(dir_, "north-1");
  gate.Start(daemon_->address(), dir_ + "/scans.txt", {"--rate", "1500"});
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") >= 500; },
                      In(std::chrono::seconds(60))));

  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0) << daemon_->log();
  EXPECT_NE(daemon_->log().find("draining"), std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return gate.output().find("cordond is shutting down") != std::string::npos; },
                      In(std::chrono::seconds(10))))
      << "the gate was told why the stream ended";

  // The drain waits for every message being handled, commits, acks, then
  // closes (a message read after the drain began is left in the outbox).
  ExpectEveryStoredScanAcknowledged(gate);

  daemon_->Start();
  ASSERT_EQ(gate.Wait(In(std::chrono::seconds(60))), 0) << gate.errors();
  EXPECT_EQ(CountRows(daemon_->db_path(), "events"), 3000);
  EXPECT_EQ(ReadEvents(daemon_->db_path()).size(), 3000u);
}

// The same during a replay: the batch the replay lane is storing when the
// drain begins is finished, committed and acknowledged before the stream
// closes, and the rest stays in the gate's outbox.
TEST_F(Lifecycle, SigtermDuringAReplayCommitsAndAcksTheBatchBeingStored) {
  daemon_->ImportStudents(100);
  GateUnderTest gate(dir_, "north-1");
  ASSERT_EQ(RunGate({"CARD-S0 out"}, "warm.txt", gate), 0) << gate.errors();  // the policy copy
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0);
  constexpr int kScans = 5000;
  std::vector<std::string> lines;
  for (int i = 0; i < kScans; ++i) {
    lines.push_back("CARD-S" + std::to_string(i % 100) + ((i / 100) % 2 ? " out" : " in"));
  }
  WriteLines(dir_ + "/day.txt", lines);
  gate.Start(daemon_->address(), dir_ + "/day.txt", {"--offline-limits", "student=none"});
  ASSERT_TRUE(WaitFor([&] {
    return QueryInt(gate.outbox_path(), "SELECT count(*) FROM outbox WHERE seq > 1") == kScans;
  }, In(std::chrono::seconds(60)))) << gate.errors();

  // Each batch (256 scans) held 100 ms on the lane: the replay takes 2 s.
  setenv("CORDON_FAILPOINT_REPLAY_BATCH_DELAY_MS", "100", 1);
  daemon_->Start();
  unsetenv("CORDON_FAILPOINT_REPLAY_BATCH_DELAY_MS");
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") >= 1000; },
                      In(std::chrono::seconds(60))));
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0) << daemon_->log();
  ASSERT_LT(CountRows(daemon_->db_path(), "events"), kScans + 1) << "the drain must come mid-replay";
  ExpectEveryStoredScanAcknowledged(gate);

  daemon_->Start();
  ASSERT_EQ(gate.Wait(In(std::chrono::seconds(60))), 0) << gate.errors();
  EXPECT_EQ(CountRows(daemon_->db_path(), "events"), kScans + 1);
  EXPECT_EQ(QueryInt(daemon_->db_path(), "SELECT count(DISTINCT seq) FROM events"), kScans + 1);
}

// A failed fdatasync of the WAL: cordond stops (exit 74) without
// acknowledging what it could not make durable, and the gate sends it again
// to the next start, which stores each scan once.
TEST_F(Lifecycle, AFailedSyncStopsTheDaemonAndTheGateResendsWhatWasNotAcknowledged) {
  daemon_->ImportStudents(10);
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0);
  setenv("CORDON_FAILPOINT_WAL_SYNC_FAIL", "1", 1);
  daemon_->Start();
  unsetenv("CORDON_FAILPOINT_WAL_SYNC_FAIL");
  constexpr int kScans = 20;
  std::vector<std::string> lines;
  for (int i = 0; i < kScans; ++i) lines.push_back("CARD-S" + std::to_string(i % 10) + (i < 10 ? " in" : " out"));
  WriteLines(dir_ + "/scans.txt", lines);
  GateUnderTest gate(dir_, "north-1");
  gate.Start(daemon_->address(), dir_ + "/scans.txt");
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 74) << daemon_->log() << gate.errors();
  EXPECT_NE(daemon_->log().find("cordond stops: the disk may not hold committed events"),
            std::string::npos) << daemon_->log();
  EXPECT_GT(CountRows(daemon_->db_path(), "events"), 0) << "committed, never synced";
  std::set<uint64_t> waiting = OutboxSeqs(gate.outbox_path());
  for (const auto& e : ReadEvents(daemon_->db_path())) {
    EXPECT_EQ(waiting.count(e.seq), 1u) << "scan " << e.seq << " was acknowledged unsynced";
  }

  daemon_->Start();
  ASSERT_EQ(gate.Wait(In(std::chrono::seconds(60))), 0) << gate.errors();
  EXPECT_EQ(CountRows(daemon_->db_path(), "events"), kScans);
  EXPECT_EQ(QueryInt(daemon_->db_path(), "SELECT count(DISTINCT seq) FROM events"), kScans);
}

TEST_F(Lifecycle, PresenceAndPassUseSurviveARestart) {
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  daemon_->AddPerson("V1", v1::PERSON_CATEGORY_SINGLE_VISIT, "CARD-V1");
  {
    grpc::ClientContext ctx;
    v1::IssuePassRequest req;
    req.set_person("V1");
    req.set_host("S1");
    req.mutable_valid_until()->set_seconds(time(nullptr) + 3600);
    v1::SingleVisitPass pass;
    ASSERT_TRUE(daemon_->admin().IssuePass(&ctx, req, &pass).ok());
  }
  GateUnderTest before(dir_, "north-1");
  ASSERT_EQ(RunGate({"CARD-S1 in", "CARD-V1 in", "CARD-V1 out"}, "before.txt", before), 0);

  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0);
  // The clean stop wrote who is where; everything was committed, so nobody
  // is left for the start to seek in the journal.
  EXPECT_EQ(CountRows(daemon_->db_path(), "presence_snapshot"), 2);
  EXPECT_EQ(CountRows(daemon_->db_path(), "presence_snapshot_unsettled"), 0);
  daemon_->Start();
  EXPECT_NE(daemon_->log().find("1 on campus"), std::string::npos) << daemon_->log();

  GateUnderTest after(dir_, "north-1");
  ASSERT_EQ(RunGate({"CARD-S1 in", "CARD-S1 out", "CARD-V1 in"}, "after.txt", after), 0);
  auto shown = after.Decisions();
  ASSERT_EQ(shown.size(), 3u);
  EXPECT_EQ(shown[0].reason, "DENY_ALREADY_ON_CAMPUS");
  EXPECT_EQ(shown[1].reason, "ALLOW_STUDENT");
  EXPECT_EQ(shown[2].reason, "DENY_PASS_USED");
}

TEST_F(Lifecycle, AReplacedOutboxIsANewIncarnationAndItsScansAreNotMistakenForOld) {
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  GateUnderTest first(dir_, "north-1");
  ASSERT_EQ(RunGate({"CARD-S1 in", "CARD-S1 out", "CARD-S1 in"}, "a.txt", first), 0);
  std::filesystem::remove(first.outbox_path());  // the gate's disk was replaced

  GateUnderTest second(dir_, "north-1");
  ASSERT_EQ(RunGate({"CARD-S1 out", "CARD-S1 in", "CARD-S1 out"}, "b.txt", second), 0);
  auto events = ReadEvents(daemon_->db_path());
  ASSERT_EQ(events.size(), 6u) << "seqs 1-3 of the new outbox are new events";
  EXPECT_NE(events[0].incarnation, events[3].incarnation);
  EXPECT_EQ(events[3].seq, 1u);
  EXPECT_EQ(events[3].reason, "ALLOW_STUDENT");
}

TEST_F(Lifecycle, AnOutboxRestoredFromAnOlderCopyIsRefused) {
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  GateUnderTest first(dir_, "north-1");
  ASSERT_EQ(RunGate({"CARD-S1 in", "CARD-S1 out"}, "a.txt", first), 0);
  std::filesystem::copy_file(first.outbox_path(), dir_ + "/outbox.copy");

  GateUnderTest second(dir_, "north-1");
  ASSERT_EQ(RunGate({"CARD-S1 in", "CARD-S1 out"}, "b.txt", second), 0);
  std::filesystem::copy_file(dir_ + "/outbox.copy", first.outbox_path(),
                             std::filesystem::copy_options::overwrite_existing);

  GateUnderTest third(dir_, "north-1");
  EXPECT_EQ(RunGate({"CARD-S1 in"}, "c.txt", third), 2);
  EXPECT_NE(third.errors().find("restored from an older copy"), std::string::npos)
      << third.errors();
  EXPECT_EQ(CountRows(daemon_->db_path(), "events"), 4) << "nothing was overwritten or lost";
}

}  // namespace
}  // namespace cordon::testing
