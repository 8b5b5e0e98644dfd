#include "daemon/storage/sqlite_store.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include "core/status_macros.h"
#include "daemon/fault/failpoint.h"
#include "spdlog/spdlog.h"
#include "daemon/storage/person_days.h"
#include "daemon/storage/schema.h"
#include "daemon/storage/sqlite_values.h"

namespace cordon::storage {

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  CORDON_ASSIGN_OR_RETURN(Database db, Database::Open(path, Database::Mode::kReadWrite));
  // An upgrade may rebuild indexes: about 30 s on a store of 10 M events
  // (v10). Say so, or the operator sees a daemon that does nothing.
  CORDON_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  const bool upgrading = version > 0 && version < LatestSchemaVersion();
  if (upgrading) {
    spdlog::info("upgrading the store from schema v{} to v{}; on a large store this takes a while",
                 version, LatestSchemaVersion());
  }
  auto started = std::chrono::steady_clock::now();
  CORDON_RETURN_IF_ERROR(Migrate(db));
  if (upgrading) {
    spdlog::info("store upgraded to schema v{} in {} ms", LatestSchemaVersion(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started).count());
  }
  // Deleted records (retention) are overwritten with zeros, not just unlinked.
  CORDON_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON"));
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, std::move(db)));
  CORDON_RETURN_IF_ERROR(store->PrepareWriterStatements());
  // A new file has no events to derive stays from, whatever the policy.
  if (version == 0) CORDON_RETURN_IF_ERROR(store->DeriveStays(store->max_stay_));
  return store;
}

absl::StatusOr<bool> SqliteStore::StaysNeedDeriving() {
  bool needed = false;
  CORDON_RETURN_IF_ERROR(intervals_->NeedsBuild(needed));
  return needed;
}

absl::Status SqliteStore::DeriveStays(const MaxStayFn& max_stay) {
  auto started = std::chrono::steady_clock::now();
  CORDON_RETURN_IF_ERROR(intervals_->BuildAll(max_stay, [](int64_t done, int64_t total) {
    if (total >= 1000) spdlog::info("deriving presence intervals: {} of {} people", done, total);
  }));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (took.count() > 100) spdlog::info("presence intervals derived in {} ms", took.count());
  return absl::OkStatus();
}

absl::Status SqliteStore::PrepareWriterStatements() {
  CORDON_ASSIGN_OR_RETURN(insert_event_, writer_.Prepare(R"sql(
      INSERT INTO events(gate_id, incarnation, seq, person_id, credential_hash, direction,
                         occurred_at, gate_time, received_at, decided_at, allowed, reason,
                         policy_version, source, pass_id, zone, rule, leave_id, at_zone)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19))sql"));
  CORDON_ASSIGN_OR_RETURN(insert_alert_, writer_.Prepare(R"sql(
      INSERT INTO alerts(kind, severity, raised_at, person_id, gate_id, event_id, detail)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql"));
  CORDON_ASSIGN_OR_RETURN(upsert_incarnation_, writer_.Prepare(R"sql(
      INSERT INTO gate_incarnations(gate_id, incarnation, highest_seq) VALUES (?1, ?2, ?3)
      ON CONFLICT (gate_id, incarnation)
      DO UPDATE SET highest_seq = max(highest_seq, excluded.highest_seq))sql"));
  CORDON_ASSIGN_OR_RETURN(pass_entered_, writer_.Prepare(
      "UPDATE passes SET entered_at = coalesce(entered_at, ?2) WHERE id = ?1"));
  CORDON_ASSIGN_OR_RETURN(pass_exited_, writer_.Prepare(
      "UPDATE passes SET exited_at = coalesce(exited_at, ?2) WHERE id = ?1"));
  CORDON_ASSIGN_OR_RETURN(leave_exited_, writer_.Prepare(
      "UPDATE leaves SET exited_at = coalesce(exited_at, ?2) WHERE id = ?1"));
  CORDON_ASSIGN_OR_RETURN(leave_returned_, writer_.Prepare(
      "UPDATE leaves SET returned_at = coalesce(returned_at, ?2) WHERE id = ?1"));
  CORDON_ASSIGN_OR_RETURN(intervals_, IntervalJournal::Prepare(writer_));
  CORDON_ASSIGN_OR_RETURN(std::vector<IncarnationMark> marks, LoadIncarnations());
  for (const IncarnationMark& m : marks) committed_.Restore({m.gate, m.incarnation}, m.highest_seq);
  return absl::OkStatus();
}

SqliteStore::Reader::~Reader() {
  if (db_) {
    db_->ResetCached();
    std::lock_guard lock(store_->readers_mu_);
    store_->idle_readers_.push_back(std::move(*db_));
  }
}

absl::StatusOr<SqliteStore::Reader> SqliteStore::BorrowReader() {
  std::optional<Database> idle;
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      idle.emplace(std::move(idle_readers_.back()));
      idle_readers_.pop_back();
    }
  }
  // Built outside the lock: a Reader's destructor takes readers_mu_.
  if (idle) return Reader(this, std::move(*idle));
  CORDON_ASSIGN_OR_RETURN(Database db, Database::Open(path_, Database::Mode::kReadOnly));
  return Reader(this, std::move(db));
}

absl::Status SqliteStore::SetVersion(int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Statement s,
                          writer_.Prepare("UPDATE meta SET value = ?1 WHERE key = 'policy_version'"));
  return s.Bind(1, version).Run();
}

