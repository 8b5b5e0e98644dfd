// cordon_sqlite: a thin RAII layer over the SQLite C API: connections, prepared statements
// with bound parameters, and transactions. Errors come back as absl::Status
// carrying SQLite's message; nothing here throws.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cordon::sqlite {

class Statement;
class Database;
absl::Status CopyDatabase(Database& source, const std::string& dest_path);
// Every connection this process opens reads its files without readahead:
// the page cache holds only the pages SQLite asked for, in small folios.
// Installed before the first Open(); true once it is in place.
bool ReadaheadDisabled();

// While alive, the file writes SQLite makes on this thread are counted (a
// WAL frame is two, a page a checkpoint copies one), and after every
// `every` of them (0 = never) `yield` runs. `yield` must outlive this; one
// per thread at a time. A commit's frames and its checkpoint are otherwise
// long unbroken runs of CPU: at 10,000 scans/s, about 2,000 frames a
// commit and 10,000 pages a checkpoint (docs/BENCHMARKS.md, nineteenth
// pass).
class WriteYield {
 public:
  WriteYield(size_t every, const std::function<void()>& yield);
  ~WriteYield();
  WriteYield(const WriteYield&) = delete;
  WriteYield& operator=(const WriteYield&) = delete;

  // Times `yield` ran since construction.
  size_t yields() const;
};

// One SQLite connection. Not thread-safe: one thread uses it at a time.
class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating if kReadWrite) the file and sets the connection pragmas:
  // WAL, synchronous=FULL and foreign keys for writers; query_only for readers.
  static absl::StatusOr<Database> Open(const std::string& path, Mode mode);

  Database(Database&& other) noexcept : db_(other.db_), cache_(std::move(other.cache_)) {
    other.db_ = nullptr;
  }
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  absl::Status Exec(std::string_view sql);
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // A statement prepared once per connection and kept: for queries run
  // often on pooled connections. Returned reset, with no bindings.
  absl::StatusOr<Statement*> Cached(std::string_view sql);
  // Resets every cached statement, ending any read they hold open (a pooled
  // connection must not pin an old snapshot of the WAL).
  void ResetCached();
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }

 private:
  friend absl::Status CopyDatabase(Database& source, const std::string& dest_path);
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  std::unique_ptr<std::unordered_map<std::string, Statement>> cache_;
};

// A prepared statement. Bind with 1-based indexes; Step until it returns
// false (done) or an error.
class Statement {
 public:
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);
  Statement& BindOptText(int index, std::optional<std::string_view> text) {
    return text ? Bind(index, *text) : BindNull(index);
  }
  Statement& Bind(int index, std::optional<int64_t> value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // true: a row is available; false: done.
  absl::StatusOr<bool> Step();
  // Runs a statement that returns no rows.
  absl::Status Run();
  // Resets for another execution and clears the bindings.
  void Reset();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::optional<int64_t> OptInt(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  friend class Database;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless committed.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  absl::Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

// Copies `source` into a new database file at `dest_path` with the online
// backup API, in one step: the copy is the snapshot of one read transaction,
// and in WAL mode the writer is not blocked while it is taken.
absl::Status CopyDatabase(Database& source, const std::string& dest_path);

// Maps an SQLite result code to a status; ok for SQLITE_OK/ROW/DONE.
absl::Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

}  // namespace cordon::sqlite
