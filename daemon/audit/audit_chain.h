// The audit log's hash chain, pure: each entry's hash is HMAC-SHA256, keyed
// from the campus secret, over the previous entry's hash and the entry's
// fields. Whoever edits an entry without the key cannot make it match; a
// deleted entry leaves a gap in the ids; entries cut from the end no longer
// reach the authenticated head.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/storage/records.h"

namespace cordon::audit {

// The chain's key, derived from the campus secret (not the secret itself, so
// the credential hashes and the chain never share a key).
std::string ChainKey(std::string_view campus_secret);

// The hash of `entry` (its id, time and text fields; not its hash) after `previous`.
std::string EntryHash(std::string_view key, std::string_view previous,
                      const storage::AuditEntry& entry);
// Authenticates the head: the last entry's id and hash.
std::string HeadTag(std::string_view key, int64_t head_id, std::string_view head_hash);

struct Problem {
  int64_t first_id = 0;  // the entry, or the first of a run of missing ones
  int64_t last_id = 0;
  std::string what;      // "edited", "deleted", ...
  std::string Describe() const;
};

// Checks entries fed in id order (all of them after ends.anchor_id) against
// the chain's ends, one at a time, so a long log need not fit in memory. No
// problems: the log is as it was written.
class ChainVerifier {
 public:
  ChainVerifier(std::string key, storage::AuditChainEnds ends);
  void Add(const storage::AuditEntry& entry);
  std::vector<Problem> Finish();
  int64_t checked() const { return checked_; }

 private:
  std::string key_;
  storage::AuditChainEnds ends_;
  int64_t expect_;
  std::string previous_;
  bool previous_bad_ = false;  // already named: not named again by its successor
  int64_t checked_ = 0;
  std::vector<Problem> problems_;
};

std::vector<Problem> VerifyChain(std::string_view key, const storage::AuditChainEnds& ends,
                                 std::span<const storage::AuditEntry> entries);

}  // namespace cordon::audit
