// "What would this policy have done?": replays recorded scans against a
// candidate policy, changing nothing. Each scan is decided by the same
// engine, in recorded order, against the presence the candidate itself
// produces (a scan the candidate denies moves nobody), starting from who was
// where when the window opened. Applying the candidate and replaying the
// same scans at the gates gives the same decisions, scan by scan.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/campus_state.h"
#include "core/engine.h"
#include "core/policy_snapshot.h"

namespace cordon::simulate {

// A recorded scan, as storage gives it back.
struct RecordedScan {
  int64_t event_id = 0;
  std::string gate_id;
  CredentialHash credential;
  Direction direction = Direction::kIn;
  TimePoint at;
  GateRowId gate = 0;
  Reason recorded = Reason::kDenyUnknownCredential;
};

struct SimulatedScan {
  int64_t event_id = 0;
  PersonId person = 0;
  Reason recorded = Reason::kDenyUnknownCredential;
  Reason candidate = Reason::kDenyUnknownCredential;
  std::string rule;  // the candidate's rule
};

struct SimulationReport {
  int64_t scans = 0;
  int64_t changed = 0;
  std::map<Reason, int64_t> new_denials;  // recorded allowed, candidate denies: by reason
  int64_t new_allows = 0;                 // recorded denied, candidate allows
  // Entries the candidate refuses under a separation rule: each is a
  // cross-cohort contact it would have prevented.
  int64_t separations_prevented = 0;
  std::vector<SimulatedScan> decisions;   // every scan, in order
};

// `state` is the campus as it was when the window opened; it is consumed.
SimulationReport Simulate(const PolicySnapshot& candidate, CampusState state,
                          std::span<const RecordedScan> scans);

}  // namespace cordon::simulate
