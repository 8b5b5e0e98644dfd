#include "daemon/storage/interval_journal.h"

#include <algorithm>

#include "core/status_macros.h"
#include "daemon/storage/person_days.h"

namespace cordon::storage {

using sqlite::Statement;
using sqlite::Transaction;

absl::StatusOr<std::unique_ptr<IntervalJournal>> IntervalJournal::Prepare(sqlite::Database& writer) {
  std::unique_ptr<IntervalJournal> j(new IntervalJournal(writer));
  CORDON_ASSIGN_OR_RETURN(j->latest_, writer.Prepare(R"sql(
      SELECT id, zone, entered_at, exited_at FROM presence_intervals
      WHERE entered_at / 86400000000 = ?2 AND person_id = ?1
      ORDER BY entered_at DESC, id DESC LIMIT 1)sql"));
  CORDON_ASSIGN_OR_RETURN(j->insert_, writer.Prepare(R"sql(
      INSERT INTO presence_intervals(person_id, zone, entered_at, span_class, enter_event)
      VALUES (?1, ?2, ?3, 63, ?4))sql"));
  CORDON_ASSIGN_OR_RETURN(j->close_, writer.Prepare(R"sql(
      UPDATE presence_intervals SET exited_at = ?2, span_class = ?3, inferred = ?4, exit_event = ?5
      WHERE id = ?1)sql"));
  CORDON_ASSIGN_OR_RETURN(j->put_classes_, writer.Prepare(
      "UPDATE meta SET value = ?1 WHERE key = 'span_classes'"));
  CORDON_RETURN_IF_ERROR(j->Reload());
  return j;
}

absl::Status IntervalJournal::Reload() {
  CORDON_ASSIGN_OR_RETURN(Statement get, db_.Prepare(
      "SELECT value FROM meta WHERE key = 'span_classes'"));
  CORDON_ASSIGN_OR_RETURN(bool row, get.Step());
  stored_classes_ = row ? static_cast<uint64_t>(get.Int(0)) : 0;
  span_classes_.fetch_or(stored_classes_ | (uint64_t{1} << kOpenSpanClass));
  return LoadOpenIntervals();
}

absl::Status IntervalJournal::LoadOpenIntervals() {
  latest_of_.clear();
  last_event_of_.clear();
  settled_until_ = INT64_MAX;  // until loaded: every first sight is looked up
  // An interval's times are its events' (an inferred exit lies before the
  // event that showed it): none is later than the latest event.
  CORDON_ASSIGN_OR_RETURN(Statement latest_event, db_.Prepare("SELECT max(occurred_at) FROM events"));
  CORDON_ASSIGN_OR_RETURN(bool row, latest_event.Step());
  int64_t settled = row && !latest_event.IsNull(0) ? latest_event.Int(0) : INT64_MIN;
  // The zones held (a loose scan of intervals_by_zone, a seek each), then
  // each zone's open intervals: people on campus, not the history.
  CORDON_ASSIGN_OR_RETURN(Statement zones, db_.Prepare(R"sql(
      WITH RECURSIVE z(zone) AS (
        SELECT min(zone) FROM presence_intervals
        UNION ALL
        SELECT (SELECT min(zone) FROM presence_intervals WHERE zone > z.zone) FROM z
        WHERE z.zone IS NOT NULL)
      SELECT zone FROM z WHERE zone IS NOT NULL)sql"));
  CORDON_ASSIGN_OR_RETURN(Statement open, db_.Prepare(
      "SELECT id, person_id, entered_at FROM presence_intervals WHERE zone = ?1 AND span_class = 63"));
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool zone_row, zones.Step());
    if (!zone_row) break;
    std::string zone = zones.Text(0);
    open.Bind(1, zone);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool open_row, open.Step());
      if (!open_row) break;
      latest_of_[open.Int(1)] = Latest{open.Int(0), zone, FromUnixMicros(open.Int(2)), std::nullopt};
    }
    open.Reset();
  }
  settled_until_ = settled;
  return absl::OkStatus();
}

absl::Status IntervalJournal::NoteClass(int span_class) {
  uint64_t bit = uint64_t{1} << span_class;
  span_classes_.fetch_or(bit, std::memory_order_acq_rel);
  if (stored_classes_ & bit) return absl::OkStatus();
  // The atomic may keep the bit if this transaction rolls back (a superset
  // is harmless); stored_classes_ is re-read then (Reload).
  stored_classes_ |= bit;
  return put_classes_->Bind(1, static_cast<int64_t>(stored_classes_)).Run();
}

absl::Status IntervalJournal::Apply(int64_t person,
                                    std::optional<std::pair<int64_t, OpenInterval>>& open,
                                    const Sighting& s, const MaxStayFn& max_stay) {
  std::optional<OpenInterval> current;
  if (open) current = open->second;
  IntervalStep step = NextIntervalStep(current, s, current ? max_stay(current->zone) : Micros(0));
  if (step.close) {
    int span_class = SpanClass(step.close->at - open->second.since);
    CORDON_RETURN_IF_ERROR(NoteClass(span_class));
    CORDON_RETURN_IF_ERROR(close_->Bind(1, open->first)
                               .Bind(2, ToUnixMicros(step.close->at))
                               .Bind(3, int64_t{span_class})
                               .Bind(4, int64_t{step.close->inferred})
                               .Bind(5, step.close->event_id)
                               .Run());
    latest_of_[person] = Latest{open->first, open->second.zone, open->second.since, step.close->at};
    open.reset();
  }
  if (step.open) {
    CORDON_RETURN_IF_ERROR(insert_->Bind(1, person)
                               .Bind(2, step.open->zone)
                               .Bind(3, ToUnixMicros(step.open->since))
                               .Bind(4, s.event_id)
                               .Run());
    open.emplace(db_.LastInsertRowId(), *step.open);
    latest_of_[person] = Latest{open->first, step.open->zone, step.open->since, std::nullopt};
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<IntervalJournal::Latest>> IntervalJournal::LookUpLatest(
    int64_t person) {
  // Day by day from the newest: people who come and go are found in the
  // first days; someone never seen costs a seek per day held.
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> days, IntervalDays(db_));
  if (!days) return std::nullopt;
  Statement& latest = *latest_;
  for (int64_t day = days->last; day >= days->first; --day) {
    latest.Bind(1, person).Bind(2, day);
    CORDON_ASSIGN_OR_RETURN(bool row, latest.Step());
    if (row) {
      auto exited = latest.OptInt(3);
      Latest found{latest.Int(0), latest.Text(1), FromUnixMicros(latest.Int(2)),
                   exited ? std::optional(FromUnixMicros(*exited)) : std::nullopt};
      latest.Reset();
      return found;
    }
    latest.Reset();
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<int64_t>> IntervalJournal::LatestEventFrom(int64_t person,
                                                                         int64_t at_us) {
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> days, EventDays(db_));
  if (!days) return std::nullopt;
  CORDON_ASSIGN_OR_RETURN(Statement * latest, db_.Cached(
      "SELECT max(occurred_at) FROM events WHERE occurred_at / 86400000000 = ?2 AND person_id = ?1"));
  for (int64_t day = days->last; day >= std::max(days->first, IndexDay(at_us)); --day) {
    latest->Bind(1, person).Bind(2, day);
    CORDON_ASSIGN_OR_RETURN(bool row, latest->Step());
    std::optional<int64_t> found = row ? latest->OptInt(0) : std::nullopt;
    latest->Reset();
    if (found) return found;
  }
  return std::nullopt;
}

absl::Status IntervalJournal::Record(int64_t person, const Sighting& s, const MaxStayFn& max_stay) {
  // Is a later event of theirs stored? It may have changed nothing then (an
  // exit with no stay open) and be the one that closes the stay this opens.
  const int64_t at = ToUnixMicros(s.at);
  bool later_event = false;
  if (auto seen = last_event_of_.find(person); seen != last_event_of_.end()) {
    later_event = at < seen->second;
    seen->second = std::max(seen->second, at);
  } else {
    std::optional<int64_t> stored;
    if (at < settled_until_) {
      CORDON_ASSIGN_OR_RETURN(stored, LatestEventFrom(person, at));
    }
    later_event = stored && at < *stored;
    last_event_of_.emplace(person, std::max(at, stored.value_or(at)));
  }
  if (!later_event) {
    std::optional<std::pair<int64_t, OpenInterval>> open;
    auto known = latest_of_.find(person);
    if (known == latest_of_.end()) {
      // Nothing open, and nothing that ended after settled_until_.
      if (at >= settled_until_) return Apply(person, open, s, max_stay);
      CORDON_ASSIGN_OR_RETURN(std::optional<Latest> found, LookUpLatest(person));
      known = latest_of_.emplace(person, std::move(found)).first;
    }
    const std::optional<Latest>& l = known->second;
    if (!l || (s.at >= l->entered && (!l->exited || s.at >= *l->exited))) {
      if (l && !l->exited) open.emplace(l->id, OpenInterval{l->zone, l->entered});
      return Apply(person, open, s, max_stay);
    }
  }
  // Older than a later event or stay of theirs: rebuilt from the stay it falls in.
  latest_of_.erase(person);
  CORDON_RETURN_IF_ERROR(Rebuild(person, s.at, max_stay));
  if (!latest_of_.contains(person)) {  // the rebuild opened and closed nothing
    CORDON_ASSIGN_OR_RETURN(std::optional<Latest> found, LookUpLatest(person));
    latest_of_.emplace(person, std::move(found));
  }
  return absl::OkStatus();
}

absl::Status IntervalJournal::Rebuild(int64_t person, TimePoint from, const MaxStayFn& max_stay) {
  // Start at the interval the late event falls in (or the beginning): what
  // came before it stands, since the events that closed it were earlier.
  int64_t start = INT64_MIN;
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> interval_days, IntervalDays(db_));
  if (interval_days) {
    CORDON_ASSIGN_OR_RETURN(start,
                            LatestEntryAtOrBefore(db_, *interval_days, person, ToUnixMicros(from)));
    CORDON_ASSIGN_OR_RETURN(Statement * del, db_.Cached(
        std::string("DELETE FROM presence_intervals WHERE id IN (") + kDaysCte +
        "SELECT p.id FROM days CROSS JOIN presence_intervals p "
        "ON p.entered_at / 86400000000 = days.d AND p.person_id = ?3 WHERE p.entered_at >= ?4)"));
    int64_t lo = std::max(interval_days->first, IndexDay(start));
    CORDON_RETURN_IF_ERROR(
        del->Bind(1, lo).Bind(2, interval_days->last).Bind(3, person).Bind(4, start).Run());
  }
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> event_days, EventDays(db_));
  if (!event_days) return absl::OkStatus();
  CORDON_ASSIGN_OR_RETURN(Statement * cached_events, db_.Cached(
      std::string(kDaysCte) +
      "SELECT e.id, e.occurred_at, e.allowed, e.zone, e.at_zone FROM days CROSS JOIN events e "
      "ON e.occurred_at / 86400000000 = days.d AND e.person_id = ?3 WHERE e.occurred_at >= ?4 "
      "ORDER BY e.occurred_at, e.id"));
  Statement& events = *cached_events;
  events.Bind(1, std::max(event_days->first, IndexDay(start)))
      .Bind(2, event_days->last)
      .Bind(3, person)
      .Bind(4, start);
  std::optional<std::pair<int64_t, OpenInterval>> open;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, events.Step());
    if (!row) break;
    Sighting s;
    s.event_id = events.Int(0);
    s.at = FromUnixMicros(events.Int(1));
    s.moved = events.Int(2) != 0;
    s.to_zone = events.Text(3);
    // Events recorded before v4 do not say where the person stood: assume
    // where the records put them.
    s.at_zone = events.IsNull(4) ? (open ? open->second.zone : std::string()) : events.Text(4);
    CORDON_RETURN_IF_ERROR(Apply(person, open, s, max_stay));
  }
  events.Reset();
  return absl::OkStatus();
}

