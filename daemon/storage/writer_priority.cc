#include "daemon/storage/writer_priority.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace cordon::storage {
namespace {

// Leaving SCHED_IDLE for SCHED_OTHER at nice 0 needs what lowering the nice
// value to 0 needs: RLIMIT_NICE >= 20 or CAP_SYS_NICE. Checked before the
// first change, because a thread that could not return would stay idle.
bool MayLeaveIdle() {
  rlimit r{};
  if (getrlimit(RLIMIT_NICE, &r) == 0) {
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < 20 &&
        (r.rlim_max == RLIM_INFINITY || r.rlim_max >= 20)) {
      r.rlim_cur = 20;  // the soft limit may rise to the hard one
      if (setrlimit(RLIMIT_NICE, &r) != 0) getrlimit(RLIMIT_NICE, &r);
    }
    if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= 20) return true;
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_SYS_NICE / 32].effective & (1U << (CAP_SYS_NICE % 32))) != 0;
}

}  // namespace

void WriterPriority::Allow(bool wanted) {
  std::lock_guard lock(mu_);
  if (!wanted) {
    why_not_ = "turned off (journal.writer_yields: false)";
  } else if (!MayLeaveIdle()) {
    why_not_ = "the process may not return a thread from SCHED_IDLE (needs CAP_SYS_NICE or "
               "RLIMIT_NICE of 20; systemd: LimitNICE=+0)";
  } else {
    why_not_.clear();
    enabled_.store(true, std::memory_order_release);
  }
}

void WriterPriority::BindToThisThread() {
  std::lock_guard lock(mu_);
  tid_ = static_cast<pid_t>(syscall(SYS_gettid));
}

std::string WriterPriority::why_not() const {
  std::lock_guard lock(mu_);
  return why_not_;
}

void WriterPriority::Set(bool background) {
  if (!enabled()) return;
  std::lock_guard lock(mu_);
  if (tid_ == 0 || background_.load(std::memory_order_relaxed) == background) return;
  sched_param param{};
  if (sched_setscheduler(tid_, background ? SCHED_IDLE : SCHED_OTHER, &param) != 0) {
    int err = errno;
    enabled_.store(false, std::memory_order_release);
    why_not_ = std::string("sched_setscheduler: ") + std::strerror(err);
    spdlog::error("storage writer: cannot change its CPU priority ({}); it {}", why_not_,
                  background ? "stays a normal thread" : "is stuck at idle priority");
    return;
  }
  background_.store(background, std::memory_order_release);
  changes_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace cordon::storage
