#include "core/presence_interval.h"

#include <algorithm>
#include <bit>

namespace cordon {

IntervalStep NextIntervalStep(const std::optional<OpenInterval>& open, const Sighting& s,
                              Micros max_stay) {
  IntervalStep step;
  if (open) {
    bool here = s.at_zone == open->zone;
    if (!here) {
      // Seen elsewhere: the exit was missed (a tailgate, a broken reader).
      TimePoint latest = open->since + std::min(max_stay, s.at - open->since);
      step.close = IntervalStep::Close{std::max(latest, open->since), true, s.event_id};
    } else if (s.moved && s.to_zone != open->zone) {
      step.close = IntervalStep::Close{s.at, false, s.event_id};
    }
  }
  bool still_open = open && !step.close;
  if (s.moved && !s.to_zone.empty() && !still_open) {
    step.open = OpenInterval{s.to_zone, s.at};
  }
  return step;
}

int SpanClass(Micros duration) {
  int64_t minutes = std::chrono::duration_cast<std::chrono::minutes>(duration).count();
  if (minutes < 1) return 0;
  return std::min(kMaxSpanClass, static_cast<int>(std::bit_width(static_cast<uint64_t>(minutes))));
}

Micros LongestInClass(int span_class) {
  if (span_class >= kMaxSpanClass) return Micros::max() / 4;
  return std::chrono::minutes(int64_t{1} << span_class);
}

}  // namespace cordon
