#include "daemon/cpu/thread_slice.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>

namespace cordon::cpu {
namespace {

// glibc 2.36 has no wrapper for sched_setattr/sched_getattr; this is the
// kernel's struct sched_attr (include/uapi/linux/sched/types.h).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;  // for SCHED_OTHER: the slice, in ns (6.12+)
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

bool GetAttr(pid_t tid, SchedAttr& attr) {
  std::memset(&attr, 0, sizeof attr);
  return syscall(SYS_sched_getattr, tid, &attr, sizeof attr, 0) == 0;
}

}  // namespace

std::optional<std::chrono::microseconds> SliceOf(pid_t tid) {
  SchedAttr attr;
  if (!GetAttr(tid, attr) || attr.sched_policy != SCHED_OTHER || attr.sched_runtime == 0) {
    return std::nullopt;
  }
  return std::chrono::microseconds(attr.sched_runtime / 1000);
}

std::string RequestSlice(std::chrono::microseconds slice) {
  SchedAttr attr;
  if (!GetAttr(0, attr)) return std::string("sched_getattr: ") + std::strerror(errno);
  if (attr.sched_policy != SCHED_OTHER) return "not a normal (SCHED_OTHER) thread";
  // Keeps the policy and nice value; only the slice changes.
  attr.size = sizeof attr;
  attr.sched_flags = 0;
  attr.sched_runtime = static_cast<uint64_t>(slice.count()) * 1000;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    return std::string("sched_setattr: ") + std::strerror(errno);
  }
  if (SliceOf() != slice) return "the kernel keeps no slice per thread (Linux 6.12 and later do)";
  return {};
}

void MarkDecidingThread(std::chrono::microseconds slice) {
  // Per thread: gRPC runs reactions on a few threads of its own.
  thread_local std::chrono::microseconds asked{0};
  if (slice.count() == 0 || asked == slice) return;
  asked = slice;
  (void)RequestSlice(slice);  // refused or ignored: the kernel's default, as before
}

std::string ProbeSlice(std::chrono::microseconds slice) {
  std::string why;
  std::thread([&] { why = RequestSlice(slice); }).join();
  return why;
}

}  // namespace cordon::cpu
