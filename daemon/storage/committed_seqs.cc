#include "daemon/storage/committed_seqs.h"

#include <algorithm>

namespace cordon::storage {

void CommittedSeqs::Restore(const Key& key, uint64_t highest) {
  Incarnation& inc = incarnations_[key];
  inc.highest = std::max(inc.highest, highest);
  inc.missing.clear();
}

bool CommittedSeqs::Holds(const Key& key, uint64_t seq) const {
  auto it = incarnations_.find(key);
  if (it == incarnations_.end() || seq > it->second.highest) return false;
  const auto& missing = it->second.missing;
  auto range = missing.upper_bound(seq);  // the first range starting above seq
  if (range == missing.begin()) return true;
  --range;
  return seq > range->second;
}

void CommittedSeqs::Add(const Key& key, uint64_t seq) {
  Incarnation& inc = incarnations_[key];
  auto& missing = inc.missing;
  if (seq > inc.highest) {
    if (seq > inc.highest + 1) missing.emplace(inc.highest + 1, seq - 1);
    inc.highest = seq;
    if (missing.size() > kMaxMissingRanges) missing.erase(missing.begin());
    return;
  }
  // Below the highest: it fills part of a missing range (callers add only
  // what Holds() said is not held).
  auto range = missing.upper_bound(seq);
  if (range == missing.begin()) return;
  --range;
  const uint64_t first = range->first, last = range->second;
  if (seq > last) return;
  missing.erase(range);
  if (first < seq) missing.emplace(first, seq - 1);
  if (seq < last) missing.emplace(seq + 1, last);
}

size_t CommittedSeqs::MissingRanges(const Key& key) const {
  auto it = incarnations_.find(key);
  return it == incarnations_.end() ? 0 : it->second.missing.size();
}

}  // namespace cordon::storage
