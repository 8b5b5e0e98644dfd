// The daily briefing of closed management (the source college's daily
// report): as of one campus-local date, who is on campus by category, who is
// in isolation and who was released, visitors, leaves, denials and alerts.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/policy_snapshot.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/storage/store.h"

namespace cordon::office {

struct DailyReport {
  std::string date;   // YYYY-MM-DD
  TimePoint from;     // local midnight
  TimePoint to;       // the next local midnight
  TimePoint as_of;    // the end of the day, or now for today
  std::map<PersonCategory, int64_t> on_campus;
  storage::DailyFigures figures;
};

// [from, to) of a campus-local date "YYYY-MM-DD"; nullopt if malformed.
std::optional<std::pair<TimePoint, TimePoint>> LocalDay(std::string_view date, Micros utc_offset);
// The campus-local date "YYYY-MM-DD" at `t`: the campus's day, not the
// clock of whoever asks (an operator in UTC is a day behind after 16:00
// for a campus at +08:00).
std::string CampusDate(TimePoint t, Micros utc_offset);

// On campus "as of" today comes from memory; a past day from the intervals.
absl::StatusOr<DailyReport> BuildDailyReport(storage::Store& store,
                                             const presence::CampusPresence& presence,
                                             const PolicySnapshot& policy, std::string_view date,
                                             TimePoint now);

}  // namespace cordon::office
