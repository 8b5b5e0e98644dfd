// The gate's outbox on a real SQLite file, and scan-line parsing.
#include <gtest/gtest.h>

#include <filesystem>

#include "gate-agent/outbox.h"
#include "gate-agent/scan_line.h"
#include "tests/support/process.h"

namespace cordon::gate {
namespace {

const TimePoint kT0 = FromUnixMicros(1'790'000'000'000'000);

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("outbox"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Outbox> Open(const std::string& gate = "north-1") {
    auto o = Outbox::Open(dir_ + "/o.db", gate);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? std::move(*o) : nullptr;
  }
  std::vector<NewScan> Scans(int n) {
    std::vector<NewScan> v;
    for (int i = 0; i < n; ++i) v.push_back({"CARD-" + std::to_string(i), Direction::kIn, kT0});
    return v;
  }
  std::string dir_;
};

TEST_F(OutboxTest, SequencesContinueAcrossReopenAndIncarnationIsStable) {
  uint64_t incarnation;
  {
    auto o = Open();
    incarnation = o->incarnation();
    EXPECT_NE(incarnation, 0u);
    auto e = o->Append(Scans(3), {});
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->back().seq, 3u);
  }
  auto o = Open();
  EXPECT_EQ(o->incarnation(), incarnation);
  EXPECT_EQ(o->last_assigned_seq(), 3u);
  auto e = o->Append(Scans(1), {});
  EXPECT_EQ(e->front().seq, 4u);
}

TEST_F(OutboxTest, ANewFileIsANewIncarnation) {
  uint64_t first = Open()->incarnation();
  std::filesystem::remove(dir_ + "/o.db");
  EXPECT_NE(Open()->incarnation(), first);
}

TEST_F(OutboxTest, AnOutboxOfAnotherGateIsRefused) {
  Open("north-1");
  auto other = Outbox::Open(dir_ + "/o.db", "south-1");
  EXPECT_TRUE(absl::IsFailedPrecondition(other.status()));
}

TEST_F(OutboxTest, SettleKeepsDecisionsAndDeletesOnlyAcknowledged) {
  auto o = Open();
  ASSERT_TRUE(o->Append(Scans(5), {}).ok());
  std::vector<std::pair<uint64_t, HeldDecision>> decisions = {
      {4, HeldDecision{true, Reason::kAllowStudent, 3, DecisionSource::kDaemon, kT0}}};
  ASSERT_TRUE(o->Settle(decisions, 2).ok());
  auto left = o->Unacked();
  ASSERT_EQ(left->size(), 3u);
  EXPECT_EQ((*left)[0].seq, 3u);
  EXPECT_FALSE((*left)[0].decision);
  ASSERT_TRUE((*left)[1].decision);
  EXPECT_EQ((*left)[1].decision->reason, Reason::kAllowStudent);
  EXPECT_EQ((*left)[1].decision->policy_version, 3);
}

TEST_F(OutboxTest, TheInputOffsetIsSavedWithTheScans) {
  auto o = Open();
  std::vector<InputMark> marks = {{"/x/scans.txt", 42}};
  ASSERT_TRUE(o->Append(Scans(2), marks).ok());
  EXPECT_EQ(*o->InputOffset("/x/scans.txt"), 42);
  EXPECT_EQ(*o->InputOffset("/other"), 0);
}

TEST(ScanLine, ParsesCredentialAndDirection) {
  auto p = ParseScanLine("CARD-1 in");
  ASSERT_TRUE(std::holds_alternative<ParsedScan>(p));
  EXPECT_EQ(std::get<ParsedScan>(p).credential, "CARD-1");
  auto q = ParseScanLine("  QR:abc\tOUT\r");
  ASSERT_TRUE(std::holds_alternative<ParsedScan>(q));
  EXPECT_EQ(std::get<ParsedScan>(q).direction, Direction::kOut);
}

TEST(ScanLine, ADisinfectionIsItsOwnKindOfLine) {
  auto d = ParseScanLine("PLATE-7 disinfected");
  ASSERT_TRUE(std::holds_alternative<ParsedDisinfection>(d));
  EXPECT_EQ(std::get<ParsedDisinfection>(d).credential, "PLATE-7");
  EXPECT_TRUE(std::holds_alternative<BadLine>(ParseScanLine("PLATE-7 disinfect")));
}

TEST(ScanLine, SkipsBlankAndCommentLines) {
  EXPECT_TRUE(std::holds_alternative<SkippedLine>(ParseScanLine("")));
  EXPECT_TRUE(std::holds_alternative<SkippedLine>(ParseScanLine("   ")));
  EXPECT_TRUE(std::holds_alternative<SkippedLine>(ParseScanLine("# morning shift")));
}

TEST(ScanLine, RejectsMalformedLinesWithAReason) {
  EXPECT_TRUE(std::holds_alternative<BadLine>(ParseScanLine("CARD-1")));
  EXPECT_TRUE(std::holds_alternative<BadLine>(ParseScanLine("CARD-1 sideways")));
  EXPECT_TRUE(std::holds_alternative<BadLine>(ParseScanLine("a b c")));
  EXPECT_TRUE(std::holds_alternative<BadLine>(ParseScanLine(std::string(200, 'x') + " in")));
}

}  // namespace
}  // namespace cordon::gate