// ---------------------------------------------------------------- start-up

absl::Status SqliteStore::CheckCampusKey(const CredentialHasher& hasher) {
  CredentialHash h = hasher.Hash("cordon: campus key fingerprint");
  int64_t fingerprint = 0;
  std::memcpy(&fingerprint, h.bytes.data(), sizeof fingerprint);
  CORDON_ASSIGN_OR_RETURN(Statement get,
                          writer_.Prepare("SELECT value FROM meta WHERE key = 'campus_key'"));
  CORDON_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) {
    CORDON_ASSIGN_OR_RETURN(Statement put, writer_.Prepare(
        "INSERT INTO meta(key, value) VALUES ('campus_key', ?1)"));
    return put.Bind(1, fingerprint).Run();
  }
  if (get.Int(0) != fingerprint) {
    return absl::FailedPreconditionError(
        "campus.key does not match " + path_ +
        ": this database was created with another campus secret; restore the campus.key that "
        "belongs to it (see README, Backups)");
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicySnapshot> SqliteStore::LoadPolicy() {
  PolicySnapshot p;
  Database& db = writer_;
  {
    CORDON_ASSIGN_OR_RETURN(Statement s,
                            db.Prepare("SELECT value FROM meta WHERE key = 'policy_version'"));
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) p.version = s.Int(0);
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s,
                            db.Prepare("SELECT id, gate_id, description, registered_at FROM gates"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      p.PutGate(Gate{s.Int(0), s.Text(1), s.Text(2), FromUnixMicros(s.Int(3))});
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT id, external_id, name, category, cohort, active, valid_until FROM people"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Person person;
      person.id = s.Int(0);
      person.external_id = s.Text(1);
      person.name = s.Text(2);
      person.category = static_cast<PersonCategory>(s.Int(3));
      person.cohort = s.Text(4);
      person.active = s.Int(5) != 0;
      person.valid_until = OptTime(s, 6);
      p.PutPerson(person);
    }
  }
  {
    std::unordered_map<PersonId, std::vector<CredentialHash>> creds;
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT hash, person_id FROM credentials"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      creds[s.Int(1)].push_back(CredentialHash::FromBytes(s.Blob(0)));
    }
    for (auto& [person, hashes] : creds) p.SetCredentials(person, std::move(hashes));
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT id, person_id, starts_at, ends_at, reason, ordered_at, cleared_at FROM quarantines"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      p.PutQuarantine(QuarantineOrder{s.Int(0), s.Int(1), FromUnixMicros(s.Int(2)),
                                      FromUnixMicros(s.Int(3)), s.Text(4),
                                      FromUnixMicros(s.Int(5)), OptTime(s, 6)});
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT id, person_id, host, valid_from, valid_until, issued_at FROM passes"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      p.PutPass(SingleVisitPass{s.Int(0), s.Int(1), s.Text(2), FromUnixMicros(s.Int(3)),
                                FromUnixMicros(s.Int(4)), FromUnixMicros(s.Int(5))});
    }
  }
  {
    // The latest record per person wins (ordered by time, then id).
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT person_id, colour, source, recorded_at FROM health_records "
        "ORDER BY recorded_at, id"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      p.health_of.Edit()[s.Int(0)] =
          HealthRecord{static_cast<HealthColour>(s.Int(1)), s.Text(2), FromUnixMicros(s.Int(3))};
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT id, person_id, exit_from, exit_until, return_by, reason, approved_by FROM leaves"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      p.PutLeave(LeaveApproval{s.Int(0), s.Int(1), FromUnixMicros(s.Int(2)),
                               FromUnixMicros(s.Int(3)), FromUnixMicros(s.Int(4)), s.Text(5),
                               s.Text(6)});
    }
  }
  return p;
}

namespace {

PolicyDocumentRecord DocumentRow(const Statement& s, bool with_text) {
  PolicyDocumentRecord d;
  d.version = s.Int(0);
  d.mode = s.Text(1);
  d.applied_at = FromUnixMicros(s.Int(2));
  d.applied_by = s.Text(3);
  d.change = s.Text(4);
  if (with_text) d.document = s.Text(5);
  return d;
}

}  // namespace

absl::Status SqliteStore::RestoreCampusState(const PolicySnapshot& policy, CampusState& state) {
  return RestoreState(writer_, policy, state, std::nullopt);
}

absl::Status SqliteStore::SavePresenceSnapshot(std::span<const PresenceMark> marks,
                                               std::span<const PersonId> unsettled) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_RETURN_IF_ERROR(writer_.Exec("DELETE FROM presence_snapshot"));
  CORDON_RETURN_IF_ERROR(writer_.Exec("DELETE FROM presence_snapshot_unsettled"));
  CORDON_ASSIGN_OR_RETURN(Statement put, writer_.Prepare(
      "INSERT INTO presence_snapshot(person_id, at, gate_id, zone) VALUES (?1, ?2, ?3, ?4)"));
  for (const PresenceMark& m : marks) {
    CORDON_RETURN_IF_ERROR(
        put.Bind(1, m.person).Bind(2, Us(m.at)).Bind(3, m.gate).Bind(4, m.zone).Run());
  }
  CORDON_ASSIGN_OR_RETURN(Statement later, writer_.Prepare(
      "INSERT OR IGNORE INTO presence_snapshot_unsettled(person_id) VALUES (?1)"));
  for (PersonId person : unsettled) CORDON_RETURN_IF_ERROR(later.Bind(1, person).Run());
  CORDON_RETURN_IF_ERROR(writer_.Exec(
      "UPDATE meta SET value = (SELECT coalesce(max(id), 0) FROM events) "
      "WHERE key = 'presence_snapshot_event'"));
  return txn.Commit();
}

