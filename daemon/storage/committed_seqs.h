// Which scans of each gate incarnation the store holds, so that a resent
// scan is stored once without an index over (gate, incarnation, seq)
// (schema v11). That index took a leaf page per gate per commit: at
// 1,000 scans/s over 200 gates, one page write per event
// (docs/BENCHMARKS.md, twenty-first pass).
//
// A gate numbers its scans 1, 2, 3...; per incarnation this keeps the
// highest committed and the few numbers below it not committed yet. Those
// are rare: a scan decided on a stream just superseded by the gate's new
// one can commit after the new stream's later scans. After a restart,
// everything up to the highest recorded in gate_incarnations counts as
// held, as the gate ledger counts it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

#include "core/model.h"

namespace cordon::storage {

class CommittedSeqs {
 public:
  using Key = std::pair<GateRowId, uint64_t>;  // gate, incarnation

  // Beyond this many missing ranges in one incarnation the lowest is
  // forgotten (counted as held): a gate that skips numbers cannot grow the
  // map without bound.
  static constexpr size_t kMaxMissingRanges = 64;

  // Everything up to `highest` of this incarnation is held (start-up).
  void Restore(const Key& key, uint64_t highest);
  bool Holds(const Key& key, uint64_t seq) const;
  // Records a committed seq the store did not hold.
  void Add(const Key& key, uint64_t seq);

  // Missing ranges kept for one incarnation (tests).
  size_t MissingRanges(const Key& key) const;

 private:
  struct Incarnation {
    uint64_t highest = 0;
    std::map<uint64_t, uint64_t> missing;  // first -> last, both below highest
  };
  std::map<Key, Incarnation> incarnations_;
};

}  // namespace cordon::storage
