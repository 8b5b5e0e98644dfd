// Times as people type and read them. Input accepts:
//   now | +2h | -30m | +7d | +90s          relative to `now`
//   2026-11-22                              local midnight
//   2026-11-22 08:30[:15] | 2026-11-22T08:30[:15]   local time
//   2026-11-22T08:30:15Z | ...+08:00        an explicit UTC offset
// Output is local time ("2026-11-22 08:30:15") for tables and RFC 3339 UTC
// for machines.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/time.h"

namespace cordon::console {

absl::StatusOr<TimePoint> ParseTime(std::string_view text, TimePoint now);
std::string FormatLocal(TimePoint t);  // "2026-11-22 08:30:15"
std::string FormatUtc(TimePoint t);    // "2026-11-22T08:30:15.123Z"

}  // namespace cordon::console
