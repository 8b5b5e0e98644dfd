#include "daemon/storage/background_priority.h"

#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include <spdlog/spdlog.h>

namespace cordon::storage {

namespace {

bool HasCapSysNice() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      return (caps >> 23) & 1;  // CAP_SYS_NICE
    }
  }
  return false;
}

}  // namespace

bool BackgroundPriority::Available() {
  static const bool available = [] {
    rlimit limit{};
    if (getrlimit(RLIMIT_NICE, &limit) == 0 &&
        (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= 20)) {
      return true;  // may set nice 0 (20 - limit) again
    }
    return HasCapSysNice();
  }();
  return available;
}

BackgroundPriority::BackgroundPriority(bool enabled) : enabled_(enabled && Available()) {
  if (enabled && !enabled_) {
    spdlog::info("background priority for commits is off: it needs CAP_SYS_NICE or "
                 "RLIMIT_NICE 20 (systemd LimitNICE=+0)");
  }
  if (enabled_) background_ = Set(true);
}

void BackgroundPriority::Update(bool behind) {
  if (!enabled_) return;
  if (behind) {
    calm_ = 0;
    if (background_ && Set(false)) background_ = false;
    return;
  }
  if (background_) return;
  auto now = std::chrono::steady_clock::now();
  auto cpu = ThreadCpu();
  if (calm_++ == 0) {
    calm_since_ = now;
    calm_cpu_ = cpu;
    return;
  }
  if (calm_ < kCalmRounds) return;
  // Keeping up while using most of a core (10,000 scans/s) is no reason to
  // step back: in the background it would fall behind again at once, and
  // each fall stalls the acks for hundreds of milliseconds.
  const double load = std::chrono::duration<double>(cpu - calm_cpu_).count() /
                      std::max(1e-9, std::chrono::duration<double>(now - calm_since_).count());
  calm_ = 0;
  if (load < kMaxBackgroundLoad && Set(true)) background_ = true;
}

std::chrono::nanoseconds BackgroundPriority::ThreadCpu() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

bool BackgroundPriority::Set(bool background) {
  sched_param param{};
  // pid 0: the calling thread (Linux schedules threads, not processes).
  if (sched_setscheduler(0, background ? SCHED_IDLE : SCHED_OTHER, &param) == 0) return true;
  spdlog::warn("cannot move a thread to {} priority: {}", background ? "background" : "normal",
               std::strerror(errno));
  enabled_ = false;  // Available() said it could; stop trying
  return false;
}

}  // namespace cordon::storage
