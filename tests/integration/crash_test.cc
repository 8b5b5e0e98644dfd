// kill -9 in the middle of the stream, of the daemon or of a gate: every
// scan ends up in the events table exactly once, with the decision the gate
// acted on.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "tests/support/campus.h"

namespace cordon::testing {
namespace {

constexpr int kGates = 4;
constexpr int kScansPerGate = 2500;
constexpr int kStudents = 400;

class Crash : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("crash");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    daemon_->Start();
    daemon_->ImportStudents(kStudents);
    std::mt19937 rng(42);
    for (int g = 0; g < kGates; ++g) {
      std::string id = "gate-" + std::to_string(g);
      daemon_->RegisterGate(id);
      std::vector<std::string> lines;
      for (int i = 0; i < kScansPerGate; ++i) {
        lines.push_back("CARD-S" + std::to_string(rng() % kStudents) + (rng() % 2 ? " in" : " out"));
      }
      WriteLines(dir_ + "/" + id + ".txt", lines);
      gates_.push_back(std::make_unique<GateUnderTest>(dir_, id));
    }
  }
  void TearDown() override {
    gates_.clear();
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  void StartGate(int g) {
    // Paced like a busy lane so that the kill lands mid-stream.
    gates_[g]->Start(daemon_->address(), dir_ + "/" + gates_[g]->gate_id() + ".txt",
                     {"--rate", "1500"});
  }

  // Every scan of every gate is stored once, and every decision a gate showed
  // is the decision stored. A decision in flight at the kill may never be
  // shown (the person saw nothing and scans again), but only there: each
  // gate's unshown decisions form at most `max_gaps[gate]` contiguous runs.
  void ExpectEverythingRecordedOnce(const std::map<std::string, int>& max_gaps) {
    auto events = ReadEvents(daemon_->db_path());
    EXPECT_EQ(events.size(), static_cast<size_t>(kGates * kScansPerGate));
    std::map<std::string, std::map<uint64_t, EventRow>> by_gate;
    for (const auto& e : events) {
      EXPECT_TRUE(by_gate[e.gate_id].emplace(e.seq, e).second)
          << e.gate_id << " seq " << e.seq << " stored twice";
    }
    for (const auto& gate : gates_) {
      const auto& stored = by_gate[gate->gate_id()];
      EXPECT_EQ(stored.size(), static_cast<size_t>(kScansPerGate)) << gate->gate_id();
      if (!stored.empty()) {
        EXPECT_EQ(stored.begin()->first, 1u);
        EXPECT_EQ(stored.rbegin()->first, static_cast<uint64_t>(kScansPerGate));
      }
      std::set<uint64_t> shown_seqs;
      for (const auto& d : gate->Decisions()) {
        EXPECT_TRUE(shown_seqs.insert(d.seq).second)
            << gate->gate_id() << " showed seq " << d.seq << " twice";
        auto it = stored.find(d.seq);
        ASSERT_NE(it, stored.end()) << gate->gate_id() << " seq " << d.seq << " lost";
        EXPECT_EQ(it->second.reason, d.reason) << gate->gate_id() << " seq " << d.seq;
        EXPECT_EQ(it->second.allowed, d.allowed);
      }
      int gaps = 0;
      int unshown = 0;
      for (uint64_t seq = 1; seq <= kScansPerGate; ++seq) {
        if (shown_seqs.count(seq)) continue;
        ++unshown;
        if (seq == 1 || shown_seqs.count(seq - 1)) ++gaps;
      }
      auto allowed = max_gaps.find(gate->gate_id());
      EXPECT_LE(gaps, allowed == max_gaps.end() ? 0 : allowed->second)
          << gate->gate_id() << ": " << unshown << " decisions unshown in " << gaps << " runs";
      RecordProperty(gate->gate_id() + "_unshown", unshown);
    }
  }

  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
  std::vector<std::unique_ptr<GateUnderTest>> gates_;
};

TEST_F(Crash, DaemonKilledMidStreamLosesAndDuplicatesNothing) {
  for (int g = 0; g < kGates; ++g) StartGate(g);
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") >= 2000; },
                      In(std::chrono::seconds(60))));
  daemon_->Signal(SIGKILL);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(10))), 128 + SIGKILL);
  int64_t at_kill = CountRows(daemon_->db_path(), "events");
  ASSERT_LT(at_kill, kGates * kScansPerGate) << "the kill must land mid-stream";

  daemon_->Start();  // same data directory, same port
  for (int g = 0; g < kGates; ++g) {
    ASSERT_EQ(gates_[g]->Wait(In(std::chrono::seconds(120))), 0) << gates_[g]->errors();
  }
  std::map<std::string, int> one_interruption_each;
  for (const auto& g : gates_) one_interruption_each[g->gate_id()] = 1;
  ExpectEverythingRecordedOnce(one_interruption_each);
  EXPECT_NE(daemon_->log().find("gate incarnations"), std::string::npos);
}

TEST_F(Crash, GateKilledMidStreamLosesAndDuplicatesNothing) {
  for (int g = 0; g < kGates; ++g) StartGate(g);
  GateUnderTest& victim = *gates_[1];
  // A plain count of lines, not a parse: parsing thousands of JSON lines per
  // poll (slow under ASan) let the gate finish before the kill landed.
  auto shown = [&] {
    std::string out = victim.output();
    size_t n = 0;
    for (size_t at = out.find("\"event\":\"decision\""); at != std::string::npos;
         at = out.find("\"event\":\"decision\"", at + 1)) {
      ++n;
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return shown() >= 500; }, In(std::chrono::seconds(60))));
  victim.Signal(SIGKILL);
  ASSERT_EQ(victim.Wait(In(std::chrono::seconds(10))), 128 + SIGKILL);
  ASSERT_LT(victim.Decisions().size(), static_cast<size_t>(kScansPerGate));

  StartGate(1);  // same outbox, same input file: resumes after the last stored line
  for (int g = 0; g < kGates; ++g) {
    ASSERT_EQ(gates_[g]->Wait(In(std::chrono::seconds(120))), 0) << gates_[g]->errors();
  }
  EXPECT_NE(victim.errors().find("resuming"), std::string::npos) << victim.errors();
  ExpectEverythingRecordedOnce({{victim.gate_id(), 1}});
}

}  // namespace
}  // namespace cordon::testing
