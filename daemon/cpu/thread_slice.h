// Time slices for the threads that decide scans. Linux's EEVDF scheduler
// (6.12 and later) lets a thread ask for its own slice; a thread waking
// with a shorter slice than the running one preempts it at once, where it
// would otherwise wait for the running thread's slice to end. On a small
// machine the deciding threads share cores with bulk work: the storage
// writer's commits, a gate's replayed backlog. They ask for the shortest
// slice (0.1 ms); bulk threads keep the kernel's default (1.4 ms on two
// cores). Older kernels keep no slice per thread and ignore the request.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace cordon::cpu {

// The kernel's accepted range; 0 means "the kernel's default".
inline constexpr std::chrono::microseconds kMinSlice{100};
inline constexpr std::chrono::microseconds kMaxSlice{100'000};

// The slice the kernel keeps for thread `tid` (0: the caller); nullopt when
// it keeps none for it (before Linux 6.12, or not a normal thread).
std::optional<std::chrono::microseconds> SliceOf(pid_t tid = 0);

// Asks for `slice` on the calling thread. Empty on success, else why not.
std::string RequestSlice(std::chrono::microseconds slice);

// On a thread that decides scans, at the start of each piece of work: the
// first call on a thread asks for `slice` (once; later calls cost a
// thread-local compare). Zero does nothing.
void MarkDecidingThread(std::chrono::microseconds slice);

// Whether this kernel honours `slice`, tried on a short-lived thread of its
// own: empty when it does, else why not (for the log at start).
std::string ProbeSlice(std::chrono::microseconds slice);

}  // namespace cordon::cpu
