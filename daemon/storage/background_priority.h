// Runs a thread's deferred work (commits, acknowledgements) at background
// priority while it keeps up, and at normal priority once it falls behind.
//
// On two cores a commit on a full store is a burst of several milliseconds
// of CPU; at normal priority it takes a core from the gate streams, and
// decisions queue behind it (1,000 scans/s, 10 M-event store: p99 1.1 ms,
// 0.65 ms with the writer and the acks in the background; docs/BENCHMARKS.md).
// Decisions never wait for a commit, so a commit can wait for them. Only
// while the thread keeps up, though: under a sustained load beyond the idle
// CPU, background work would starve, the acknowledgements would stop and
// the gates' outboxes would grow.
//
// Returning from background to normal priority needs CAP_SYS_NICE or an
// RLIMIT_NICE of at least 20 (systemd: LimitNICE=+0, as in
// deploy/systemd/cordond.service). Without it the thread stays at normal
// priority throughout: never stuck in the background.
#pragma once

#include <chrono>
#include <cstddef>

namespace cordon::storage {

class BackgroundPriority {
 public:
  // Whether this process may return a thread from background to normal.
  static bool Available();

  // Constructed on the thread it governs, which starts in the background
  // when `enabled` and Available().
  explicit BackgroundPriority(bool enabled);

  // After each round of work: `behind` raises the thread to normal at once;
  // kCalmRounds rounds in a row that were not behind lower it again, if the
  // thread used less than kMaxBackgroundLoad of a core over them.
  void Update(bool behind);

  bool background() const { return background_; }

 private:
  bool Set(bool background);
  static std::chrono::nanoseconds ThreadCpu();

  bool enabled_;
  bool background_ = false;
  size_t calm_ = 0;
  std::chrono::steady_clock::time_point calm_since_;
  std::chrono::nanoseconds calm_cpu_{0};
  static constexpr size_t kCalmRounds = 20;  // a second at the default 50 ms commit window
  static constexpr double kMaxBackgroundLoad = 0.3;  // of a core
};

}  // namespace cordon::storage
