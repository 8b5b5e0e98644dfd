// The storage writer's CPU priority. A commit costs the writer one unbroken
// stretch of CPU (SQLite writes ~3 WAL frames per event: about 2 ms for a
// commit of 50 events on a 10 M-event store). On a machine with few cores
// the gRPC threads that decide scans wait behind that stretch, and so does
// every gate. While storage is light the writer's SQLite work runs as
// SCHED_IDLE, which any other runnable thread preempts at once; when it has
// more to do it competes as a normal thread, so a flood or a replay is
// stored at full speed (JournalWriter::Options::yield_when_light).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace cordon::storage {

class WriterPriority {
 public:
  // Before the writer starts. Enabled when `wanted` and a thread may leave
  // SCHED_IDLE again (CAP_SYS_NICE, or an RLIMIT_NICE of at least 20:
  // systemd's LimitNICE=+0); otherwise the writer stays a normal thread and
  // `why_not()` says why.
  void Allow(bool wanted);
  // On the writer thread, first thing.
  void BindToThisThread();
  bool enabled() const { return enabled_.load(std::memory_order_acquire); }
  std::string why_not() const;

  // Any thread. A system call only when the state changes.
  void Set(bool background);
  bool background() const { return background_.load(std::memory_order_acquire); }
  uint64_t changes() const { return changes_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;  // one change at a time, so the flag matches the thread
  pid_t tid_ = 0;
  std::atomic<bool> enabled_{false};
  std::atomic<bool> background_{false};
  std::atomic<uint64_t> changes_{0};
  std::string why_not_ = "not allowed";
};

}  // namespace cordon::storage
