// What has happened on campus so far, as far as decisions depend on it: who
// is inside (anti-passback) and which passes were used. The engine reads it
// through AccessState; the daemon applies every recorded movement to it.
#pragma once

#include <optional>
#include <unordered_map>
#include <vector>

#include "core/model.h"
#include "core/time.h"

namespace cordon {

struct PassProgress {
  std::optional<TimePoint> entered_at;
  std::optional<TimePoint> exited_at;
};

// Read-only view the engine decides against.
class AccessState {
 public:
  virtual ~AccessState() = default;
  virtual bool IsOnCampus(PersonId person) const = 0;
  virtual PassProgress ProgressOf(PassId pass) const = 0;
};

// Which step of a single-visit pass a movement used.
enum class PassStep : uint8_t { kNone = 0, kEntry = 1, kExit = 2 };

// An allowed passage through a gate, as recorded.
struct Movement {
  PersonId person = 0;
  Direction direction = Direction::kIn;
  TimePoint at;
  GateRowId gate = 0;
  PassId pass = 0;  // 0: no pass involved
  PassStep pass_step = PassStep::kNone;
};

struct Presence {
  bool on_campus = false;
  TimePoint since;     // time of the movement that set on_campus
  GateRowId gate = 0;  // gate of that movement
};

class CampusState final : public AccessState {
 public:
  bool IsOnCampus(PersonId person) const override;
  PassProgress ProgressOf(PassId pass) const override;

  // Applies an allowed movement. A movement older than the person's latest
  // applied one (a late replay) updates pass progress but not presence.
  void Apply(const Movement& m);
  // Restores pass progress as recorded in storage.
  void RestorePass(PassId pass, const PassProgress& progress);

  std::optional<Presence> PresenceOf(PersonId person) const;
  // Everyone on campus now, in no particular order.
  std::vector<std::pair<PersonId, Presence>> OnCampus() const;
  size_t OnCampusCount() const { return on_campus_count_; }

 private:
  std::unordered_map<PersonId, Presence> presence_;
  std::unordered_map<PassId, PassProgress> passes_;
  size_t on_campus_count_ = 0;
};

}  // namespace cordon
