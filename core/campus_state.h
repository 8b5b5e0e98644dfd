// What has happened on campus so far, as far as decisions depend on it: who
// is inside which zone (anti-passback, capacity, cohort separation), which
// passes and leaves were used, and when vehicles were disinfected. The
// engine reads it through AccessState; the daemon applies every recorded
// movement to it.
//
// Zones and cohorts are named by their ids, not by index into a ZonePolicy,
// so the state stays true when an administrator changes the layout.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/model.h"
#include "core/time.h"

namespace cordon {

struct PassProgress {
  std::optional<TimePoint> entered_at;
  std::optional<TimePoint> exited_at;
};

struct LeaveProgress {
  std::optional<TimePoint> exited_at;
  std::optional<TimePoint> returned_at;
};

// Read-only view the engine decides against.
class AccessState {
 public:
  virtual ~AccessState() = default;
  virtual bool IsOnCampus(PersonId person) const = 0;
  // The zones the person is in, the campus first; empty when outside.
  virtual std::span<const std::string> ZonePathOf(PersonId person) const = 0;
  // People in the zone or below it.
  virtual int Occupancy(std::string_view zone) const = 0;
  // Members of the cohort in the zone or below it, and when the last one left.
  virtual int CohortCount(std::string_view zone, std::string_view cohort) const = 0;
  virtual std::optional<TimePoint> CohortLastLeft(std::string_view zone,
                                                  std::string_view cohort) const = 0;
  virtual PassProgress ProgressOf(PassId pass) const = 0;
  virtual LeaveProgress ProgressOfLeave(LeaveId leave) const = 0;
  virtual std::optional<TimePoint> LastDisinfection(PersonId person) const = 0;
};

// Which step of a single-visit pass or a leave a movement used.
enum class PassStep : uint8_t { kNone = 0, kEntry = 1, kExit = 2 };
enum class LeaveStep : uint8_t { kNone = 0, kExit = 1, kReturn = 2 };

// An allowed passage through a gate, as recorded.
struct Movement {
  PersonId person = 0;
  Direction direction = Direction::kIn;
  TimePoint at;
  GateRowId gate = 0;
  PassId pass = 0;  // 0: no pass involved
  PassStep pass_step = PassStep::kNone;
  LeaveId leave = 0;  // 0: no leave involved
  LeaveStep leave_step = LeaveStep::kNone;
  std::vector<std::string> to_path;  // zones the person is in afterwards; empty: outside
  std::vector<std::string> cohorts;  // the person's cohorts at the time
};

struct Presence {
  bool on_campus = false;
  TimePoint since;     // time of the movement that set the zone
  GateRowId gate = 0;  // gate of that movement
  std::vector<std::string> path;     // campus first; empty: outside
  std::vector<std::string> cohorts;  // as counted in the zones of `path`
};

class CampusState final : public AccessState {
 public:
  bool IsOnCampus(PersonId person) const override;
  std::span<const std::string> ZonePathOf(PersonId person) const override;
  int Occupancy(std::string_view zone) const override;
  int CohortCount(std::string_view zone, std::string_view cohort) const override;
  std::optional<TimePoint> CohortLastLeft(std::string_view zone,
                                          std::string_view cohort) const override;
  PassProgress ProgressOf(PassId pass) const override;
  LeaveProgress ProgressOfLeave(LeaveId leave) const override;
  std::optional<TimePoint> LastDisinfection(PersonId person) const override;

  // Applies an allowed movement. A movement older than the person's latest
  // applied one (a late replay) updates pass and leave progress but not
  // presence.
  void Apply(const Movement& m);
  // Restores progress as recorded in storage.
  void RestorePass(PassId pass, const PassProgress& progress);
  void RestoreLeave(LeaveId leave, const LeaveProgress& progress);
  // Keeps the latest disinfection of each vehicle or delivery.
  void RecordDisinfection(PersonId person, TimePoint at);

  std::optional<Presence> PresenceOf(PersonId person) const;
  // Everyone on campus now, in no particular order.
  std::vector<std::pair<PersonId, Presence>> OnCampus() const;
  // Everyone with a movement, inside or out, in no particular order.
  const std::unordered_map<PersonId, Presence>& AllPresence() const { return presence_; }
  size_t OnCampusCount() const { return on_campus_count_; }
  // Everyone in each zone or below it, by zone id (zones nobody entered are absent).
  const std::unordered_map<std::string, int>& OccupancyByZone() const { return occupancy_; }

 private:
  struct CohortPresence {
    int count = 0;
    std::optional<TimePoint> last_left;
  };
  static std::string CohortKey(std::string_view zone, std::string_view cohort);
  void Enter(const std::string& zone, const std::vector<std::string>& cohorts);
  void Leave(const std::string& zone, const std::vector<std::string>& cohorts, TimePoint at);

  std::unordered_map<PersonId, Presence> presence_;
  std::unordered_map<PassId, PassProgress> passes_;
  std::unordered_map<LeaveId, LeaveProgress> leaves_;
  std::unordered_map<PersonId, TimePoint> disinfected_;
  std::unordered_map<std::string, int> occupancy_;
  std::unordered_map<std::string, CohortPresence> cohorts_;  // by CohortKey
  size_t on_campus_count_ = 0;
};

}  // namespace cordon