absl::Status SqliteStore::CampusStateAsOf(const PolicySnapshot& policy, TimePoint t,
                                          CampusState& state) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  return RestoreState(reader.db(), policy, state, t);
}

// Everything up to `as_of` (exclusive; nullopt: everything).
absl::Status SqliteStore::RestoreState(Database& db, const PolicySnapshot& policy,
                                       CampusState& state, std::optional<TimePoint> as_of) {
  const int64_t until = as_of ? Us(*as_of) : INT64_MAX;
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT id, entered_at, exited_at FROM passes WHERE entered_at < ?1"));
    s.Bind(1, until);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto exited = OptTime(s, 2);
      if (exited && Us(*exited) >= until) exited.reset();
      state.RestorePass(s.Int(0), PassProgress{OptTime(s, 1), exited});
    }
  }
  // Each person's last allowed movement, to where column `zone_col` of
  // `row` names. Events from before zones (schema v2) hold no zone: inside
  // means the campus.
  auto apply = [&](PersonId person, Direction direction, TimePoint at, GateRowId gate,
                   Statement& row, int zone_col) {
    const std::string zone = row.IsNull(zone_col)
                                 ? (direction == Direction::kIn ? "campus" : "")
                                 : row.Text(zone_col);
    Movement m{person, direction, at, gate};
    const ZonePolicy& layout = *policy.zones;
    ZoneIndex z = layout.FindZone(zone);
    if (z == kOutside && !zone.empty()) z = 0;  // a zone since removed: somewhere on campus
    if (z != kOutside) {
      for (ZoneIndex i : layout.zones[static_cast<size_t>(z)].path) {
        m.to_path.push_back(layout.zones[static_cast<size_t>(i)].id);
      }
    }
    if (const Person* p = policy.FindPerson(person)) m.cohorts = p->cohorts;
    state.Apply(m);
  };
  // One person's latest allowed movement before `until`: an index seek per
  // day, back from `until` until found (events_by_person, person_days.h).
  CORDON_ASSIGN_OR_RETURN(Statement last, db.Prepare(
      "SELECT direction, occurred_at, gate_id, zone FROM events "
      "WHERE occurred_at / 86400000000 = ?3 AND person_id = ?1 AND allowed = 1 "
      "AND occurred_at < ?2 ORDER BY occurred_at DESC, id DESC LIMIT 1"));
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> held, EventDays(db));
  std::optional<DayRange> days;
  if (held) days = held->Clamp(INT64_MIN, until);
  auto seek = [&](PersonId person) -> absl::Status {
    if (!days) return absl::OkStatus();  // no event before `until`
    for (int64_t day = days->last; day >= days->first; --day) {
      last.Bind(1, person).Bind(2, until).Bind(3, day);
      CORDON_ASSIGN_OR_RETURN(bool found, last.Step());
      if (found) {
        apply(person, static_cast<Direction>(last.Int(0)), FromUnixMicros(last.Int(1)),
              last.Int(2), last, 3);
        last.Reset();
        break;
      }
      last.Reset();
    }
    return absl::OkStatus();
  };
  // Now: the latest snapshot, then the events committed after it.
  int64_t snapshot_event = 0;
  if (!as_of) {
    CORDON_ASSIGN_OR_RETURN(Statement valid, db.Prepare(
        "SELECT value FROM meta WHERE key = 'presence_snapshot_event' AND value > 0 "
        "AND EXISTS (SELECT 1 FROM events WHERE id = meta.value)"));
    CORDON_ASSIGN_OR_RETURN(bool found, valid.Step());
    if (found) snapshot_event = valid.Int(0);
  }
  if (snapshot_event > 0) {
    CORDON_ASSIGN_OR_RETURN(Statement rows, db.Prepare(
        "SELECT person_id, at, gate_id, zone FROM presence_snapshot"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      apply(rows.Int(0), rows.Text(3).empty() ? Direction::kOut : Direction::kIn,
            FromUnixMicros(rows.Int(1)), rows.Int(2), rows, 3);
    }
    // Those whose latest movement was not committed when the snapshot was
    // taken: the journal alone knows whether it ever was. The seek also
    // finds their events after the snapshot, so the tail skips them.
    std::unordered_set<PersonId> unsettled;
    CORDON_ASSIGN_OR_RETURN(Statement people, db.Prepare(
        "SELECT person_id FROM presence_snapshot_unsettled"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, people.Step());
      if (!row) break;
      unsettled.insert(people.Int(0));
      CORDON_RETURN_IF_ERROR(seek(people.Int(0)));
    }
    // In commit order; Apply keeps each person's latest movement by time.
    CORDON_ASSIGN_OR_RETURN(Statement tail, db.Prepare(
        "SELECT person_id, direction, occurred_at, gate_id, zone FROM events "
        "WHERE id > ?1 AND allowed = 1 AND person_id > 0 ORDER BY id"));
    tail.Bind(1, snapshot_event);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, tail.Step());
      if (!row) break;
      if (unsettled.contains(tail.Int(0))) continue;
      apply(tail.Int(0), static_cast<Direction>(tail.Int(1)), FromUnixMicros(tail.Int(2)),
            tail.Int(3), tail, 4);
    }
  } else {
    // Index seeks per person rather than a scan of the whole journal:
    // start-up time grows with people (and the days back to each one's
    // latest movement), not events.
    CORDON_ASSIGN_OR_RETURN(Statement people, db.Prepare("SELECT id FROM people"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, people.Step());
      if (!row) break;
      CORDON_RETURN_IF_ERROR(seek(people.Int(0)));
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT id, exited_at, returned_at FROM leaves WHERE exited_at < ?1"));
    s.Bind(1, until);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto returned = OptTime(s, 2);
      if (returned && Us(*returned) >= until) returned.reset();
      state.RestoreLeave(s.Int(0), LeaveProgress{OptTime(s, 1), returned});
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT person_id, max(at) FROM disinfections WHERE at < ?1 GROUP BY person_id"));
    s.Bind(1, until);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      state.RecordDisinfection(s.Int(0), FromUnixMicros(s.Int(1)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ReplayRow>> SqliteStore::ScansBetween(TimePoint from, TimePoint to) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_ASSIGN_OR_RETURN(Statement s, reader.db().Prepare(R"sql(
      SELECT id, gate_id, credential_hash, direction, occurred_at, reason FROM events
      WHERE occurred_at >= ?1 AND occurred_at < ?2 ORDER BY occurred_at, id)sql"));
  s.Bind(1, Us(from)).Bind(2, Us(to));
  std::vector<ReplayRow> out;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReplayRow{s.Int(0), s.Int(1), CredentialHash::FromBytes(s.Blob(2)),
                            static_cast<Direction>(s.Int(3)), FromUnixMicros(s.Int(4)),
                            static_cast<Reason>(s.Int(5))});
  }
  return out;
}

absl::StatusOr<std::vector<IncarnationMark>> SqliteStore::LoadIncarnations() {
  std::vector<IncarnationMark> out;
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "SELECT gate_id, incarnation, highest_seq FROM gate_incarnations"));
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(IncarnationMark{s.Int(0), FromStored(s.Int(1)), FromStored(s.Int(2))});
  }
  return out;
}

