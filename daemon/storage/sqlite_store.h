// The embedded backend: one SQLite file in WAL mode. The writer connection
// belongs to the journal writer thread; queries borrow read-only connections
// from a small pool, so they never wait for a commit.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sqlite/database.h"
#include "daemon/storage/committed_seqs.h"
#include "daemon/storage/interval_journal.h"
#include "daemon/storage/store.h"

namespace cordon::storage {

using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;

class SqliteStore final : public Store {
 public:
  // Opens or creates the database and applies pending migrations.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);

  // The database remembers a fingerprint of the campus secret it was first
  // opened with. Opening it with another secret (a backup restored without
  // its campus.key) would make every card unknown: refuse instead.
  absl::Status CheckCampusKey(const CredentialHasher& hasher);

  absl::StatusOr<PolicySnapshot> LoadPolicy() override;
  absl::Status RestoreCampusState(const PolicySnapshot& policy, CampusState& state) override;
  absl::Status SavePresenceSnapshot(std::span<const PresenceMark> marks,
                                    std::span<const PersonId> unsettled) override;
  absl::Status CampusStateAsOf(const PolicySnapshot& policy, TimePoint t,
                               CampusState& state) override;
  absl::StatusOr<std::vector<ReplayRow>> ScansBetween(TimePoint from, TimePoint to) override;
  absl::StatusOr<std::vector<IncarnationMark>> LoadIncarnations() override;

  absl::Status CommitEvents(std::span<const RecordedEvent> events) override;
  absl::Status CommitEventsUnsynced(std::span<const RecordedEvent> events) override;
  absl::Status SyncCommitted() override;
  absl::StatusOr<Gate> RegisterGate(const Gate& gate, int64_t version) override;
  absl::StatusOr<std::vector<Person>> UpsertPeople(std::span<const PersonRecord> people,
                                                   int64_t version, TimePoint now) override;
  absl::StatusOr<QuarantineOrder> AddQuarantine(const QuarantineOrder& order,
                                                int64_t version) override;
  absl::Status ClearQuarantines(std::span<const QuarantineId> orders, TimePoint at,
                                int64_t version) override;
  absl::StatusOr<SingleVisitPass> AddPass(const SingleVisitPass& pass, int64_t version) override;
  absl::Status SavePolicyDocument(const PolicyDocumentRecord& doc) override;
  absl::Status RecordHealth(PersonId person, const HealthRecord& health, int64_t version) override;
  absl::StatusOr<LeaveApproval> AddLeave(const LeaveApproval& leave, TimePoint now,
                                         int64_t version) override;
  absl::Status RecordDisinfection(PersonId person, TimePoint at,
                                  const std::string& recorded_by) override;

  absl::StatusOr<std::vector<MovementRow>> ListMovements(const MovementQuery& q) override;
  void SetMaxStay(MaxStayFn max_stay) override { max_stay_ = std::move(max_stay); }
  absl::StatusOr<bool> StaysNeedDeriving() override;
  absl::Status DeriveStays(const MaxStayFn& max_stay) override;
  absl::StatusOr<std::vector<Stay>> StaysOf(PersonId person, TimePoint from, TimePoint to,
                                            TimePoint now) override;
  absl::StatusOr<std::vector<Stay>> StaysInZones(std::span<const ZoneSpan> spans,
                                                 TimePoint now) override;
  absl::StatusOr<DailyFigures> GetDailyFigures(TimePoint from, TimePoint to) override;
  absl::StatusOr<std::vector<AlertRow>> ListAlerts(const AlertQuery& q) override;
  absl::StatusOr<int64_t> CountEvents() override;
  absl::StatusOr<std::vector<PolicyDocumentRecord>> ListPolicyDocuments() override;
  absl::StatusOr<std::optional<PolicyDocumentRecord>> GetPolicyDocument(int64_t version) override;
  absl::StatusOr<std::vector<DueAlert>> PendingDueAlerts() override;
  absl::StatusOr<BackupInfo> Backup(const std::string& dest_path, TimePoint now) override;
  absl::Status RecordBackup(const BackupInfo& info) override;
  absl::StatusOr<std::vector<AuditEntry>> ListAudit(const AuditQuery& q) override;
  absl::StatusOr<AuditChainEnds> AuditEnds() override;
  absl::Status AppendAudit(std::span<const AuditEntry> entries,
                           const std::string& head_tag) override;
  absl::StatusOr<PurgeReport> PurgeBefore(TimePoint personal, TimePoint audit,
                                          int64_t max_rows) override;
  absl::Status CompactAndCheckpoint() override;
  absl::Status RaiseAlert(AlertKind kind, TimePoint at, GateRowId gate,
                          const std::string& detail, PersonId person = 0) override;
  absl::Status RaiseDueAlert(const DueAlert& due, const std::string& detail) override;
  absl::Status AcknowledgeAlert(int64_t id, const std::string& by, TimePoint at) override;
  absl::StatusOr<int64_t> LatestAlertId() override;

