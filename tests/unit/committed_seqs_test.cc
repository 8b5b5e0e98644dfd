// Which scans of a gate incarnation the store holds (resends are skipped
// without a unique index; daemon/storage/committed_seqs.h).
#include "daemon/storage/committed_seqs.h"

#include <gtest/gtest.h>

namespace cordon::storage {
namespace {

const CommittedSeqs::Key kGate{3, 77};
const CommittedSeqs::Key kOtherIncarnation{3, 78};

TEST(CommittedSeqs, InOrderScansAreHeldUpToTheHighest) {
  CommittedSeqs seqs;
  EXPECT_FALSE(seqs.Holds(kGate, 1));
  for (uint64_t s = 1; s <= 3; ++s) seqs.Add(kGate, s);
  EXPECT_TRUE(seqs.Holds(kGate, 1));
  EXPECT_TRUE(seqs.Holds(kGate, 3));
  EXPECT_FALSE(seqs.Holds(kGate, 4));
  EXPECT_FALSE(seqs.Holds(kOtherIncarnation, 1)) << "a new incarnation starts again at 1";
  EXPECT_EQ(seqs.MissingRanges(kGate), 0u);
}

TEST(CommittedSeqs, AScanCommittedAfterALaterOneIsNotTakenForAResend) {
  CommittedSeqs seqs;
  seqs.Add(kGate, 1);
  seqs.Add(kGate, 5);  // 2-4 decided on a superseded stream, not committed yet
  EXPECT_TRUE(seqs.Holds(kGate, 1));
  EXPECT_FALSE(seqs.Holds(kGate, 2));
  EXPECT_FALSE(seqs.Holds(kGate, 3));
  EXPECT_FALSE(seqs.Holds(kGate, 4));
  EXPECT_TRUE(seqs.Holds(kGate, 5));
  seqs.Add(kGate, 3);  // the middle one first: the range splits
  EXPECT_TRUE(seqs.Holds(kGate, 3));
  EXPECT_FALSE(seqs.Holds(kGate, 2));
  EXPECT_FALSE(seqs.Holds(kGate, 4));
  EXPECT_EQ(seqs.MissingRanges(kGate), 2u);
  seqs.Add(kGate, 2);
  seqs.Add(kGate, 4);
  for (uint64_t s = 1; s <= 5; ++s) EXPECT_TRUE(seqs.Holds(kGate, s)) << s;
  EXPECT_EQ(seqs.MissingRanges(kGate), 0u);
}

TEST(CommittedSeqs, ARestartCountsEverythingUpToTheRecordedHighestAsHeld) {
  CommittedSeqs seqs;
  seqs.Add(kGate, 1);
  seqs.Add(kGate, 9);
  seqs.Restore(kGate, 9);  // as gate_incarnations has it, and the gate ledger
  for (uint64_t s = 1; s <= 9; ++s) EXPECT_TRUE(seqs.Holds(kGate, s)) << s;
  EXPECT_FALSE(seqs.Holds(kGate, 10));
}

TEST(CommittedSeqs, AGateThatSkipsNumbersKeepsABoundedRecord) {
  CommittedSeqs seqs;
  for (uint64_t s = 2; s <= 2 * (CommittedSeqs::kMaxMissingRanges + 10); s += 2) seqs.Add(kGate, s);
  EXPECT_EQ(seqs.MissingRanges(kGate), CommittedSeqs::kMaxMissingRanges);
  EXPECT_TRUE(seqs.Holds(kGate, 1)) << "the oldest missing ranges are forgotten";
  EXPECT_FALSE(seqs.Holds(kGate, 2 * (CommittedSeqs::kMaxMissingRanges + 10) - 1))
      << "the newest are kept";
}

}  // namespace
}  // namespace cordon::storage
