// How the daemon recognises resent scans without touching the database.
#include "daemon/rpc/gate_ledger.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

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
  ledger.OnCommitted(batch, GateLedger::Steady());
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
  ledger.OnCommitted(batch, GateLedger::Steady());
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


// What a gate is told is committed, and in which message.
struct RecordingConnection : GateConnection {
  using GateConnection::Send;
  void Send(const grpc::ByteBuffer& bytes) override {
    grpc::ByteBuffer copy(bytes);
    v1::DaemonMessage m;
    EXPECT_TRUE(grpc::SerializationTraits<v1::DaemonMessage>::Deserialize(&copy, &m).ok());
    std::lock_guard lock(mu);
    if (m.has_persist_ack()) acks.push_back(m.persist_ack().up_to_seq());
  }
  void Close(grpc::Status) override {}
  void ResumeReading() override {}
  std::vector<uint64_t> Acks() {
    std::lock_guard lock(mu);
    return acks;
  }
  std::mutex mu;
  std::vector<uint64_t> acks;
};

using namespace std::chrono_literals;
const GateLedger::Steady kS0 = GateLedger::Steady() + 1h;
const GateLedger::AckPolicy kPolicy{.delay = 500ms, .bulk = 32};

std::vector<storage::RecordedEvent> Seqs(uint64_t from, uint64_t to) {
  std::vector<storage::RecordedEvent> out;
  for (uint64_t s = from; s <= to; ++s) out.push_back(Committed(1, 9, s));
  return out;
}

TEST(GateLedgerAcks, ACommitToldInTheNextDecisionNeedsNoPersistAck) {
  GateLedger ledger;
  RecordingConnection gate;
  ASSERT_TRUE(ledger.Connect(1, 9, 0, &gate, kT0, [](uint64_t) {}).ok());
  ASSERT_EQ(ledger.Admit(1, 9, 1, kT0, /*answered=*/true)->kind, Kind::kNew);
  auto keys = ledger.OnCommitted(Seqs(1, 1), kS0);
  auto round = ledger.SendAcks(keys, kS0 + 10ms, kPolicy);
  ASSERT_EQ(round.waiting.size(), 1u) << "a decision may come first";
  EXPECT_EQ(round.due, kS0 + 500ms);
  auto next = ledger.Admit(1, 9, 2, kT0, /*answered=*/true);
  EXPECT_EQ(next->committed_up_to, 1u) << "the decision for 2 carries 1";
  round = ledger.SendAcks(round.waiting, kS0 + 600ms, kPolicy);
  EXPECT_TRUE(round.waiting.empty());
  EXPECT_TRUE(gate.Acks().empty()) << "told in the decision";
}

TEST(GateLedgerAcks, ACommitNobodyToldGoesInAPersistAckAfterTheDelay) {
  GateLedger ledger;
  RecordingConnection gate;
  ASSERT_TRUE(ledger.Connect(1, 9, 0, &gate, kT0, [](uint64_t) {}).ok());
  ledger.Admit(1, 9, 1, kT0, true).IgnoreError();
  ledger.Admit(1, 9, 2, kT0, true).IgnoreError();
  auto keys = ledger.OnCommitted(Seqs(1, 1), kS0);
  auto round = ledger.SendAcks(keys, kS0, kPolicy);
  // A later commit does not put the first one off.
  keys = ledger.OnCommitted(Seqs(2, 2), kS0 + 300ms);
  round = ledger.SendAcks(keys, kS0 + 300ms, kPolicy);
  EXPECT_EQ(round.due, kS0 + 500ms);
  round = ledger.SendAcks(round.waiting, kS0 + 499ms, kPolicy);
  EXPECT_TRUE(gate.Acks().empty());
  round = ledger.SendAcks(round.waiting, kS0 + 500ms, kPolicy);
  EXPECT_TRUE(round.waiting.empty());
  EXPECT_EQ(gate.Acks(), std::vector<uint64_t>{2});
  round = ledger.SendAcks(keys, kS0 + 2s, kPolicy);
  EXPECT_EQ(gate.Acks().size(), 1u) << "told once";
}

