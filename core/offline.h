// Deciding at a gate that cannot reach the daemon: the same engine, on the
// gate's last copy of the policy, with limits on how old that copy may be.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/engine.h"

namespace cordon {

// How long after the policy copy was last known current each category may
// still be admitted offline. Unset: no limit. Exits are never refused for
// staleness (nobody is trapped inside).
struct OfflineLimits {
  std::array<std::optional<Micros>, 7> max_age;  // indexed by PersonCategory

  std::optional<Micros> For(PersonCategory c) const {
    return max_age[static_cast<size_t>(c)];
  }
  // Defaults: resident staff 72 h, students 24 h, visitors and contractors 4 h.
  static OfflineLimits Defaults();
  // "student=24h,resident_staff=72h,single_visit=0" (0 = never offline);
  // categories not named keep their defaults; "none" means no limit.
  static absl::StatusOr<OfflineLimits> Parse(std::string_view text);
};

// `policy_confirmed_at`: the last moment the gate knew its copy was current
// (it was connected). A gate with no policy at all (version 0) denies with
// DENY_GATE_NO_POLICY.
Decision DecideOffline(const PolicySnapshot& policy, const AccessState& state,
                       const ScanInput& scan, TimePoint now, TimePoint policy_confirmed_at,
                       const OfflineLimits& limits);

}  // namespace cordon
