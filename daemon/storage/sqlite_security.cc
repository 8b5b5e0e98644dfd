// The security office's queries on the embedded store: movements, stays
// (presence intervals) and the daily briefing's figures.
#include <algorithm>

#include "core/status_macros.h"
#include "daemon/storage/person_days.h"
#include "daemon/storage/sqlite_store.h"
#include "daemon/storage/sqlite_values.h"

namespace cordon::storage {

absl::StatusOr<std::vector<MovementRow>> SqliteStore::ListMovements(const MovementQuery& q) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  // The filter picks the index: the person's (one seek per day of the
  // window, person_days.h), or time alone.
  std::string where = "occurred_at >= ?3 AND occurred_at < ?4 AND (occurred_at, id) > (?5, ?6)";
  std::string from = "events";
  std::optional<DayRange> days;
  if (q.person != 0) {
    CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> held, EventDays(reader.db()));
    if (held) days = held->Clamp(Us(q.from), Us(q.to));
    if (!days) return std::vector<MovementRow>{};
    from = "days CROSS JOIN events ON occurred_at / 86400000000 = days.d AND person_id = ?7";
  }
  if (!q.gates.empty()) {
    where += " AND gate_id IN (";
    for (size_t i = 0; i < q.gates.size(); ++i) {
      where += (i ? "," : "") + std::to_string(q.gates[i]);
    }
    where += ")";
  }
  if (q.allowed) where += *q.allowed ? " AND allowed = 1" : " AND allowed = 0";
  CORDON_ASSIGN_OR_RETURN(Statement* cached, reader.db().Cached(
      std::string(days ? kDaysCte : "") +
      "SELECT id, person_id, gate_id, seq, direction, allowed, reason, occurred_at, gate_time, "
      "policy_version, source, zone, at_zone, rule FROM " + from + " WHERE " + where +
      " ORDER BY occurred_at, id LIMIT ?8"));
  Statement& s = *cached;
  if (days) s.Bind(1, days->first).Bind(2, days->last).Bind(7, q.person);
  s.Bind(3, Us(q.from)).Bind(4, Us(q.to));
  s.Bind(5, q.after ? Us(q.after->first) : INT64_MIN).Bind(6, q.after ? q.after->second : 0);
  s.Bind(8, int64_t{q.limit});
  std::vector<MovementRow> out;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    MovementRow m;
    m.id = s.Int(0);
    m.person = s.OptInt(1).value_or(0);
    m.gate = s.Int(2);
    m.seq = FromStored(s.Int(3));
    m.direction = static_cast<Direction>(s.Int(4));
    m.allowed = s.Int(5) != 0;
    m.reason = ReasonFromNumber(static_cast<int>(s.Int(6))).value_or(Reason::kDenyUnknownCredential);
    m.occurred_at = FromUnixMicros(s.Int(7));
    m.gate_time = FromUnixMicros(s.Int(8));
    m.policy_version = s.Int(9);
    m.source = static_cast<DecisionSource>(s.Int(10));
    m.zone = s.Text(11);
    m.at_zone = s.Text(12);
    m.rule = s.Text(13);
    out.push_back(std::move(m));
  }
  return out;
}

Stay SqliteStore::StayFromRow(const Statement& s, TimePoint now) const {
  Stay stay;
  stay.id = s.Int(0);
  stay.person = s.Int(1);
  stay.zone = s.Text(2);
  stay.begin = FromUnixMicros(s.Int(3));
  stay.inferred = s.Int(5) != 0;
  if (auto exited = s.OptInt(4)) {
    stay.end = FromUnixMicros(*exited);
  } else {
    // No exit yet: there now, unless longer than anyone believably stays.
    Micros limit = max_stay_(stay.zone);
    if (limit < now - stay.begin) {
      stay.end = stay.begin + limit;
      stay.inferred = true;
    } else {
      stay.end = std::max(now, stay.begin);
    }
  }
  return stay;
}

absl::StatusOr<std::vector<Stay>> SqliteStore::StaysOf(PersonId person, TimePoint from,
                                                       TimePoint to, TimePoint now) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  std::vector<Stay> out;
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> held, IntervalDays(reader.db()));
  if (!held) return out;
  // A person's intervals do not overlap: those in [from, to) are the last one
  // entered at or before `from` and every one entered after it. That last
  // one is sought day by day back from `from` (person_days.h).
  CORDON_ASSIGN_OR_RETURN(int64_t start,
                          LatestEntryAtOrBefore(reader.db(), *held, person, Us(from)));
  std::optional<DayRange> days = held->Clamp(start, Us(to));
  if (!days) return out;
  CORDON_ASSIGN_OR_RETURN(Statement* cached, reader.db().Cached(std::string(kDaysCte) + R"sql(
      SELECT id, person_id, zone, entered_at, exited_at, inferred
      FROM days CROSS JOIN presence_intervals
        ON entered_at / 86400000000 = days.d AND person_id = ?3
      WHERE entered_at >= ?4 AND entered_at < ?5
      ORDER BY entered_at, id)sql"));
  Statement& s = *cached;
  s.Bind(1, days->first).Bind(2, days->last).Bind(3, person).Bind(4, start).Bind(5, Us(to));
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Stay stay = StayFromRow(s, now);
    if (stay.end > from) out.push_back(std::move(stay));
  }
  return out;
}