TEST(GateLedgerAcks, ScansSentWithTheirDecisionsAreNotAnswered) {
  GateLedger ledger;
  RecordingConnection gate;
  ASSERT_TRUE(ledger.Connect(1, 9, 0, &gate, kT0, [](uint64_t) {}).ok());
  ledger.Admit(1, 9, 1, kT0, true).IgnoreError();
  auto keys = ledger.OnCommitted(Seqs(1, 1), kS0);
  // A replayed scan carries the gate's decision: no Decision goes back.
  ledger.Admit(1, 9, 2, kT0, /*answered=*/false).IgnoreError();
  auto round = ledger.SendAcks(keys, kS0 + 500ms, kPolicy);
  EXPECT_EQ(gate.Acks(), std::vector<uint64_t>{1});
}

TEST(GateLedgerAcks, ABulkCommitGoesAtOnce) {
  GateLedger ledger;
  RecordingConnection gate;
  ASSERT_TRUE(ledger.Connect(1, 9, 0, &gate, kT0, [](uint64_t) {}).ok());
  for (uint64_t s = 1; s <= 32; ++s) ledger.Admit(1, 9, s, kT0, false).IgnoreError();
  auto keys = ledger.OnCommitted(Seqs(1, 31), kS0);
  EXPECT_EQ(ledger.SendAcks(keys, kS0, kPolicy).waiting.size(), 1u) << "31: waits";
  keys = ledger.OnCommitted(Seqs(32, 32), kS0);
  EXPECT_TRUE(ledger.SendAcks(keys, kS0, kPolicy).waiting.empty()) << "32: a backlog";
  EXPECT_EQ(gate.Acks(), std::vector<uint64_t>{32});
}

TEST(GateLedgerAcks, AReconnectedGateIsToldInItsWelcome) {
  GateLedger ledger;
  RecordingConnection first, second;
  ASSERT_TRUE(ledger.Connect(1, 9, 0, &first, kT0, [](uint64_t) {}).ok());
  ledger.Admit(1, 9, 1, kT0, true).IgnoreError();
  auto keys = ledger.OnCommitted(Seqs(1, 1), kS0);
  ledger.Disconnect(1, &first);
  EXPECT_TRUE(ledger.SendAcks(keys, kS0 + 1s, kPolicy).waiting.empty()) << "no stream";
  uint64_t welcomed = 0;
  ASSERT_TRUE(ledger.Connect(1, 9, 1, &second, kT0, [&](uint64_t c) { welcomed = c; }).ok());
  EXPECT_EQ(welcomed, 1u);
  EXPECT_TRUE(ledger.SendAcks(keys, kS0 + 1s, kPolicy).waiting.empty());
  EXPECT_TRUE(first.Acks().empty());
  EXPECT_TRUE(second.Acks().empty()) << "the Welcome said it";
}

// The sender's own thread: an ack not told by a decision arrives after the
// delay; a drain sends what is waiting at once.
template <typename F>
bool WaitFor(F done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(AckSender, SendsAfterTheDelayAndEverythingAtAFlush) {
  GateLedger ledger;
  RecordingConnection gate;
  ASSERT_TRUE(ledger.Connect(1, 9, 0, &gate, kT0, [](uint64_t) {}).ok());
  AckSender sender(ledger, {.delay = 100ms, .bulk = 32});
  ledger.Admit(1, 9, 1, kT0, true).IgnoreError();
  auto posted = std::chrono::steady_clock::now();
  sender.Post(ledger.OnCommitted(Seqs(1, 1), posted));
  ASSERT_TRUE(WaitFor([&] { return !gate.Acks().empty(); }, 10s));
  EXPECT_GE(std::chrono::steady_clock::now() - posted, 100ms) << "not before the delay";
  EXPECT_EQ(gate.Acks(), std::vector<uint64_t>{1});

  AckSender slow(ledger, {.delay = 1h, .bulk = 32});
  ledger.Admit(1, 9, 2, kT0, true).IgnoreError();
  slow.Post(ledger.OnCommitted(Seqs(2, 2), std::chrono::steady_clock::now()));
  EXPECT_TRUE(slow.Flush(std::chrono::steady_clock::now() + 10s));
  EXPECT_EQ(gate.Acks(), (std::vector<uint64_t>{1, 2})) << "the drain does not wait an hour";
}

}  // namespace
}  // namespace cordon::rpc
