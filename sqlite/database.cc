#include "sqlite/database.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <type_traits>

namespace cordon::sqlite {

namespace {

// SQLite's own system calls, replaced below for every connection in the
// process. Set once, before the first connection opens.
int (*real_open)(const char*, int, int) = nullptr;
void* (*real_mmap)(void*, size_t, int, int, int, off_t) = nullptr;
void* (*real_mremap)(void*, size_t, size_t, int, ...) = nullptr;
ssize_t (*real_write)(int, const void*, size_t) = nullptr;
ssize_t (*real_pwrite)(int, const void*, size_t, off_t) = nullptr;
ssize_t (*real_pwrite64)(int, const void*, size_t, off_t) = nullptr;

// This thread's WriteYield, if one is alive on it.
thread_local size_t yield_every_writes = 0;
thread_local size_t writes_since_yield = 0;
thread_local const std::function<void()>* write_yield = nullptr;
thread_local size_t yields_done = 0;

void NoteWrite() {
  if (yield_every_writes == 0 || ++writes_since_yield < yield_every_writes) return;
  writes_since_yield = 0;
  ++yields_done;
  (*write_yield)();
}

// SQLite writes with one of these, depending on how it was built.
ssize_t WriteNoted(int fd, const void* buf, size_t n) {
  ssize_t r = real_write(fd, buf, n);
  NoteWrite();
  return r;
}

ssize_t PwriteNoted(int fd, const void* buf, size_t n, off_t offset) {
  ssize_t r = real_pwrite(fd, buf, n, offset);
  NoteWrite();
  return r;
}

ssize_t Pwrite64Noted(int fd, const void* buf, size_t n, off_t offset) {
  ssize_t r = real_pwrite64(fd, buf, n, offset);
  NoteWrite();
  return r;
}

// No readahead: the kernel would fill the page cache around each page
// SQLite reads (8 MB here), in large folios. The writer later dirties 4 KB
// of such a folio at a checkpoint and is accounted the whole folio:
// after a sequential read of the store, 2.1 GB accounted in 20 s at 1,000
// scans/s against 0.41 GB, and the writer at 4.9-5.2% of a core against
// 4.2-4.4% (docs/BENCHMARKS.md, eleventh pass). B-tree pages are read at random.
int OpenWithoutReadahead(const char* path, int flags, int mode) {
  int fd = real_open(path, flags, mode);
  if (fd >= 0) posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);  // advice: a failure changes nothing
  return fd;
}

void* MapWithoutReadahead(void* addr, size_t len, int prot, int flags, int fd, off_t offset) {
  void* p = real_mmap(addr, len, prot, flags, fd, offset);
  if (p != MAP_FAILED) madvise(p, len, MADV_RANDOM);
  return p;
}

void* RemapWithoutReadahead(void* old, size_t old_len, size_t new_len, int flags, ...) {
  // SQLite passes MREMAP_MAYMOVE only: there is no fifth argument to forward.
  void* p = real_mremap(old, old_len, new_len, flags);
  if (p != MAP_FAILED) madvise(p, new_len, MADV_RANDOM);
  return p;
}

void InstallSystemCalls() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Before anything initializes SQLite (sqlite3_vfs_find does). Nothing
    // here reads SQLite's memory statistics, and keeping them takes a
    // global mutex on every allocation: 3.9% of the writer's samples in a
    // replay, 2-9% less CPU per event without (BENCHMARKS, twenty-first
    // pass). Once SQLite is initialized the call is refused; nothing changes.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
    if (vfs == nullptr || vfs->iVersion < 3 || vfs->xGetSystemCall == nullptr) return;
    auto replace = [vfs](const char* name, auto& real, sqlite3_syscall_ptr ours) {
      sqlite3_syscall_ptr current = vfs->xGetSystemCall(vfs, name);
      if (current == nullptr) return;  // not this VFS's call (or no mmap build): keep SQLite's
      real = reinterpret_cast<std::remove_reference_t<decltype(real)>>(current);
      if (vfs->xSetSystemCall(vfs, name, ours) != SQLITE_OK) real = nullptr;
    };
    replace("open", real_open, reinterpret_cast<sqlite3_syscall_ptr>(&OpenWithoutReadahead));
    replace("mmap", real_mmap, reinterpret_cast<sqlite3_syscall_ptr>(&MapWithoutReadahead));
    replace("mremap", real_mremap, reinterpret_cast<sqlite3_syscall_ptr>(&RemapWithoutReadahead));
    replace("write", real_write, reinterpret_cast<sqlite3_syscall_ptr>(&WriteNoted));
    replace("pwrite", real_pwrite, reinterpret_cast<sqlite3_syscall_ptr>(&PwriteNoted));
    replace("pwrite64", real_pwrite64, reinterpret_cast<sqlite3_syscall_ptr>(&Pwrite64Noted));
  });
}

}  // namespace