absl::StatusOr<std::vector<Stay>> SqliteStore::StaysInZones(std::span<const ZoneSpan> spans,
                                                            TimePoint now) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  // One index range per duration class: a closed interval of class k that
  // overlaps [from, to) entered after from - LongestInClass(k).
  CORDON_ASSIGN_OR_RETURN(Statement* closed_stmt, reader.db().Cached(R"sql(
      SELECT id, person_id, zone, entered_at, exited_at, inferred FROM presence_intervals
      WHERE zone = ?1 AND span_class = ?2 AND entered_at > ?3 AND entered_at < ?4
        AND exited_at > ?5)sql"));
  CORDON_ASSIGN_OR_RETURN(Statement* open_stmt, reader.db().Cached(R"sql(
      SELECT id, person_id, zone, entered_at, exited_at, inferred FROM presence_intervals
      WHERE zone = ?1 AND span_class = 63 AND entered_at < ?2)sql"));
  Statement& closed = *closed_stmt;
  Statement& open = *open_stmt;
  uint64_t classes = intervals_->span_classes();
  std::vector<Stay> out;
  auto drain = [&](Statement& s, TimePoint from) -> absl::Status {
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Stay stay = StayFromRow(s, now);
      if (stay.end > from) out.push_back(std::move(stay));
    }
    s.Reset();
    return absl::OkStatus();
  };
  for (const ZoneSpan& span : spans) {
    for (int k = 0; k <= kMaxSpanClass; ++k) {
      if (!(classes & (uint64_t{1} << k))) continue;
      closed.Bind(1, span.zone)
          .Bind(2, int64_t{k})
          .Bind(3, Us(span.from) - LongestInClass(k).count())
          .Bind(4, Us(span.to))
          .Bind(5, Us(span.from));
      CORDON_RETURN_IF_ERROR(drain(closed, span.from));
    }
    open.Bind(1, span.zone).Bind(2, Us(span.to));
    CORDON_RETURN_IF_ERROR(drain(open, span.from));
  }
  return out;
}

absl::StatusOr<DailyFigures> SqliteStore::GetDailyFigures(TimePoint from, TimePoint to) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  Database& db = reader.db();
  DailyFigures f;
  {
    // Read from the covering index events_by_time alone.
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(R"sql(
        SELECT allowed, reason, count(*) FROM events
        WHERE occurred_at >= ?1 AND occurred_at < ?2 GROUP BY allowed, reason)sql"));
    s.Bind(1, Us(from)).Bind(2, Us(to));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      int64_t n = s.Int(2);
      f.scans += n;
      if (s.Int(0) != 0) {
        f.allowed += n;
      } else if (auto r = ReasonFromNumber(static_cast<int>(s.Int(1)))) {
        f.denials[*r] += n;
      }
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(
        "SELECT kind, count(*) FROM alerts WHERE raised_at >= ?1 AND raised_at < ?2 GROUP BY kind"));
    s.Bind(1, Us(from)).Bind(2, Us(to));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      f.alerts[static_cast<AlertKind>(s.Int(0))] = s.Int(1);
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(R"sql(
        SELECT (SELECT count(*) FROM passes WHERE entered_at >= ?1 AND entered_at < ?2),
               (SELECT count(*) FROM passes WHERE exited_at >= ?1 AND exited_at < ?2),
               (SELECT count(*) FROM leaves WHERE returned_at >= ?1 AND returned_at < ?2))sql"));
    s.Bind(1, Us(from)).Bind(2, Us(to));
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      f.visitors_in = s.Int(0);
      f.visitors_out = s.Int(1);
      f.returned = s.Int(2);
    }
  }
  {
    // Orders in force at the end of the day, and orders that ended in it.
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(R"sql(
        SELECT id, person_id, starts_at, ends_at, reason, ordered_at, cleared_at FROM quarantines
        WHERE starts_at < ?2 AND min(ends_at, coalesce(cleared_at, ends_at)) >= ?1
        ORDER BY starts_at, id)sql"));
    s.Bind(1, Us(from)).Bind(2, Us(to));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      QuarantineOrder q{s.Int(0), s.Int(1), FromUnixMicros(s.Int(2)), FromUnixMicros(s.Int(3)),
                        s.Text(4), FromUnixMicros(s.Int(5)), OptTime(s, 6)};
      TimePoint ended = q.cleared_at ? std::min(*q.cleared_at, q.ends_at) : q.ends_at;
      if (q.ActiveAt(to - Micros(1))) {
        f.isolated.push_back(q);
      } else if (ended >= from && ended < to) {
        f.released.push_back(q);
      }
    }
  }
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db.Prepare(R"sql(
        SELECT id, person_id, exit_from, exit_until, return_by, reason, approved_by, exited_at,
               returned_at FROM leaves
        WHERE exited_at IS NOT NULL AND exited_at < ?2
          AND (exited_at >= ?1 OR (return_by < ?2 AND (returned_at IS NULL OR returned_at >= ?2)))
        ORDER BY exited_at, id)sql"));
    s.Bind(1, Us(from)).Bind(2, Us(to));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      LeaveApproval l{s.Int(0), s.Int(1), FromUnixMicros(s.Int(2)), FromUnixMicros(s.Int(3)),
                      FromUnixMicros(s.Int(4)), s.Text(5), s.Text(6)};
      TimePoint exited = FromUnixMicros(s.Int(7));
      auto returned = OptTime(s, 8);
      if (exited >= from) f.left.push_back(l);
      if (l.return_by < to && (!returned || *returned >= to)) f.overdue.push_back(l);
    }
  }
  return f;
}