// ---------------------------------------------------------------- writer

absl::Status SqliteStore::CommitEvents(std::span<const RecordedEvent> events) {
  absl::Status st = CommitEventsInTransaction(events);
  if (!st.ok()) (void)intervals_->Reload();  // rolled back: re-read what meta holds
  return st;
}

absl::Status SqliteStore::CommitEventsUnsynced(std::span<const RecordedEvent> events) {
  // WAL with synchronous=NORMAL: the commit writes its frames and returns.
  // SQLite still syncs the WAL before a checkpoint copies it into the
  // database, so nothing unsynced ever overwrites the database itself.
  CORDON_RETURN_IF_ERROR(writer_.Exec("PRAGMA synchronous=NORMAL"));
  absl::Status st = CommitEvents(events);
  // Every other transaction on this connection waits for the disk.
  absl::Status full = writer_.Exec("PRAGMA synchronous=FULL");
  return st.ok() ? full : st;
}

void SqliteStore::YieldEvery(size_t events, std::function<void()> yield) {
  yield_every_ = events;
  yield_ = yield ? std::move(yield) : [] { sched_yield(); };
}

bool SqliteStore::WriterSyncsEachCommit() {
  auto s = writer_.Prepare("PRAGMA synchronous");
  if (!s.ok()) return false;
  auto row = s->Step();
  return row.ok() && *row && s->Int(0) == 2;  // 2 = FULL
}

absl::Status SqliteStore::SyncCommitted() {
  // The WAL by name, on a descriptor of our own: fdatasync flushes the file,
  // whichever descriptor asks. SQLite deletes the WAL only after copying it
  // all into the database and syncing that, so a missing one holds nothing.
  const std::string wal = path_ + "-wal";
  int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::InternalError("open " + wal + ": " + std::strerror(errno));
  }
  struct stat st {};
  absl::Status result = absl::OkStatus();
  if (fault::Fails("WAL_SYNC")) {  // tests: a disk that lost a write
    result = absl::DataLossError("fdatasync " + wal + ": Input/output error (injected)");
  } else if (::fstat(fd, &st) != 0 || ::fdatasync(fd) != 0) {
    result = absl::InternalError("fdatasync " + wal + ": " + std::strerror(errno));
  } else if (st.st_ino != wal_dir_synced_) {
    // A new WAL file: its name must reach the disk too, or a crash could
    // leave the directory without it.
    std::string dir = std::filesystem::path(path_).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
      result = absl::InternalError("fsync " + (dir.empty() ? std::string(".") : dir) + ": " +
                                   std::strerror(errno));
    } else {
      wal_dir_synced_ = st.st_ino;
    }
    if (dfd >= 0) ::close(dfd);
  }
  ::close(fd);
  return result;
}

