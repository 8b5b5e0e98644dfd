#include "daemon/office/daily_report.h"

#include <charconv>
#include <cstdio>
#include <set>

#include "core/status_macros.h"

namespace cordon::office {

std::optional<std::pair<TimePoint, TimePoint>> LocalDay(std::string_view date, Micros utc_offset) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  auto num = [&](size_t pos, size_t len, auto& out) {
    auto r = std::from_chars(date.data() + pos, date.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == date.data() + pos + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  TimePoint from = std::chrono::sys_days(ymd) - utc_offset;
  return std::make_pair(from, from + std::chrono::days(1));
}

std::string CampusDate(TimePoint t, Micros utc_offset) {
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t + utc_offset)};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return out;
}

absl::StatusOr<DailyReport> BuildDailyReport(storage::Store& store,
                                             const presence::CampusPresence& presence,
                                             const PolicySnapshot& policy, std::string_view date,
                                             TimePoint now) {
  auto day = LocalDay(date, policy.zones->utc_offset);
  if (!day) return absl::InvalidArgumentError("date: '" + std::string(date) + "' is not YYYY-MM-DD");
  if (day->first > now) return absl::InvalidArgumentError("date: " + std::string(date) + " has not begun");
  DailyReport r;
  r.date = std::string(date);
  std::tie(r.from, r.to) = *day;
  r.as_of = std::min(r.to, now);
  CORDON_ASSIGN_OR_RETURN(r.figures, store.GetDailyFigures(r.from, r.as_of));
  auto count = [&](PersonId id) {
    if (const Person* p = policy.FindPerson(id)) r.on_campus[p->category] += 1;
  };
  if (r.to > now) {
    for (const auto& [id, where] : presence.OnCampus()) count(id);
  } else {
    // Everyone with a stay in any zone at the last microsecond of the day.
    TimePoint at = r.to - Micros(1);
    std::vector<storage::ZoneSpan> spans;
    for (const Zone& z : policy.zones->zones) spans.push_back({z.id, at, r.to});
    CORDON_ASSIGN_OR_RETURN(std::vector<Stay> stays, store.StaysInZones(spans, now));
    std::set<PersonId> inside;
    for (const Stay& s : stays) {
      if (s.begin <= at && at < s.end) inside.insert(s.person);
    }
    for (PersonId id : inside) count(id);
  }
  return r;
}

}  // namespace cordon::office
