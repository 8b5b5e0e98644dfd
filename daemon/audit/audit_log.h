// The audit log: every read of movement or health data and every change of
// policy or people, and every refused call, with who, when, what, why and
// how many rows. Entries are appended on the journal writer's thread (the
// database's one writer), chained by audit_chain.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <vector>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/audit/audit_chain.h"
#include "daemon/storage/journal_writer.h"
#include "daemon/storage/store.h"

namespace cordon::audit {

struct Verification {
  int64_t entries = 0;  // entries read
  int64_t anchor_id = 0, head_id = 0;
  std::vector<Problem> problems;
};

class AuditLog {
 public:
  AuditLog(std::string key, storage::JournalWriter& journal)
      : key_(std::move(key)), journal_(journal) {}

  // Before the writer starts: picks up the chain's head. A head that does not
  // match the entries (the log was tampered with while cordond was stopped)
  // is logged; new entries chain on from the head, so verify still shows it.
  absl::Status Load(storage::Store& store);

  // Any thread: queues the entry; one writer job appends everything queued
  // in one transaction (a burst of reads or refusals costs one commit, not
  // one each, on the thread that also commits the gates' events). `done`
  // runs on the writer thread with the result (the caller returns nothing
  // until it is OK).
  void Record(storage::AuditEntry entry, std::function<void(absl::Status)> done);

  // On the writer thread (inside a journal job): appends what is queued and
  // then `entry`, in one transaction, and returns when it is committed. For
  // a change, whose entry must stand before the change is made.
  absl::Status AppendNow(storage::Store& store, storage::AuditEntry entry);

  // Any thread but the writer's: reads the whole log and checks the chain.
  absl::StatusOr<Verification> Verify(storage::Store& store) const;

 private:
  struct Pending {
    storage::AuditEntry entry;
    std::function<void(absl::Status)> done;
  };
  // On the writer thread: numbers, chains and appends what is queued, then
  // `also` if given; returns the write's result.
  absl::Status Flush(storage::Store& store, std::optional<storage::AuditEntry> also = {});

  const std::string key_;
  storage::JournalWriter& journal_;
  std::mutex mu_;
  std::vector<Pending> pending_;  // guarded by mu_
  bool flush_posted_ = false;     // guarded by mu_
  // Writer thread only (and Load before it starts).
  int64_t head_id_ = 0;
  std::string head_hash_;
};

}  // namespace cordon::audit