absl::Status SqliteStore::CommitEventsInTransaction(std::span<const RecordedEvent> events) {
  // Its writes give way too: the frames at the commit (two writes each)
  // and the pages of a checkpoint it runs.
  sqlite::WriteYield writes(2 * yield_every_, yield_);
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  std::map<CommittedSeqs::Key, uint64_t> highest;
  // What this transaction stores, marked held once it commits.
  std::set<std::pair<CommittedSeqs::Key, uint64_t>> stored;
  size_t since_yield = 0;
  for (const RecordedEvent& e : events) {
    if (yield_every_ > 0 && ++since_yield > yield_every_) {
      since_yield = 1;
      yield_();
    }
    const CommittedSeqs::Key key{e.gate, e.incarnation};
    auto& h = highest[key];
    h = std::max(h, e.seq);
    if (committed_.Holds(key, e.seq) || !stored.emplace(key, e.seq).second) continue;  // a resend
    Statement& ins = *insert_event_;
    ins.Bind(1, e.gate)
        .Bind(2, AsStored(e.incarnation))
        .Bind(3, AsStored(e.seq))
        .Bind(4, e.person ? std::optional<int64_t>(e.person) : std::nullopt)
        .BindBlob(5, e.credential.AsBytes())
        .Bind(6, static_cast<int64_t>(e.direction))
        .Bind(7, Us(e.occurred_at))
        .Bind(8, Us(e.gate_time))
        .Bind(9, Us(e.received_at))
        .Bind(10, Us(e.decided_at))
        .Bind(11, int64_t{e.allowed})
        .Bind(12, static_cast<int64_t>(e.reason))
        .Bind(13, e.policy_version)
        .Bind(14, static_cast<int64_t>(e.source))
        .Bind(15, e.pass ? std::optional<int64_t>(e.pass) : std::nullopt)
        .BindOptText(16, e.allowed ? std::optional<std::string_view>(e.zone) : std::nullopt)
        .BindOptText(17, e.rule.empty() ? std::nullopt : std::optional<std::string_view>(e.rule))
        .Bind(18, e.leave ? std::optional<int64_t>(e.leave) : std::nullopt)
        .Bind(19, e.at_zone);
    CORDON_RETURN_IF_ERROR(ins.Run());
    int64_t event_id = writer_.LastInsertRowId();
    if (e.person != 0) {
      Sighting sighting{e.occurred_at, e.at_zone, e.allowed, e.allowed ? e.zone : std::string(),
                        event_id};
      CORDON_RETURN_IF_ERROR(intervals_->Record(e.person, sighting, max_stay_));
    }
    if (e.alert) {
      CORDON_RETURN_IF_ERROR(insert_alert_->Bind(1, static_cast<int64_t>(*e.alert))
                                 .Bind(2, static_cast<int64_t>(SeverityOf(*e.alert)))
                                 .Bind(3, Us(e.occurred_at))
                                 .Bind(4, e.person ? std::optional<int64_t>(e.person) : std::nullopt)
                                 .Bind(5, e.gate)
                                 .Bind(6, event_id)
                                 .Bind(7, e.alert_detail)
                                 .Run());
    }
    if (e.pass != 0 && e.pass_step == PassStep::kEntry) {
      CORDON_RETURN_IF_ERROR(pass_entered_->Bind(1, e.pass).Bind(2, Us(e.occurred_at)).Run());
    } else if (e.pass != 0 && e.pass_step == PassStep::kExit) {
      CORDON_RETURN_IF_ERROR(pass_exited_->Bind(1, e.pass).Bind(2, Us(e.occurred_at)).Run());
    }
    if (e.leave != 0 && e.leave_step == LeaveStep::kExit) {
      CORDON_RETURN_IF_ERROR(leave_exited_->Bind(1, e.leave).Bind(2, Us(e.occurred_at)).Run());
    } else if (e.leave != 0 && e.leave_step == LeaveStep::kReturn) {
      CORDON_RETURN_IF_ERROR(leave_returned_->Bind(1, e.leave).Bind(2, Us(e.occurred_at)).Run());
    }
  }
  for (const auto& [key, seq] : highest) {
    CORDON_RETURN_IF_ERROR(upsert_incarnation_->Bind(1, key.first)
                               .Bind(2, AsStored(key.second))
                               .Bind(3, AsStored(seq))
                               .Run());
  }
  CORDON_RETURN_IF_ERROR(txn.Commit());
  for (const auto& [key, seq] : stored) committed_.Add(key, seq);
  return absl::OkStatus();
}

