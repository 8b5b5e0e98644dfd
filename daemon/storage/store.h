// The storage contract. SqliteStore is the embedded backend; a server
// backend (PostgreSQL) can implement the same interface, and
// tests/unit/store_contract_test.cc runs against every backend.
//
// Threads: the start-up loaders run before serving; the mutations belong to
// the journal writer thread (one writer); the queries may run on any thread
// and use their own read connections.
#pragma once

#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/campus_state.h"
#include "core/policy_snapshot.h"
#include "daemon/storage/records.h"

namespace cordon::storage {

class Store {
 public:
  virtual ~Store() = default;

  // ---- start-up
  // People, credentials, orders, passes, health codes, leaves and gates. The
  // layout stays the default; the daemon installs the latest document.
  virtual absl::StatusOr<PolicySnapshot> LoadPolicy() = 0;
  // Presence from each person's latest allowed movement (its zone placed in
  // `policy`'s layout), pass and leave progress, and the latest disinfections.
  virtual absl::Status RestoreCampusState(const PolicySnapshot& policy, CampusState& state) = 0;
  // Who is where, for the next start (writer thread, between commits): the
  // marks hold committed movements only. `unsettled` are the people whose
  // latest movement was decided but not yet committed; their mark is left
  // out and a start seeks them in the journal, because if cordond dies
  // before that commit the movement never happened.
  virtual absl::Status SavePresenceSnapshot(std::span<const PresenceMark> marks,
                                            std::span<const PersonId> unsettled) = 0;
  virtual absl::StatusOr<std::vector<IncarnationMark>> LoadIncarnations() = 0;

  // ---- writer thread
  // Appends events in one transaction. Events already stored (same gate,
  // incarnation, seq) are skipped, and so are their alerts and pass steps.
  virtual absl::Status CommitEvents(std::span<const RecordedEvent> events) = 0;
  // The same, without waiting for the disk: readers see the events at once;
  // they are durable once a SyncCommitted() called after this returns. Other
  // transactions (the administrative changes below) still wait for the disk.
  virtual absl::Status CommitEventsUnsynced(std::span<const RecordedEvent> events) = 0;
  // One thread beside the writer: makes every commit that returned before
  // the call durable. An error means the disk may not hold them, and a
  // retry cannot tell (the kernel may have dropped the pages it could not
  // write): only a restart from the disk knows what is stored.
  virtual absl::Status SyncCommitted() = 0;

  // Administrative changes; each runs in one transaction and records
  // `version` as the new policy version.
  virtual absl::StatusOr<Gate> RegisterGate(const Gate& gate, int64_t version) = 0;
  // Inserts or updates by external id; returns the people with their ids.
  virtual absl::StatusOr<std::vector<Person>> UpsertPeople(std::span<const PersonRecord> people,
                                                           int64_t version, TimePoint now) = 0;
  virtual absl::StatusOr<QuarantineOrder> AddQuarantine(const QuarantineOrder& order,
                                                        int64_t version) = 0;
  virtual absl::Status ClearQuarantines(std::span<const QuarantineId> orders, TimePoint at,
                                        int64_t version) = 0;
  virtual absl::StatusOr<SingleVisitPass> AddPass(const SingleVisitPass& pass,
                                                  int64_t version) = 0;
  // A new policy document or mode switch, at doc.version.
  virtual absl::Status SavePolicyDocument(const PolicyDocumentRecord& doc) = 0;
  virtual absl::Status RecordHealth(PersonId person, const HealthRecord& health,
                                    int64_t version) = 0;
  virtual absl::StatusOr<LeaveApproval> AddLeave(const LeaveApproval& leave, TimePoint now,
                                                 int64_t version) = 0;
  // Not a policy change: the state a vehicle's next entry is decided on.
  virtual absl::Status RecordDisinfection(PersonId person, TimePoint at,
                                          const std::string& recorded_by) = 0;

