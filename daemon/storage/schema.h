// The database schema as numbered migrations. PRAGMA user_version holds the
// number of the last migration applied; Migrate() applies the rest in one
// transaction at start-up.
#pragma once

#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "sqlite/database.h"

namespace cordon::storage {

using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

std::span<const Migration> Migrations();
int LatestSchemaVersion();

// Brings the database up to LatestSchemaVersion(), or up to `target` when
// given (tests start from every earlier version). Refuses a database newer
// than this binary.
absl::Status Migrate(Database& db, int target = -1);
absl::StatusOr<int> SchemaVersion(Database& db);

}  // namespace cordon::storage