absl::StatusOr<Gate> SqliteStore::RegisterGate(const Gate& gate, int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO gates(gate_id, description, registered_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (gate_id) DO UPDATE SET description = excluded.description RETURNING id, registered_at"));
  s.Bind(1, gate.gate_id).Bind(2, gate.description).Bind(3, Us(gate.registered_at));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::InternalError("register gate: no id returned");
  Gate stored = gate;
  stored.id = s.Int(0);
  stored.registered_at = FromUnixMicros(s.Int(1));
  s.Reset();
  CORDON_RETURN_IF_ERROR(SetVersion(version));
  CORDON_RETURN_IF_ERROR(txn.Commit());
  return stored;
}

absl::StatusOr<std::vector<Person>> SqliteStore::UpsertPeople(std::span<const PersonRecord> people,
                                                              int64_t version, TimePoint now) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement upsert, writer_.Prepare(R"sql(
      INSERT INTO people(external_id, name, category, cohort, active, valid_until, updated_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
      ON CONFLICT (external_id) DO UPDATE SET
        name = excluded.name, category = excluded.category, cohort = excluded.cohort,
        active = excluded.active, valid_until = excluded.valid_until,
        updated_at = excluded.updated_at
      RETURNING id)sql"));
  CORDON_ASSIGN_OR_RETURN(Statement drop_creds,
                          writer_.Prepare("DELETE FROM credentials WHERE person_id = ?1"));
  CORDON_ASSIGN_OR_RETURN(Statement add_cred,
                          writer_.Prepare("INSERT INTO credentials(hash, person_id) VALUES (?1, ?2)"));
  CORDON_ASSIGN_OR_RETURN(Statement count_creds,
                          writer_.Prepare("SELECT count(*) FROM credentials WHERE person_id = ?1"));
  int64_t now_us = Us(now);
  std::vector<Person> out;
  out.reserve(people.size());
  for (const PersonRecord& rec : people) {
    const Person& p = rec.person;
    upsert.Bind(1, p.external_id)
        .Bind(2, p.name)
        .Bind(3, static_cast<int64_t>(p.category))
        .Bind(4, p.cohort)
        .Bind(5, int64_t{p.active})
        .Bind(6, Us(p.valid_until))
        .Bind(7, now_us);
    CORDON_ASSIGN_OR_RETURN(bool row, upsert.Step());
    if (!row) return absl::InternalError("upsert person: no id returned");
    Person stored = p;
    stored.id = upsert.Int(0);
    upsert.Reset();
    out.push_back(std::move(stored));
  }
  // All replaced credentials go before any new one is added, so a card may
  // move from one person to another within the same change.
  for (size_t i = 0; i < people.size(); ++i) {
    if (people[i].credentials) CORDON_RETURN_IF_ERROR(drop_creds.Bind(1, out[i].id).Run());
  }
  for (size_t i = 0; i < people.size(); ++i) {
    if (!people[i].credentials) continue;
    for (const CredentialHash& h : *people[i].credentials) {
      absl::Status st = add_cred.BindBlob(1, h.AsBytes()).Bind(2, out[i].id).Run();
      if (absl::IsAlreadyExists(st)) {
        return absl::AlreadyExistsError("a credential of " + out[i].external_id +
                                        " already belongs to another person");
      }
      CORDON_RETURN_IF_ERROR(st);
    }
  }
  for (Person& stored : out) {
    CORDON_ASSIGN_OR_RETURN(bool counted, count_creds.Bind(1, stored.id).Step());
    stored.credential_count = counted ? static_cast<int>(count_creds.Int(0)) : 0;
    count_creds.Reset();
  }
  CORDON_RETURN_IF_ERROR(SetVersion(version));
  CORDON_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<QuarantineOrder> SqliteStore::AddQuarantine(const QuarantineOrder& order,
                                                           int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO quarantines(person_id, starts_at, ends_at, reason, ordered_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5)"));
  CORDON_RETURN_IF_ERROR(s.Bind(1, order.person)
                             .Bind(2, Us(order.starts_at))
                             .Bind(3, Us(order.ends_at))
                             .Bind(4, order.reason)
                             .Bind(5, Us(order.ordered_at))
                             .Run());
  QuarantineOrder stored = order;
  stored.id = writer_.LastInsertRowId();
  CORDON_RETURN_IF_ERROR(SetVersion(version));
  CORDON_RETURN_IF_ERROR(txn.Commit());
  return stored;
}

absl::Status SqliteStore::ClearQuarantines(std::span<const QuarantineId> orders, TimePoint at,
                                           int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "UPDATE quarantines SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL"));
  for (QuarantineId id : orders) CORDON_RETURN_IF_ERROR(s.Bind(1, id).Bind(2, Us(at)).Run());
  CORDON_RETURN_IF_ERROR(SetVersion(version));
  return txn.Commit();
}

absl::StatusOr<SingleVisitPass> SqliteStore::AddPass(const SingleVisitPass& pass, int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO passes(person_id, host, valid_from, valid_until, issued_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5)"));
  CORDON_RETURN_IF_ERROR(s.Bind(1, pass.person)
                             .Bind(2, pass.host)
                             .Bind(3, Us(pass.valid_from))
                             .Bind(4, Us(pass.valid_until))
                             .Bind(5, Us(pass.issued_at))
                             .Run());
  SingleVisitPass stored = pass;
  stored.id = writer_.LastInsertRowId();
  CORDON_RETURN_IF_ERROR(SetVersion(version));
  CORDON_RETURN_IF_ERROR(txn.Commit());
  return stored;
}

// ---------------------------------------------------------------- queries