bool ReadaheadDisabled() {
  InstallSystemCalls();
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  return vfs != nullptr && vfs->iVersion >= 3 &&
         vfs->xGetSystemCall(vfs, "open") ==
             reinterpret_cast<sqlite3_syscall_ptr>(&OpenWithoutReadahead);
}

WriteYield::WriteYield(size_t every, const std::function<void()>& yield) {
  InstallSystemCalls();
  yield_every_writes = yield ? every : 0;
  writes_since_yield = 0;
  write_yield = &yield;
  yields_done = 0;
}

WriteYield::~WriteYield() {
  yield_every_writes = 0;
  write_yield = nullptr;
}

size_t WriteYield::yields() const { return yields_done; }

absl::Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return absl::OkStatus();
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xFF) {
    case SQLITE_CONSTRAINT: return absl::AlreadyExistsError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return absl::UnavailableError(msg);
    case SQLITE_FULL: return absl::ResourceExhaustedError(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return absl::PermissionDeniedError(msg);
    default: return absl::InternalError(msg);
  }
}

absl::StatusOr<Database> Database::Open(const std::string& path, Mode mode) {
  sqlite3* raw = nullptr;
  int flags = mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                       : SQLITE_OPEN_READONLY;
  flags |= SQLITE_OPEN_NOMUTEX;  // each connection is confined to one thread at a time
  InstallSystemCalls();
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);  // closes raw on every return path
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  // Page caches (KiB): the writer's 32 MiB holds the hot index pages of
  // events and presence intervals, which random person ids touch all over;
  // the default 2 MiB made ingest on a 14 M-event store page-fault bound.
  // Readers map the file: a query touching a hundred scattered pages then
  // reads them without a system call each.
  absl::Status st = mode == Mode::kReadWrite
                        ? db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                  "PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768; "
                                  "PRAGMA wal_autocheckpoint=10000;")
                        : db.Exec("PRAGMA query_only=ON; PRAGMA cache_size=-16384; "
                                  "PRAGMA mmap_size=8589934592;");
  if (!st.ok()) return st;
  return db;
}

absl::Status CopyDatabase(Database& source, const std::string& dest_path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(dest_path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Database dest(raw);
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "open " + dest_path);
  sqlite3_backup* backup = sqlite3_backup_init(raw, "main", source.raw(), "main");
  if (backup == nullptr) return SqliteStatus(raw, sqlite3_errcode(raw), "backup to " + dest_path);
  rc = sqlite3_backup_step(backup, -1);  // -1: every page, under one read lock
  int finish = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return SqliteStatus(raw, rc, "backup to " + dest_path);
  if (finish != SQLITE_OK) return SqliteStatus(raw, finish, "backup to " + dest_path);
  // A self-contained file: no WAL beside it.
  return dest.Exec("PRAGMA journal_mode=DELETE;");
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    cache_.reset();  // statements before their connection
    if (db_) sqlite3_close_v2(db_);
    db_ = other.db_;
    cache_ = std::move(other.cache_);
    other.db_ = nullptr;
  }
  return *this;
}

Database::~Database() {
  cache_.reset();
  if (db_) sqlite3_close_v2(db_);
}

absl::StatusOr<Statement*> Database::Cached(std::string_view sql) {
  if (!cache_) cache_ = std::make_unique<std::unordered_map<std::string, Statement>>();
  auto it = cache_->find(std::string(sql));
  if (it == cache_->end()) {
    auto prepared = Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    it = cache_->emplace(std::string(sql), std::move(*prepared)).first;
  }
  it->second.Reset();
  return &it->second;
}

void Database::ResetCached() {
  if (!cache_) return;
  for (auto& [sql, stmt] : *cache_) stmt.Reset();
}

absl::Status Database::Exec(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqliteStatus(nullptr, rc, msg);
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "prepare");
  return Statement(stmt);
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  // A null data pointer would bind SQL NULL, not an empty string.
  sqlite3_bind_text(stmt_, index, text.data() ? text.data() : "", static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data() ? bytes.data() : "", static_cast<int>(bytes.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(sqlite3_db_handle(stmt_), rc, "step");
}

absl::Status Statement::Run() {
  auto row = Step();
  absl::Status st = row.ok() ? absl::OkStatus() : row.status();
  Reset();
  return st;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::optional<int64_t> Statement::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::string Statement::Text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::string Statement::Blob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

absl::StatusOr<Transaction> Transaction::Begin(Database& db) {
  if (auto st = db.Exec("BEGIN IMMEDIATE"); !st.ok()) return st;
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) db_->Exec("ROLLBACK").IgnoreError();
}

absl::Status Transaction::Commit() {
  absl::Status st = db_->Exec("COMMIT");
  if (st.ok()) db_ = nullptr;
  return st;
}

}  // namespace cordon::sqlite
