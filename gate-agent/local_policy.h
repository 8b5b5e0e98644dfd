// The gate's own copy of the policy, built from the daemon's PolicyUpdate,
// for deciding while the daemon is unreachable.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cordon/v1/gate.pb.h"
#include "core/campus_state.h"
#include "core/credential.h"
#include "core/policy_snapshot.h"

namespace cordon::gate {

struct LocalPolicy {
  PolicySnapshot snapshot;
  CredentialHasher lookup;  // hashes a scanned credential as the daemon does
  std::vector<std::pair<PassId, PassProgress>> pass_progress;
  std::vector<std::pair<LeaveId, LeaveProgress>> leave_progress;
};

// Checks and converts an update; errors name the field.
absl::StatusOr<LocalPolicy> ToLocalPolicy(const v1::PolicyUpdate& update);

}  // namespace cordon::gate