absl::StatusOr<std::vector<AlertRow>> SqliteStore::ListAlerts(const AlertQuery& q) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  // Filters are bound as parameters; an unused one matches everything.
  std::string kinds;
  for (AlertKind k : q.kinds) {
    kinds += (kinds.empty() ? "" : ",") + std::to_string(static_cast<int>(k));
  }
  std::string sql = R"sql(
      SELECT id, kind, severity, raised_at, person_id, gate_id, detail, acknowledged_by,
             acknowledged_at
      FROM alerts
      WHERE severity >= ?6 AND (?7 = 0 OR person_id = ?7) AND (?8 = 0 OR gate_id = ?8)
        AND (?9 = 0 OR acknowledged_at IS NULL))sql";
  if (!kinds.empty()) sql += " AND kind IN (" + kinds + ")";  // numbers we formatted
  if (q.after_id) {
    sql += " AND id > ?3 ORDER BY id LIMIT ?5";
  } else {
    sql += " AND raised_at >= ?1 AND raised_at < ?2 AND (raised_at, id) > (?3, ?4) "
           "ORDER BY raised_at, id LIMIT ?5";
  }
  CORDON_ASSIGN_OR_RETURN(Statement s, reader.db().Prepare(sql));
  if (q.after_id) {
    s.Bind(3, *q.after_id);
  } else {
    s.Bind(1, Us(q.from)).Bind(2, Us(q.to));
    s.Bind(3, q.after ? Us(q.after->first) : INT64_MIN).Bind(4, q.after ? q.after->second : 0);
  }
  s.Bind(5, int64_t{q.limit});
  s.Bind(6, static_cast<int64_t>(q.min_severity));
  s.Bind(7, q.person).Bind(8, q.gate).Bind(9, int64_t{q.unacknowledged_only});
  std::vector<AlertRow> out;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    AlertRow a;
    a.id = s.Int(0);
    a.kind = static_cast<AlertKind>(s.Int(1));
    a.severity = static_cast<Severity>(s.Int(2));
    a.raised_at = FromUnixMicros(s.Int(3));
    a.person = s.OptInt(4).value_or(0);
    a.gate = s.OptInt(5).value_or(0);
    a.detail = s.Text(6);
    if (!s.IsNull(7)) a.acknowledged_by = s.Text(7);
    a.acknowledged_at = OptTime(s, 8);
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<int64_t> SqliteStore::LatestAlertId() {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_ASSIGN_OR_RETURN(Statement s, reader.db().Prepare("SELECT coalesce(max(id), 0) FROM alerts"));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

absl::Status SqliteStore::AcknowledgeAlert(int64_t id, const std::string& by, TimePoint at) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement get, writer_.Prepare(
      "SELECT acknowledged_by FROM alerts WHERE id = ?1"));
  get.Bind(1, id);
  CORDON_ASSIGN_OR_RETURN(bool found, get.Step());
  if (!found) return absl::NotFoundError("alert " + std::to_string(id) + " not found");
  if (!get.IsNull(0)) {
    return absl::FailedPreconditionError("alert " + std::to_string(id) +
                                         " was already acknowledged by " + get.Text(0));
  }
  get.Reset();
  CORDON_ASSIGN_OR_RETURN(Statement set, writer_.Prepare(
      "UPDATE alerts SET acknowledged_by = ?2, acknowledged_at = ?3 WHERE id = ?1"));
  CORDON_RETURN_IF_ERROR(set.Bind(1, id).Bind(2, by).Bind(3, Us(at)).Run());
  return txn.Commit();
}

absl::StatusOr<int64_t> SqliteStore::CountEvents() {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_ASSIGN_OR_RETURN(Statement s, reader.db().Prepare("SELECT count(*) FROM events"));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

// ---------------------------------------------------------------- backups

absl::StatusOr<BackupInfo> SqliteStore::Backup(const std::string& dest_path, TimePoint now) {
  std::error_code ec;
  if (std::filesystem::exists(dest_path, ec)) {
    return absl::AlreadyExistsError("backup destination " + dest_path + " already exists");
  }
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_RETURN_IF_ERROR(sqlite::CopyDatabase(reader.db(), dest_path));
  // Describe the copy from the copy itself, so the figures match the file.
  CORDON_ASSIGN_OR_RETURN(Database copy, Database::Open(dest_path, Database::Mode::kReadOnly));
  BackupInfo info;
  info.taken_at = now;
  CORDON_ASSIGN_OR_RETURN(info.schema_version, SchemaVersion(copy));
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, copy.Prepare(
        "SELECT (SELECT value FROM meta WHERE key = 'policy_version'), "
        "coalesce((SELECT max(id) FROM events), 0), (SELECT count(*) FROM events)"));
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      info.policy_version = s.Int(0);
      info.highest_event_id = s.Int(1);
      info.events = s.Int(2);
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, copy.Prepare("PRAGMA quick_check"));
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row || s.Text(0) != "ok") {
      return absl::DataLossError("backup copy failed its integrity check: " +
                                 (row ? s.Text(0) : std::string("no result")));
    }
  }
  info.size_bytes = static_cast<int64_t>(std::filesystem::file_size(dest_path, ec));
  return info;
}

absl::Status SqliteStore::RecordBackup(const BackupInfo& info) {
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO backups(taken_at, size_bytes, highest_event_id, requested_by) "
      "VALUES (?1, ?2, ?3, ?4)"));
  return s.Bind(1, Us(info.taken_at))
      .Bind(2, info.size_bytes)
      .Bind(3, info.highest_event_id)
      .Bind(4, info.requested_by)
      .Run();
}

absl::Status SqliteStore::RaiseAlert(AlertKind kind, TimePoint at, GateRowId gate,
                                     const std::string& detail, PersonId person) {
  return insert_alert_->Bind(1, static_cast<int64_t>(kind))
      .Bind(2, static_cast<int64_t>(SeverityOf(kind)))
      .Bind(3, Us(at))
      .Bind(4, person ? std::optional<int64_t>(person) : std::nullopt)
      .Bind(5, gate ? std::optional<int64_t>(gate) : std::nullopt)
      .BindNull(6)
      .Bind(7, detail)
      .Run();
}