absl::StatusOr<std::vector<AuditEntry>> SqliteStore::ListAudit(const AuditQuery& q) {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_ASSIGN_OR_RETURN(Statement* cached, reader.db().Cached(R"sql(
      SELECT id, at, actor, action, purpose, subject, outcome, rows, prev_hash, hash FROM audit_log
      WHERE id > ?1 AND at >= ?2 AND at < ?3 AND (?4 = '' OR actor = ?4)
      ORDER BY id LIMIT ?5)sql"));
  Statement& s = *cached;
  s.Bind(1, q.after_id).Bind(2, Us(q.from)).Bind(3, q.to == TimePoint::max() ? INT64_MAX : Us(q.to));
  s.Bind(4, q.actor).Bind(5, int64_t{q.limit});
  std::vector<AuditEntry> out;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(AuditEntry{s.Int(0), FromUnixMicros(s.Int(1)), s.Text(2), s.Text(3), s.Text(4),
                             s.Text(5), s.Text(6), s.Int(7), s.Blob(8), s.Blob(9)});
  }
  return out;
}

absl::StatusOr<AuditChainEnds> SqliteStore::AuditEnds() {
  CORDON_ASSIGN_OR_RETURN(Reader reader, BorrowReader());
  CORDON_ASSIGN_OR_RETURN(Statement * s, reader.db().Cached(
      "SELECT anchor_id, anchor_hash, head_id, head_tag FROM audit_chain WHERE one = 1"));
  CORDON_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return absl::DataLossError("audit_chain has no row: the audit log's ends were deleted");
  return AuditChainEnds{s->Int(0), s->Blob(1), s->Int(2), s->Blob(3)};
}

absl::Status SqliteStore::AppendAudit(std::span<const AuditEntry> entries,
                                      const std::string& head_tag) {
  if (entries.empty()) return absl::OkStatus();
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_));
  CORDON_ASSIGN_OR_RETURN(Statement * insert, writer_.Cached(
      "INSERT INTO audit_log(id, at, actor, action, purpose, subject, outcome, rows, prev_hash, "
      "hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  for (const AuditEntry& e : entries) {
    CORDON_RETURN_IF_ERROR(insert->Bind(1, e.id)
                               .Bind(2, Us(e.at))
                               .Bind(3, e.actor)
                               .Bind(4, e.action)
                               .Bind(5, e.purpose)
                               .Bind(6, e.subject)
                               .Bind(7, e.outcome)
                               .Bind(8, e.rows)
                               .BindBlob(9, e.prev_hash)
                               .BindBlob(10, e.hash)
                               .Run());
  }
  CORDON_ASSIGN_OR_RETURN(Statement * head, writer_.Cached(
      "UPDATE audit_chain SET head_id = ?1, head_tag = ?2 WHERE one = 1"));
  CORDON_RETURN_IF_ERROR(head->Bind(1, entries.back().id).BindBlob(2, head_tag).Run());
  if (writer_.Changes() != 1) return absl::DataLossError("audit_chain has no row");
  return txn.Commit();
}

}  // namespace cordon::storage
