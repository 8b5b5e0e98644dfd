// The audit log: every read of movement or health data and every change of
// policy or people, and every refused call, with who, when, what, why and
// how many rows. Entries are appended on the journal writer's thread (the
// database's one writer), chained by audit_chain.
#pragma once

#include <functional>
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

  // On the writer thread (inside a job): sets the entry's id and hash and
  // appends it in its own transaction.
  absl::Status Append(storage::Store& store, storage::AuditEntry entry);
  // Any thread: appends on the writer thread; `done` runs there with the
  // result (the caller returns nothing until it is OK).
  void Record(storage::AuditEntry entry, std::function<void(absl::Status)> done);

  // Any thread but the writer's: reads the whole log and checks the chain.
  absl::StatusOr<Verification> Verify(storage::Store& store) const;

 private:
  const std::string key_;
  storage::JournalWriter& journal_;
  // Writer thread only (and Load before it starts).
  int64_t head_id_ = 0;
  std::string head_hash_;
};

}  // namespace cordon::audit
