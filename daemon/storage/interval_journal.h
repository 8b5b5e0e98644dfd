// Keeps presence_intervals in step with the events table, on the writer
// connection and inside the writer's transaction: an event and the interval
// it opens or closes commit together.
//
// In time order (the usual case) one event costs at most one update and one
// insert, and no lookup. The journal loads every open interval when it
// starts and remembers each person's latest interval from then on; anyone
// else has no open interval, and whatever they did ended by the latest
// event then stored (`settled_until_`), so a live event needs no lookup. A
// lookup (person_days.h: a seek per day back) is left for an event older
// than that. An event older than the person's latest interval, or than any
// later event of theirs (a gate replaying its offline outbox; the later
// event may be an exit that closed nothing then), rebuilds that person's
// intervals from the one it falls in: they are derived again from the
// events and only the rows that differ are written (a replayed scan beside
// a live one usually changes one stay: docs/BENCHMARKS.md).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "core/presence_interval.h"
#include "daemon/storage/person_days.h"
#include "daemon/storage/records.h"
#include "sqlite/database.h"

namespace cordon::storage {

class IntervalJournal {
 public:
  static absl::StatusOr<std::unique_ptr<IntervalJournal>> Prepare(sqlite::Database& writer);

  // Call inside the writer's transaction, for each newly stored event with a person.
  absl::Status Record(int64_t person, const Sighting& s, const MaxStayFn& max_stay);
  // Derives every person's intervals from the events table (a database from
  // before schema v4), reporting progress. Runs in its own transaction.
  absl::Status BuildAll(const MaxStayFn& max_stay,
                        const std::function<void(int64_t done, int64_t total)>& progress);
  absl::Status NeedsBuild(bool& needed);
  // After a rolled-back transaction, or intervals deleted outside this
  // journal (retention): what meta and the open intervals really are.
  absl::Status Reload();
  // Duration classes some interval may have (a superset is harmless).
  uint64_t span_classes() const { return span_classes_.load(std::memory_order_acquire); }

 private:
  explicit IntervalJournal(sqlite::Database& db) : db_(db) {}
  // `until_us`: the person's latest event.
  absl::Status Rebuild(int64_t person, TimePoint from, const MaxStayFn& max_stay, int64_t until_us);
  absl::Status Apply(int64_t person, std::optional<std::pair<int64_t, OpenInterval>>& open,
                     const Sighting& s, const MaxStayFn& max_stay);
  absl::Status NoteClass(int span_class);

  // A row of presence_intervals (id 0: not stored yet).
  struct Stay {
    int64_t id = 0;
    std::string zone;
    int64_t entered = 0;
    std::optional<int64_t> exited;
    int span_class = kOpenSpanClass;
    bool inferred = false;
    int64_t enter_event = 0;
    std::optional<int64_t> exit_event;
  };
  static Stay StayAt(const sqlite::Statement& row);  // the columns of presence_intervals, in order
  // Binds ?2-?8 to the stay's columns from zone on, in that order (?1 is the caller's).
  static sqlite::Statement& BindStay(sqlite::Statement& s, const Stay& stay);
  // The person's stay entered latest at or before `at_us`, sought a day at a time back.
  absl::StatusOr<std::optional<Stay>> StayAtOrBefore(int64_t person, const DayRange& days,
                                                     int64_t at_us);
  absl::StatusOr<std::optional<int64_t>> EventTime(int64_t event_id);  // nullopt: no such event
  // The person's stays entered at `start` or later, as stored, in order.
  absl::StatusOr<std::vector<Stay>> StoredFrom(int64_t person, const DayRange& days, int64_t start);
  // The stays the person's events from `start` make, nothing open before.
  absl::StatusOr<std::vector<Stay>> DerivedFrom(int64_t person, const DayRange& days, int64_t start,
                                                const MaxStayFn& max_stay);
  // Makes the stored rows the derived ones, writing only those that differ;
  // sets each derived stay's id.
  absl::Status Store(int64_t person, const std::vector<Stay>& stored, std::vector<Stay>& derived);

  struct Latest {
    int64_t id = 0;
    std::string zone;
    TimePoint entered;
    std::optional<TimePoint> exited;
  };
  absl::StatusOr<std::optional<Latest>> LookUpLatest(int64_t person);
  // The person's latest event stored on the day of `at_us` or after it, in
  // µs (nullopt: none): a seek per day from the newest.
  absl::StatusOr<std::optional<int64_t>> LatestEventFrom(int64_t person, int64_t at_us);
  absl::Status LoadOpenIntervals();

  sqlite::Database& db_;
  // Each person's latest interval as stored (nullopt: none): the open ones
  // and those looked up or written since. Nobody else has an open interval
  // or one that ended after settled_until_ (µs).
  std::unordered_map<int64_t, std::optional<Latest>> latest_of_;
  // Each person's latest event (µs) recorded since the start or looked up;
  // nobody else has an event after settled_until_.
  std::unordered_map<int64_t, int64_t> last_event_of_;
  int64_t settled_until_ = INT64_MAX;
  std::optional<sqlite::Statement> latest_;
  std::optional<sqlite::Statement> insert_;
  std::optional<sqlite::Statement> close_;
  std::optional<sqlite::Statement> put_classes_;
  std::atomic<uint64_t> span_classes_{0};  // read by query threads
  uint64_t stored_classes_ = 0;            // as in meta (committed or pending)
};

}  // namespace cordon::storage
