// Time in Cordon: UTC instants with microsecond resolution.
//
// Nothing in core/ reads a clock. Callers pass the time in, so the engine is
// a pure function and tests control time exactly.
#pragma once

#include <chrono>
#include <cstdint>

namespace cordon {

using Micros = std::chrono::microseconds;
using TimePoint = std::chrono::sys_time<Micros>;

inline constexpr int64_t ToUnixMicros(TimePoint t) { return t.time_since_epoch().count(); }
inline constexpr TimePoint FromUnixMicros(int64_t us) { return TimePoint(Micros(us)); }

// Reads the time; the daemon and the gate agent hold one, tests substitute a
// manual clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  }
};

// A clock set `offset` away from the system clock and running `speed` times
// faster from the moment it is made: tests simulate a gate whose clock is
// wrong, or a day of gate time in minutes.
class ScaledClock final : public Clock {
 public:
  explicit ScaledClock(double speed, Micros offset = Micros(0))
      : speed_(speed), offset_(offset), start_(SystemClock().Now()) {}
  TimePoint Now() const override {
    auto real = SystemClock().Now() - start_;
    return start_ + offset_ +
           Micros(static_cast<int64_t>(static_cast<double>(real.count()) * speed_));
  }

 private:
  double speed_;
  Micros offset_;
  TimePoint start_;
};

}  // namespace cordon
