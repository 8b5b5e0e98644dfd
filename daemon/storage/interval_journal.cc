#include "daemon/storage/interval_journal.h"

#include <algorithm>

#include "core/status_macros.h"

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
  CORDON_RETURN_IF_ERROR(Rebuild(person, s.at, max_stay, last_event_of_.at(person)));
  if (!latest_of_.contains(person)) {  // the rebuild opened and closed nothing
    CORDON_ASSIGN_OR_RETURN(std::optional<Latest> found, LookUpLatest(person));
    latest_of_.emplace(person, std::move(found));
  }
  return absl::OkStatus();
}

absl::Status IntervalJournal::Rebuild(int64_t person, TimePoint from, const MaxStayFn& max_stay,
                                      int64_t until_us) {
  // Derived again from the event `from` on, or from the stay it falls in:
  // what came before stands, since the events that closed it were earlier.
  // With no such stay, or one closed by an event before `from`, nothing was
  // open at `from`, and the person's events since the last entry opened
  // nothing (an allowed entry opens a stay): the derivation starts at `from`.
  const int64_t at = ToUnixMicros(from);
  int64_t start = at;
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> interval_days, IntervalDays(db_));
  if (interval_days) {
    CORDON_ASSIGN_OR_RETURN(std::optional<Stay> before, StayAtOrBefore(person, *interval_days, at));
    if (before) {
      std::optional<int64_t> closed_at;  // when the event that closed it occurred
      if (before->exited && !before->inferred) closed_at = before->exited;
      if (before->exited && before->inferred && before->exit_event) {
        CORDON_ASSIGN_OR_RETURN(closed_at, EventTime(*before->exit_event));
      }
      // An event at the same µs may be ordered either side of it: rebuilt.
      if (!closed_at || *closed_at >= at) start = before->entered;
    }
  }
  std::vector<Stay> stored;
  if (interval_days) {
    if (auto days = interval_days->Clamp(start, until_us)) {
      CORDON_ASSIGN_OR_RETURN(stored, StoredFrom(person, *days, start));
    }
  }
  CORDON_ASSIGN_OR_RETURN(
      std::vector<Stay> derived,
      DerivedFrom(person, DayRange{IndexDay(start), IndexDay(until_us)}, start, max_stay));
  CORDON_RETURN_IF_ERROR(Store(person, stored, derived));
  if (!derived.empty()) {
    const Stay& last = derived.back();
    latest_of_[person] =
        Latest{last.id, last.zone, FromUnixMicros(last.entered),
               last.exited ? std::optional(FromUnixMicros(*last.exited)) : std::nullopt};
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<IntervalJournal::Stay>> IntervalJournal::StayAtOrBefore(
    int64_t person, const DayRange& days, int64_t at_us) {
  CORDON_ASSIGN_OR_RETURN(Statement * s, db_.Cached(
      "SELECT id, zone, entered_at, exited_at, span_class, inferred, enter_event, exit_event "
      "FROM presence_intervals WHERE entered_at / 86400000000 = ?3 AND person_id = ?1 "
      "AND entered_at <= ?2 ORDER BY entered_at DESC, id DESC LIMIT 1"));
  for (int64_t day = std::min(days.last, IndexDay(at_us)); day >= days.first; --day) {
    s->Bind(1, person).Bind(2, at_us).Bind(3, day);
    CORDON_ASSIGN_OR_RETURN(bool row, s->Step());
    std::optional<Stay> found;
    if (row) found = StayAt(*s);
    s->Reset();
    if (found) return found;
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<int64_t>> IntervalJournal::EventTime(int64_t event_id) {
  CORDON_ASSIGN_OR_RETURN(Statement * s, db_.Cached("SELECT occurred_at FROM events WHERE id = ?1"));
  s->Bind(1, event_id);
  CORDON_ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<int64_t> at = row ? std::optional(s->Int(0)) : std::nullopt;
  s->Reset();
  return at;
}

IntervalJournal::Stay IntervalJournal::StayAt(const Statement& s) {
  return Stay{.id = s.Int(0),
              .zone = s.Text(1),
              .entered = s.Int(2),
              .exited = s.OptInt(3),
              .span_class = static_cast<int>(s.Int(4)),
              .inferred = s.Int(5) != 0,
              .enter_event = s.Int(6),
              .exit_event = s.OptInt(7)};
}

absl::StatusOr<std::vector<IntervalJournal::Stay>> IntervalJournal::StoredFrom(
    int64_t person, const DayRange& days, int64_t start) {
  // A day at a time: within a day the index is in (entered_at, id) order,
  // and a recursive days CTE, joined and sorted, costs more than the seek.
  CORDON_ASSIGN_OR_RETURN(Statement * s, db_.Cached(
      "SELECT id, zone, entered_at, exited_at, span_class, inferred, enter_event, exit_event "
      "FROM presence_intervals WHERE entered_at / 86400000000 = ?1 AND person_id = ?2 "
      "AND entered_at >= ?3 ORDER BY entered_at, id"));
  std::vector<Stay> stored;
  for (int64_t day = days.first; day <= days.last; ++day) {
    s->Bind(1, day).Bind(2, person).Bind(3, start);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      stored.push_back(StayAt(*s));
    }
    s->Reset();
  }
  return stored;
}

absl::StatusOr<std::vector<IntervalJournal::Stay>> IntervalJournal::DerivedFrom(
    int64_t person, const DayRange& days, int64_t start, const MaxStayFn& max_stay) {
  CORDON_ASSIGN_OR_RETURN(Statement * events, db_.Cached(
      "SELECT id, occurred_at, allowed, zone, at_zone FROM events "
      "WHERE occurred_at / 86400000000 = ?1 AND person_id = ?2 AND occurred_at >= ?3 "
      "ORDER BY occurred_at, id"));
  std::vector<Stay> derived;
  for (int64_t day = days.first; day <= days.last; ++day) {
    events->Bind(1, day).Bind(2, person).Bind(3, start);
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool row, events->Step());
      if (!row) break;
      std::optional<OpenInterval> open;
      if (!derived.empty() && !derived.back().exited) {
        open = OpenInterval{derived.back().zone, FromUnixMicros(derived.back().entered)};
      }
      Sighting s;
      s.event_id = events->Int(0);
      s.at = FromUnixMicros(events->Int(1));
      s.moved = events->Int(2) != 0;
      s.to_zone = events->Text(3);
      // Events recorded before v4 do not say where the person stood: assume
      // where the records put them.
      s.at_zone = events->IsNull(4) ? (open ? open->zone : std::string()) : events->Text(4);
      IntervalStep step = NextIntervalStep(open, s, open ? max_stay(open->zone) : Micros(0));
      if (step.close) {
        Stay& closed = derived.back();
        closed.exited = ToUnixMicros(step.close->at);
        closed.span_class = SpanClass(step.close->at - open->since);
        closed.inferred = step.close->inferred;
        closed.exit_event = step.close->event_id;
      }
      if (step.open) {
        derived.push_back(Stay{.zone = step.open->zone,
                               .entered = ToUnixMicros(step.open->since),
                               .enter_event = s.event_id});
      }
    }
    events->Reset();
  }
  return derived;
}

