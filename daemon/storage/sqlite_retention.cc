// Retention on the embedded store: personal records older than the
// configured period are deleted with secure_delete on (their bytes are
// zeroed, not just unlinked), the file is rewritten (stale copies in pages
// reorganised earlier), then the WAL is checkpointed and truncated.
#include <optional>
#include <vector>

#include "core/status_macros.h"
#include "daemon/storage/person_days.h"
#include "daemon/storage/sqlite_store.h"
#include "daemon/storage/sqlite_values.h"

namespace cordon::storage {

namespace {

// Every event before `cutoff`, oldest first, up to `max_rows`, but a
// person's latest allowed event when it is an entry: restoring who is on
// campus (and anti-passback) needs it. Whether a later one exists is sought
// day by day forward (person_days.h); most people have one within days.
// Those kept are few (one per person at most): candidates are read a page
// at a time, past them.
absl::StatusOr<int64_t> PurgeEvents(Database& db, int64_t cutoff, int64_t max_rows) {
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> days, EventDays(db));
  if (!days) return 0;
  CORDON_ASSIGN_OR_RETURN(Statement * page, db.Cached(R"sql(
      SELECT id, occurred_at, person_id, allowed = 1 AND direction = 1 AND person_id IS NOT NULL
      FROM events WHERE occurred_at < ?1 AND occurred_at >= ?2 AND (occurred_at, id) > (?2, ?3)
      ORDER BY occurred_at, id LIMIT ?4)sql"));
  CORDON_ASSIGN_OR_RETURN(Statement * later, db.Cached(R"sql(
      SELECT 1 FROM events WHERE occurred_at / 86400000000 = ?4 AND person_id = ?1
        AND allowed = 1 AND occurred_at >= ?2 AND (occurred_at > ?2 OR id > ?3) LIMIT 1)sql"));
  CORDON_ASSIGN_OR_RETURN(Statement * del, db.Cached("DELETE FROM events WHERE id = ?1"));
  struct Candidate {
    int64_t id, at, person;
    bool entry;
  };
  std::vector<Candidate> candidates;
  int64_t deleted = 0;
  Candidate after{INT64_MIN, INT64_MIN, 0, false};
  while (deleted < max_rows) {
    candidates.clear();
    page->Bind(1, cutoff).Bind(2, after.at).Bind(3, after.id).Bind(4, max_rows - deleted);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, page->Step());
      if (!row) break;
      candidates.push_back(Candidate{page->Int(0), page->Int(1), page->OptInt(2).value_or(0),
                                     page->Int(3) != 0});
    }
    page->Reset();
    if (candidates.empty()) break;
    for (const Candidate& c : candidates) {
      bool keep = c.entry;
      for (int64_t day = IndexDay(c.at); keep && day <= days->last; ++day) {
        later->Bind(1, c.person).Bind(2, c.at).Bind(3, c.id).Bind(4, day);
        CORDON_ASSIGN_OR_RETURN(bool found, later->Step());
        later->Reset();
        if (found) keep = false;
      }
      if (!keep) {
        CORDON_RETURN_IF_ERROR(del->Bind(1, c.id).Run());
        ++deleted;
      }
    }
    after = candidates.back();
  }
  return deleted;
}

}  // namespace