  // ---- any thread
  virtual absl::StatusOr<std::vector<MovementRow>> ListMovements(const MovementQuery& q) = 0;
  // Presence intervals, kept as events are committed. Set before serving:
  // the stay past which a missing exit is inferred (default 16 hours).
  virtual void SetMaxStay(MaxStayFn max_stay) = 0;
  // A store from before schema v4 holds events without stays: true until
  // DeriveStays has run once. Open() cannot derive them itself: the zones'
  // maximum stays are in the policy, which is read from the store after.
  virtual absl::StatusOr<bool> StaysNeedDeriving() = 0;
  // Derives every stay from the events, with `max_stay`. Call before the
  // journal writer starts.
  virtual absl::Status DeriveStays(const MaxStayFn& max_stay) = 0;
  // The person's stays overlapping [from, to), in time order. A stay with no
  // exit yet ends at `now`, or at its maximum stay (then marked inferred).
  virtual absl::StatusOr<std::vector<Stay>> StaysOf(PersonId person, TimePoint from, TimePoint to,
                                                    TimePoint now) = 0;
  // Everyone's stays overlapping each span (a stay may appear once per span).
  virtual absl::StatusOr<std::vector<Stay>> StaysInZones(std::span<const ZoneSpan> spans,
                                                         TimePoint now) = 0;
  virtual absl::StatusOr<DailyFigures> GetDailyFigures(TimePoint from, TimePoint to) = 0;
  virtual absl::StatusOr<std::vector<AlertRow>> ListAlerts(const AlertQuery& q) = 0;
  virtual absl::StatusOr<int64_t> CountEvents() = 0;
  // The campus as it was just before `t` (for simulating a policy from then).
  virtual absl::Status CampusStateAsOf(const PolicySnapshot& policy, TimePoint t,
                                       CampusState& state) = 0;
  // Every recorded scan in [from, to), in time order.
  virtual absl::StatusOr<std::vector<ReplayRow>> ScansBetween(TimePoint from, TimePoint to) = 0;
  // Every document version and mode switch, newest first, without the text.
  virtual absl::StatusOr<std::vector<PolicyDocumentRecord>> ListPolicyDocuments() = 0;
  // The document applied at `version`, or with 0 the one in force (the
  // latest); nullopt if there is none.
  virtual absl::StatusOr<std::optional<PolicyDocumentRecord>> GetPolicyDocument(
      int64_t version) = 0;
  // Overdue leaves and pass overstays not yet alerted, whatever their time;
  // the caller raises those due and waits for the rest.
  virtual absl::StatusOr<std::vector<DueAlert>> PendingDueAlerts() = 0;
  // Writes a consistent copy of the whole database to `dest_path` (which
  // must not exist) without stopping the writer, and describes it.
  virtual absl::StatusOr<BackupInfo> Backup(const std::string& dest_path, TimePoint now) = 0;

  // The audit log in id order, and its chain's ends.
  virtual absl::StatusOr<std::vector<AuditEntry>> ListAudit(const AuditQuery& q) = 0;
  virtual absl::StatusOr<AuditChainEnds> AuditEnds() = 0;

  // ---- writer thread
  // Retention: deletes movement, presence and health records older than
  // `personal` and audit entries older than `audit`, at most `max_rows` per
  // table, in one transaction. What the current state needs stays: each
  // person's latest allowed entry (where they are), open intervals, their
  // latest health record, orders and leaves still running.
  virtual absl::StatusOr<PurgeReport> PurgeBefore(TimePoint personal, TimePoint audit,
                                                  int64_t max_rows) = 0;
  // Rewrites the database (VACUUM): secure_delete zeroes a deleted record,
  // but a page reorganised earlier can still hold a stale copy of it in its
  // unused space; only a rewrite removes those. Then copies the WAL into the
  // database and truncates it, so deleted records remain in neither file.
  virtual absl::Status CompactAndCheckpoint() = 0;
  // Appends audit entries (ids and hashes already set) and moves the head to
  // the last, in one transaction.
  virtual absl::Status AppendAudit(std::span<const AuditEntry> entries,
                                   const std::string& head_tag) = 0;
  // Notes a backup in the backups table.
  virtual absl::Status RecordBackup(const BackupInfo& info) = 0;
  // An alert about a gate rather than an event (e.g. its clock is off).
  virtual absl::Status RaiseAlert(AlertKind kind, TimePoint at, GateRowId gate,
                                  const std::string& detail, PersonId person = 0) = 0;
  // Records who acknowledged an alert; NOT_FOUND for an unknown id,
  // FAILED_PRECONDITION if it was already acknowledged (by whom is in the message).
  virtual absl::StatusOr<int64_t> LatestAlertId() = 0;  // 0 when there is none
  virtual absl::Status AcknowledgeAlert(int64_t id, const std::string& by, TimePoint at) = 0;
  // Raises a due alert and marks its subject so it is raised only once;
  // ALREADY_EXISTS (and nothing written) if it was raised before.
  virtual absl::Status RaiseDueAlert(const DueAlert& due, const std::string& detail) = 0;
};

}  // namespace cordon::storage