Statement& IntervalJournal::BindStay(Statement& s, const Stay& d) {
  return s.Bind(2, d.zone)
      .Bind(3, d.entered)
      .Bind(4, d.exited)
      .Bind(5, int64_t{d.span_class})
      .Bind(6, int64_t{d.inferred})
      .Bind(7, d.enter_event)
      .Bind(8, d.exit_event);
}

absl::Status IntervalJournal::Store(int64_t person, const std::vector<Stay>& stored,
                                    std::vector<Stay>& derived) {
  // The stored rows are reused in order: a row whose stay is unchanged is
  // not written, one whose exit alone changed is closed again (its entry's
  // index entries stay put), any other is rewritten.
  for (size_t i = 0; i < derived.size(); ++i) {
    Stay& d = derived[i];
    if (d.exited) CORDON_RETURN_IF_ERROR(NoteClass(d.span_class));
    if (i >= stored.size()) {
      CORDON_ASSIGN_OR_RETURN(Statement * insert, db_.Cached(R"sql(
          INSERT INTO presence_intervals(person_id, zone, entered_at, exited_at, span_class,
                                         inferred, enter_event, exit_event)
          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql"));
      CORDON_RETURN_IF_ERROR(BindStay(insert->Bind(1, person), d).Run());
      d.id = db_.LastInsertRowId();
      continue;
    }
    const Stay& s = stored[i];
    d.id = s.id;
    const bool same_entry = s.zone == d.zone && s.entered == d.entered && s.enter_event == d.enter_event;
    const bool same_exit = s.exited == d.exited && s.span_class == d.span_class &&
                           s.inferred == d.inferred && s.exit_event == d.exit_event;
    if (same_entry && same_exit) continue;
    if (same_entry) {
      CORDON_RETURN_IF_ERROR(close_->Bind(1, d.id)
                                 .Bind(2, d.exited)
                                 .Bind(3, int64_t{d.span_class})
                                 .Bind(4, int64_t{d.inferred})
                                 .Bind(5, d.exit_event)
                                 .Run());
      continue;
    }
    CORDON_ASSIGN_OR_RETURN(Statement * rewrite, db_.Cached(R"sql(
        UPDATE presence_intervals SET zone = ?2, entered_at = ?3, exited_at = ?4, span_class = ?5,
                                      inferred = ?6, enter_event = ?7, exit_event = ?8
        WHERE id = ?1)sql"));
    CORDON_RETURN_IF_ERROR(BindStay(rewrite->Bind(1, d.id), d).Run());
  }
  for (size_t i = derived.size(); i < stored.size(); ++i) {
    CORDON_ASSIGN_OR_RETURN(Statement * del, db_.Cached("DELETE FROM presence_intervals WHERE id = ?1"));
    CORDON_RETURN_IF_ERROR(del->Bind(1, stored[i].id).Run());
  }
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
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_));
  CORDON_RETURN_IF_ERROR(db_.Exec("DELETE FROM presence_intervals"));
  CORDON_ASSIGN_OR_RETURN(std::optional<DayRange> days, EventDays(db_));
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
    // Nothing is stored to compare with: every stay is inserted.
    CORDON_ASSIGN_OR_RETURN(std::vector<Stay> derived,
                            DerivedFrom(people[i], *days, INT64_MIN, max_stay));
    CORDON_RETURN_IF_ERROR(Store(people[i], {}, derived));
    if (progress && ((i + 1) % 1000 == 0 || i + 1 == people.size())) {
      progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(people.size()));
    }
  }
  CORDON_RETURN_IF_ERROR(db_.Exec("UPDATE meta SET value = 1 WHERE key = 'intervals_built'"));
  CORDON_RETURN_IF_ERROR(txn.Commit());
  return LoadOpenIntervals();
}

}  // namespace cordon::storage
