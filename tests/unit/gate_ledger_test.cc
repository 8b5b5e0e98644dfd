// How the daemon recognises resent scans without touching the database.
#include "daemon/rpc/gate_ledger.h"

#include <gtest/gtest.h>

namespace cordon::rpc {
namespace {

const TimePoint kT0 = FromUnixMicros(1'790'000'000'000'000);
using Kind = GateLedger::Admission::Kind;

storage::RecordedEvent Committed(GateRowId gate, uint64_t inc, uint64_t seq) {
  storage::RecordedEvent e;
  e.gate = gate;
  e.incarnation = inc;
  e.seq = seq;
  return e;
}

TEST(GateLedger, NewThenPendingThenCommitted) {
  GateLedger ledger;
  EXPECT_EQ(ledger.Admit(1, 9, 1, kT0)->kind, Kind::kNew);
  EXPECT_EQ(ledger.Admit(1, 9, 1, kT0)->kind, Kind::kPending) << "decided once, never twice";
  std::vector<storage::RecordedEvent> batch = {Committed(1, 9, 1)};
  ledger.OnCommitted(batch);
  auto again = ledger.Admit(1, 9, 1, kT0);
  EXPECT_EQ(again->kind, Kind::kCommitted);
  EXPECT_EQ(again->committed_up_to, 1u);
}

TEST(GateLedger, APendingScanKeepsItsDecisionForAResend) {
  GateLedger ledger;
  ASSERT_EQ(ledger.Admit(1, 9, 1, kT0)->kind, Kind::kNew);
  v1::Decision d;
  d.set_seq(1);
  d.set_allowed(true);
  ledger.RecordDecision(1, 9, 1, d);
  auto again = ledger.Admit(1, 9, 1, kT0);
  ASSERT_TRUE(again->decision);
  EXPECT_TRUE(again->decision->allowed());
}

TEST(GateLedger, ASequenceNumberThatGoesBackwardsIsRefused) {
  GateLedger ledger;
  ASSERT_EQ(ledger.Admit(1, 9, 10, kT0)->kind, Kind::kNew);
  auto back = ledger.Admit(1, 9, 5, kT0);
  EXPECT_TRUE(absl::IsInvalidArgument(back.status())) << back.status();
}

TEST(GateLedger, IncarnationsHaveSeparateSequenceSpaces) {
  GateLedger ledger;
  std::vector<storage::IncarnationMark> marks = {{1, 9, 100}};
  ledger.Restore(marks);
  EXPECT_EQ(ledger.Admit(1, 9, 100, kT0)->kind, Kind::kCommitted);
  EXPECT_EQ(ledger.Admit(1, 10, 1, kT0)->kind, Kind::kNew) << "a new outbox starts afresh";
}

TEST(GateLedger, AnOutboxOlderThanWhatWasReceivedIsRefused) {
  GateLedger ledger;
  std::vector<storage::IncarnationMark> marks = {{1, 9, 100}};
  ledger.Restore(marks);
  std::optional<uint64_t> greeted;
  auto greet = [&](uint64_t committed) { greeted = committed; };
  auto stale = ledger.Connect(1, 9, 60, nullptr, kT0, greet);
  EXPECT_TRUE(absl::IsFailedPrecondition(stale));
  EXPECT_NE(std::string(stale.message()).find("restored from an older copy"), std::string::npos);
  EXPECT_FALSE(greeted) << "a refused gate is not welcomed";
  ASSERT_TRUE(ledger.Connect(1, 9, 100, nullptr, kT0, greet).ok());
  EXPECT_EQ(greeted, 100u) << "the welcome says what is committed";
}

TEST(GateLedger, CommitsOfOneBatchAdvanceEachIncarnation) {
  GateLedger ledger;
  for (uint64_t s = 1; s <= 3; ++s) ledger.Admit(1, 9, s, kT0).IgnoreError();
  for (uint64_t s = 1; s <= 2; ++s) ledger.Admit(2, 4, s, kT0).IgnoreError();
  std::vector<storage::RecordedEvent> batch = {Committed(1, 9, 1), Committed(2, 4, 1),
                                               Committed(1, 9, 2)};
  ledger.OnCommitted(batch);
  EXPECT_EQ(ledger.Admit(1, 9, 2, kT0)->kind, Kind::kCommitted);
  EXPECT_EQ(ledger.Admit(1, 9, 3, kT0)->kind, Kind::kPending);
  EXPECT_EQ(ledger.Admit(2, 4, 2, kT0)->kind, Kind::kPending);
}

// A stream that stopped reading because too much waited to be committed
// reads again once the writer is down to half, not before; one that went
// away is forgotten.
struct CountingConnection : GateConnection {
  void Send(const grpc::ByteBuffer&) override {}
  void Close(grpc::Status) override {}
  void ResumeReading() override { ++resumed; }
  int resumed = 0;
};

TEST(GateLedger, StreamsPausedAboveTheBacklogLimitResumeAtHalf) {
  GateLedger ledger;
  CountingConnection a, b;
  EXPECT_FALSE(ledger.PauseIfBacklogged(&a, true)) << "no limit set";
  size_t uncommitted = 99;
  ledger.LimitBacklog(100, [&] { return uncommitted; });
  ASSERT_TRUE(ledger.Connect(1, 9, 0, &a, kT0, [](uint64_t) {}).ok());
  ASSERT_TRUE(ledger.Connect(2, 9, 0, &b, kT0, [](uint64_t) {}).ok());
  EXPECT_FALSE(ledger.PauseIfBacklogged(&a, true));
  uncommitted = 100;
  EXPECT_TRUE(ledger.PauseIfBacklogged(&a, true)) << "a batch: a backlog being sent";
  EXPECT_FALSE(ledger.PauseIfBacklogged(&b, false)) << "a live scan goes on";
  uncommitted = 400;
  EXPECT_TRUE(ledger.PauseIfBacklogged(&b, false)) << "storage stalled: everyone waits";
  EXPECT_EQ(ledger.PausedCount(), 2u);
  EXPECT_TRUE(ledger.StatusOf(1).paused) << "its silence is not the gate's";
  uncommitted = 51;
  ledger.ResumeIfRoom();
  EXPECT_EQ(a.resumed + b.resumed, 0) << "still more than half";
  ledger.Disconnect(2, &b);
  uncommitted = 50;
  ledger.ResumeIfRoom();
  EXPECT_EQ(a.resumed, 1);
  EXPECT_EQ(b.resumed, 0) << "gone: never called again";
  EXPECT_EQ(ledger.PausedCount(), 0u);
  ledger.ResumeIfRoom();
  EXPECT_EQ(a.resumed, 1) << "resumed once";
}

}  // namespace
}  // namespace cordon::rpc
