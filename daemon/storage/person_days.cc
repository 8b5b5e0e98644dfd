#include "daemon/storage/person_days.h"

#include <algorithm>

#include "core/status_macros.h"

namespace cordon::storage {

std::optional<DayRange> DayRange::Clamp(int64_t from_us, int64_t to_us) const {
  DayRange r{std::max(first, IndexDay(from_us)), std::min(last, IndexDay(to_us))};
  if (r.first > r.last) return std::nullopt;
  return r;
}

namespace {

absl::StatusOr<std::optional<DayRange>> Ends(sqlite::Database& db, const char* min_sql,
                                             const char* max_sql) {
  DayRange r;
  for (auto [sql, out] : {std::pair{min_sql, &r.first}, std::pair{max_sql, &r.last}}) {
    CORDON_ASSIGN_OR_RETURN(sqlite::Statement * s, db.Cached(sql));
    CORDON_ASSIGN_OR_RETURN(bool row, s->Step());
    bool none = !row || s->IsNull(0);
    if (!none) *out = s->Int(0);
    s->Reset();
    if (none) return std::nullopt;
  }
  return r;
}

}  // namespace

absl::StatusOr<std::optional<DayRange>> EventDays(sqlite::Database& db) {
  return Ends(db, "SELECT min(occurred_at / 86400000000) FROM events",
              "SELECT max(occurred_at / 86400000000) FROM events");
}

absl::StatusOr<std::optional<DayRange>> IntervalDays(sqlite::Database& db) {
  return Ends(db, "SELECT min(entered_at / 86400000000) FROM presence_intervals",
              "SELECT max(entered_at / 86400000000) FROM presence_intervals");
}

absl::StatusOr<int64_t> LatestEntryAtOrBefore(sqlite::Database& db, const DayRange& days,
                                              int64_t person, int64_t at_us) {
  CORDON_ASSIGN_OR_RETURN(sqlite::Statement * s, db.Cached(
      "SELECT max(entered_at) FROM presence_intervals "
      "WHERE entered_at / 86400000000 = ?3 AND person_id = ?1 AND entered_at <= ?2"));
  for (int64_t day = std::min(days.last, IndexDay(at_us)); day >= days.first; --day) {
    s->Bind(1, person).Bind(2, at_us).Bind(3, day);
    CORDON_ASSIGN_OR_RETURN(bool row, s->Step());
    std::optional<int64_t> entered = row ? s->OptInt(0) : std::nullopt;
    s->Reset();
    if (entered) return *entered;
  }
  return INT64_MIN;
}

}  // namespace cordon::storage