absl::Status SqliteStore::RaiseDueAlert(const DueAlert& due, const std::string& detail) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  // Mark first: a second request for the same subject (the scheduler looked
  // again before this commit) changes nothing and raises nothing.
  const char* mark =
      due.kind == AlertKind::kLeaveOverdue
          ? "UPDATE leaves SET overdue_alerted_at = ?2 WHERE id = ?1 AND overdue_alerted_at IS NULL"
          : "UPDATE passes SET overstay_alerted_at = ?2 WHERE id = ?1 AND overstay_alerted_at IS NULL";
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(mark));
  CORDON_RETURN_IF_ERROR(s.Bind(1, due.subject).Bind(2, Us(due.due_at)).Run());
  if (writer_.Changes() == 0) return absl::AlreadyExistsError("already raised");
  CORDON_RETURN_IF_ERROR(RaiseAlert(due.kind, due.due_at, 0, detail, due.person));
  return txn.Commit();
}

absl::Status SqliteStore::SavePolicyDocument(const PolicyDocumentRecord& doc) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO policy_documents(version, document, mode, applied_at, applied_by, change) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  CORDON_RETURN_IF_ERROR(s.Bind(1, doc.version)
                             .Bind(2, doc.document)
                             .Bind(3, doc.mode)
                             .Bind(4, Us(doc.applied_at))
                             .Bind(5, doc.applied_by)
                             .Bind(6, doc.change)
                             .Run());
  CORDON_RETURN_IF_ERROR(SetVersion(doc.version));
  return txn.Commit();
}

absl::Status SqliteStore::RecordHealth(PersonId person, const HealthRecord& health,
                                       int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO health_records(person_id, colour, source, recorded_at) VALUES (?1, ?2, ?3, ?4)"));
  CORDON_RETURN_IF_ERROR(s.Bind(1, person)
                             .Bind(2, static_cast<int64_t>(health.colour))
                             .Bind(3, health.source)
                             .Bind(4, Us(health.at))
                             .Run());
  CORDON_RETURN_IF_ERROR(SetVersion(version));
  return txn.Commit();
}

absl::StatusOr<LeaveApproval> SqliteStore::AddLeave(const LeaveApproval& leave, TimePoint now,
                                                    int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO leaves(person_id, exit_from, exit_until, return_by, reason, approved_by, "
      "approved_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  CORDON_RETURN_IF_ERROR(s.Bind(1, leave.person)
                             .Bind(2, Us(leave.exit_from))
                             .Bind(3, Us(leave.exit_until))
                             .Bind(4, Us(leave.return_by))
                             .Bind(5, leave.reason)
                             .Bind(6, leave.approved_by)
                             .Bind(7, Us(now))
                             .Run());
  LeaveApproval stored = leave;
  stored.id = writer_.LastInsertRowId();
  CORDON_RETURN_IF_ERROR(SetVersion(version));
  CORDON_RETURN_IF_ERROR(txn.Commit());
  return stored;
}

absl::Status SqliteStore::RecordDisinfection(PersonId person, TimePoint at,
                                             const std::string& recorded_by) {
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare(
      "INSERT INTO disinfections(person_id, at, recorded_by) VALUES (?1, ?2, ?3)"));
  return s.Bind(1, person).Bind(2, Us(at)).Bind(3, recorded_by).Run();
}

absl::StatusOr<std::vector<PolicyDocumentRecord>> SqliteStore::ListPolicyDocuments() {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_ASSIGN_OR_RETURN(Statement s, reader.db().Prepare(
      "SELECT version, mode, applied_at, applied_by, change "
      "FROM policy_documents ORDER BY version DESC"));
  std::vector<PolicyDocumentRecord> out;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(DocumentRow(s, false));
  }
  return out;
}

absl::StatusOr<std::optional<PolicyDocumentRecord>> SqliteStore::GetPolicyDocument(
    int64_t version) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_ASSIGN_OR_RETURN(Statement s, reader.db().Prepare(
      "SELECT version, mode, applied_at, applied_by, change, document FROM policy_documents "
      "WHERE ?1 = 0 OR version = ?1 ORDER BY version DESC LIMIT 1"));
  s.Bind(1, version);
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<PolicyDocumentRecord>();
  return std::optional<PolicyDocumentRecord>(DocumentRow(s, true));
}

absl::StatusOr<std::vector<DueAlert>> SqliteStore::PendingDueAlerts() {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  std::vector<DueAlert> out;
  CORDON_ASSIGN_OR_RETURN(Statement leaves, reader.db().Prepare(
      "SELECT id, person_id, return_by FROM leaves "
      "WHERE exited_at IS NOT NULL AND returned_at IS NULL AND overdue_alerted_at IS NULL"));
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, leaves.Step());
    if (!row) break;
    out.push_back(DueAlert{AlertKind::kLeaveOverdue, leaves.Int(0), leaves.Int(1),
                           FromUnixMicros(leaves.Int(2))});
  }
  CORDON_ASSIGN_OR_RETURN(Statement passes, reader.db().Prepare(
      "SELECT id, person_id, valid_until FROM passes "
      "WHERE entered_at IS NOT NULL AND exited_at IS NULL AND overstay_alerted_at IS NULL"));
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, passes.Step());
    if (!row) break;
    out.push_back(DueAlert{AlertKind::kPassOverstay, passes.Int(0), passes.Int(1),
                           FromUnixMicros(passes.Int(2))});
  }
  return out;
}

}  // namespace cordon::storage