absl::Status IntervalJournal::NeedsBuild(bool& needed) {
  CORDON_ASSIGN_OR_RETURN(Statement s, db_.Prepare(
      "SELECT value FROM meta WHERE key = 'intervals_built'"));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  needed = row && s.Int(0) == 0;
  return absl::OkStatus();
}

absl::Status IntervalJournal::BuildAll(
    const MaxStayFn& max_stay, const std::function<void(int64_t done, int64_t total)>& progress) {
  latest_of_.clear();
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_));
  CORDON_RETURN_IF_ERROR(db_.Exec("DELETE FROM presence_intervals"));
  std::vector<int64_t> people;
  {
    CORDON_ASSIGN_OR_RETURN(Statement s, db_.Prepare(
        "SELECT DISTINCT person_id FROM events WHERE person_id IS NOT NULL"));
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      people.push_back(s.Int(0));
    }
  }
  for (size_t i = 0; i < people.size(); ++i) {
    CORDON_RETURN_IF_ERROR(Rebuild(people[i], TimePoint::min(), max_stay));
    if (progress && ((i + 1) % 1000 == 0 || i + 1 == people.size())) {
      progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(people.size()));
    }
  }
  CORDON_RETURN_IF_ERROR(db_.Exec("UPDATE meta SET value = 1 WHERE key = 'intervals_built'"));
  return txn.Commit();
}

}  // namespace cordon::storage
