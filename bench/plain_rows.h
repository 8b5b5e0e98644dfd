// The raw limit for storing events: each event's row, and for an entry a new
// presence interval, for an exit the update that closes it (found in a map,
// not by a query), written with plain prepared statements in one
// transaction per batch, into a cordond store (same tables and indexes; WAL,
// synchronous=FULL as cordond opens it). No presence, no rebuilds, no
// retention: what SQLite alone costs for cordond's rows. Used by
// `history_fill --plain` and by `cordon-bench echo --store`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "daemon/storage/records.h"
#include "sqlite/database.h"

namespace cordon::bench {

class PlainRows {
 public:
  static absl::StatusOr<PlainRows> Open(const std::string& path);

  // One transaction: the events, their intervals, and the highest sequence
  // per gate incarnation. The raw limit stores every row it is given; it
  // does not look for resends.
  absl::Status Commit(std::span<const storage::RecordedEvent> events);

 private:
  PlainRows(sqlite::Database db, sqlite::Statement insert, sqlite::Statement open,
            sqlite::Statement close, sqlite::Statement mark)
      : db_(std::move(db)), insert_(std::move(insert)), open_(std::move(open)),
        close_(std::move(close)), mark_(std::move(mark)) {}

  sqlite::Database db_;
  sqlite::Statement insert_, open_, close_, mark_;
  std::unordered_map<PersonId, int64_t> open_interval_;  // person -> interval row
};

}  // namespace cordon::bench
