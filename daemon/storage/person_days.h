// The per-person indexes (events_by_person, intervals_by_person) are keyed
// by day first (schema v10): (day, person, time). A commit's people are
// random, and in an index keyed by person first each of them dirtied a cold
// page of its own; keyed by day, today's entries are a small, contiguous,
// cached part of the index (plain SQLite on the 10 M-event store: 37-42 µs
// per event against 62-74; docs/BENCHMARKS.md). The price is paid by
// queries for one person: one index seek per day of their window, and a
// walk back day by day for "the latest before T".
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "sqlite/database.h"

namespace cordon::storage {

// As SQLite computes `occurred_at / 86400000000` in the index expressions:
// integer division, truncating toward zero. Queries must spell the
// expression the same way for SQLite to use the index.
inline constexpr int64_t kIndexDayMicros = 86'400'000'000;
constexpr int64_t IndexDay(int64_t at_us) { return at_us / kIndexDayMicros; }

// The first and last day holding any entry of a per-person index.
struct DayRange {
  int64_t first = 0;
  int64_t last = 0;
  // The days of [from_us, to_us] that can hold entries; nullopt when none.
  std::optional<DayRange> Clamp(int64_t from_us, int64_t to_us) const;
};

// Two seeks at the ends of events_by_person; nullopt when there are no events.
absl::StatusOr<std::optional<DayRange>> EventDays(sqlite::Database& db);
// The same for intervals_by_person.
absl::StatusOr<std::optional<DayRange>> IntervalDays(sqlite::Database& db);

// When the latest of `person`'s intervals entered at or before `at_us` was
// entered (INT64_MIN: none), sought a day at a time back from `at_us`
// within `days` (IntervalDays).
absl::StatusOr<int64_t> LatestEntryAtOrBefore(sqlite::Database& db, const DayRange& days,
                                              int64_t person, int64_t at_us);

// `d` from `lo` to `hi`: joined (CROSS JOIN, so that it is the outer loop)
// with a per-person index, it makes one seek per day. Binds ?1 and ?2.
inline constexpr const char* kDaysCte =
    "WITH RECURSIVE days(d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days WHERE d < ?2) ";

}  // namespace cordon::storage
