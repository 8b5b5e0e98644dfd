// A token bucket: `rate` tokens a second up to `burst`; each message takes
// one. Pure: the caller passes the time.
#pragma once

#include <algorithm>

#include "core/time.h"

namespace cordon {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  // True (and one token spent) if a message may pass at `now`.
  bool Take(TimePoint now) {
    if (started_) {
      double elapsed = std::chrono::duration<double>(now - last_).count();
      if (elapsed > 0) tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    started_ = true;
    if (now > last_) last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double rate_, burst_, tokens_;
  TimePoint last_{};
  bool started_ = false;
};

}  // namespace cordon