absl::StatusOr<PurgeReport> SqliteStore::PurgeBefore(TimePoint personal, TimePoint audit,
                                                     int64_t max_rows) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  PurgeReport r;
  auto purge = [&](int64_t& count, const char* sql, TimePoint cutoff) -> absl::Status {
    CORDON_ASSIGN_OR_RETURN(Statement * s, writer_.Cached(sql));
    CORDON_RETURN_IF_ERROR(s->Bind(1, Us(cutoff)).Bind(2, max_rows).Run());
    count = writer_.Changes();
    r.more = r.more || count == max_rows;
    return absl::OkStatus();
  };
  CORDON_ASSIGN_OR_RETURN(r.events, PurgeEvents(writer_, Us(personal), max_rows));
  r.more = r.more || r.events == max_rows;
  // Closed stays; an open one is someone still there.
  CORDON_RETURN_IF_ERROR(purge(r.intervals, R"sql(
      DELETE FROM presence_intervals WHERE id IN (
        SELECT id FROM presence_intervals WHERE exited_at IS NOT NULL AND exited_at < ?1
        LIMIT ?2))sql", personal));
  // The interval journal may remember one of them as someone's latest: a
  // closed one, which only makes an event before its exit rebuild from the
  // store, as it would anyway.
  CORDON_RETURN_IF_ERROR(purge(r.alerts, R"sql(
      DELETE FROM alerts WHERE id IN (
        SELECT id FROM alerts WHERE raised_at < ?1 LIMIT ?2))sql", personal));
  // A person's latest health record is their current colour.
  CORDON_RETURN_IF_ERROR(purge(r.health, R"sql(
      DELETE FROM health_records WHERE id IN (
        SELECT h.id FROM health_records h WHERE h.recorded_at < ?1
          AND EXISTS (SELECT 1 FROM health_records n WHERE n.person_id = h.person_id
                        AND (n.recorded_at > h.recorded_at
                             OR (n.recorded_at = h.recorded_at AND n.id > h.id)))
        LIMIT ?2))sql", personal));
  CORDON_RETURN_IF_ERROR(purge(r.quarantines, R"sql(
      DELETE FROM quarantines WHERE id IN (
        SELECT id FROM quarantines WHERE min(ends_at, coalesce(cleared_at, ends_at)) < ?1
        LIMIT ?2))sql", personal));
  CORDON_RETURN_IF_ERROR(purge(r.passes, R"sql(
      DELETE FROM passes WHERE id IN (
        SELECT id FROM passes WHERE valid_until < ?1
          AND (entered_at IS NULL OR exited_at IS NOT NULL) LIMIT ?2))sql", personal));
  // A leave still out (exited, not returned) stays: its overdue alert needs it.
  CORDON_RETURN_IF_ERROR(purge(r.leaves, R"sql(
      DELETE FROM leaves WHERE id IN (
        SELECT id FROM leaves WHERE return_by < ?1
          AND (exited_at IS NULL OR returned_at IS NOT NULL) LIMIT ?2))sql", personal));
  CORDON_RETURN_IF_ERROR(purge(r.disinfections, R"sql(
      DELETE FROM disinfections WHERE id IN (
        SELECT id FROM disinfections WHERE at < ?1 LIMIT ?2))sql", personal));

  // The audit log from its start; the chain's anchor moves to the last
  // entry deleted, so verification starts after it.
  {
    CORDON_ASSIGN_OR_RETURN(Statement * last, writer_.Cached(R"sql(
        SELECT id, hash FROM (SELECT id, hash, at FROM audit_log ORDER BY id LIMIT ?2)
        WHERE at < ?1 ORDER BY id DESC LIMIT 1)sql"));
    last->Bind(1, Us(audit)).Bind(2, max_rows);
    CORDON_ASSIGN_OR_RETURN(bool found, last->Step());
    if (found) {
      int64_t anchor = last->Int(0);
      std::string hash = last->Blob(1);
      last->Reset();
      CORDON_ASSIGN_OR_RETURN(Statement * del, writer_.Cached(
          "DELETE FROM audit_log WHERE id <= ?1"));
      CORDON_RETURN_IF_ERROR(del->Bind(1, anchor).Run());
      r.audit = writer_.Changes();
      r.more = r.more || r.audit == max_rows;
      CORDON_ASSIGN_OR_RETURN(Statement * move, writer_.Cached(
          "UPDATE audit_chain SET anchor_id = ?1, anchor_hash = ?2 WHERE one = 1"));
      CORDON_RETURN_IF_ERROR(move->Bind(1, anchor).BindBlob(2, hash).Run());
    } else {
      last->Reset();
    }
  }
  CORDON_RETURN_IF_ERROR(txn.Commit());
  return r;
}

absl::Status SqliteStore::CompactAndCheckpoint() {
  // Prepared statements hold no lock between runs, so VACUUM may run here
  // (never inside a transaction).
  CORDON_RETURN_IF_ERROR(writer_.Exec("VACUUM"));
  CORDON_ASSIGN_OR_RETURN(Statement s, writer_.Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  // (busy, pages in the WAL, pages checkpointed): busy when a reader holds an
  // old snapshot; the next pass finishes it.
  if (row && s.Int(0) != 0) {
    return absl::UnavailableError("WAL checkpoint incomplete: a reader holds an old snapshot");
  }
  return absl::OkStatus();
}

}  // namespace cordon::storage
