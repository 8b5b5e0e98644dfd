// Who is on campus now, kept in memory and rebuilt from storage at start.
//
// Deciding a scan and applying its movement happen under one short lock, so
// two gates scanning the same person at once cannot both admit them. The
// critical section is the pure engine call plus a hash-map update (about a
// microsecond); nothing inside it waits for I/O.
#pragma once

#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/campus_state.h"
#include "core/engine.h"
#include "daemon/storage/store.h"

namespace cordon::presence {

class CampusPresence {
 public:
  absl::Status Restore(storage::Store& store, const PolicySnapshot& policy);
  // Writes who is where (journal writer thread, between commits). People
  // with a movement applied here but not yet committed are left to the
  // journal: if cordond dies before the commit, it never happened.
  absl::Status SaveSnapshot(storage::Store& store) const;
  // The journal writer committed these events (its thread, after the commit).
  void Committed(std::span<const storage::RecordedEvent> batch);

  // Decides against `policy` at `now` and applies the movement if allowed.
  Decision DecideAndApply(const PolicySnapshot& policy, const ScanInput& scan, TimePoint now,
                          GateRowId gate);
  // What the engine would decide now, without applying anything: how the
  // daemon judges a decision a gate made offline.
  Decision Evaluate(const PolicySnapshot& policy, const ScanInput& scan, TimePoint at) const;
  // Applies an allowed decision made elsewhere (one the gate already held)
  // and returns the movement it made (with the pass or leave it used).
  Movement ApplyDecided(const PolicySnapshot& policy, PersonId person, Direction direction,
                        Reason reason, TimePoint at, std::string_view gate_id, GateRowId gate);
  void RecordDisinfection(PersonId person, TimePoint at);

  std::optional<Presence> PresenceOf(PersonId person) const;
  std::vector<std::pair<PersonId, Presence>> OnCampus() const;
  size_t OnCampusCount() const;
  // How many are in each of `zones` or below it, in the same order; a copy
  // of a few counters under the lock.
  std::vector<int64_t> OccupancyOf(const std::vector<std::string>& zones) const;
  PassProgress ProgressOf(PassId pass) const;
  LeaveProgress ProgressOfLeave(LeaveId leave) const;

 private:
  mutable std::mutex mu_;
  CampusState state_;  // guarded by mu_
  // Movements applied to state_ and not yet committed, by person.
  std::unordered_map<PersonId, int> uncommitted_;  // guarded by mu_
};

}  // namespace cordon::presence