  const std::string& path() const { return path_; }
  // Writer thread: within an event commit, `yield` (by default
  // sched_yield: the CPU to a thread waiting for it, else straight back)
  // after every `events` events and every 2 × `events` file writes (the
  // commit's WAL frames, a checkpoint's pages; sqlite::WriteYield); 0 =
  // never. A 1,000-event commit is one unbroken 4 ms run, and a thread
  // deciding a scan that woke behind it waited that long.
  void YieldEvery(size_t events, std::function<void()> yield = nullptr);
  // Writer thread: whether the next transaction waits for the disk
  // (synchronous=FULL), as all but CommitEventsUnsynced's do.
  bool WriterSyncsEachCommit();

 private:
  SqliteStore(std::string path, Database writer) : path_(std::move(path)), writer_(std::move(writer)) {}

  // A read-only connection on loan from the pool; returned on destruction.
  class Reader {
   public:
    Reader(SqliteStore* store, Database db) : store_(store), db_(std::move(db)) {}
    // A moved-from optional keeps its (empty) value: clear it explicitly, or
    // the moved-from Reader would return a dead connection to the pool.
    Reader(Reader&& other) noexcept : store_(other.store_), db_(std::move(other.db_)) {
      other.db_.reset();
    }
    Reader& operator=(Reader&&) = delete;
    ~Reader();
    Database& db() { return *db_; }

   private:
    SqliteStore* store_;
    std::optional<Database> db_;
  };
  absl::StatusOr<Reader> BorrowReader();
  absl::Status SetVersion(int64_t version);
  absl::Status RestoreState(Database& db, const PolicySnapshot& policy, CampusState& state,
                            std::optional<TimePoint> as_of);
  absl::Status PrepareWriterStatements();
  absl::Status CommitEventsInTransaction(std::span<const RecordedEvent> events);
  // A stay read from a row (id, person, zone, entered_at, exited_at, inferred)
  // with an open interval ended at `now` or its maximum stay.
  Stay StayFromRow(const Statement& s, TimePoint now) const;

  std::string path_;
  Database writer_;
  // The WAL (inode) whose directory entry SyncCommitted() made durable;
  // the syncing thread's own.
  ino_t wal_dir_synced_ = 0;
  // Hot-path statements, prepared once for the writer connection.
  std::optional<Statement> insert_event_;
  std::optional<Statement> insert_alert_;
  std::optional<Statement> upsert_incarnation_;
  std::optional<Statement> pass_entered_;
  std::optional<Statement> pass_exited_;
  std::optional<Statement> leave_exited_;
  std::optional<Statement> leave_returned_;
  std::unique_ptr<IntervalJournal> intervals_;
  CommittedSeqs committed_;  // the writer's: what is stored, for resends
  size_t yield_every_ = 0;
  std::function<void()> yield_;
  MaxStayFn max_stay_ = [](std::string_view) -> Micros { return std::chrono::hours(16); };

  std::mutex readers_mu_;
  std::vector<Database> idle_readers_;  // guarded by readers_mu_
};

}  // namespace cordon::storage
