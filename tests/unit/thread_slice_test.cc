// Time slices for the deciding threads (daemon/cpu/thread_slice.h), on the
// real kernel. Where it keeps no slice per thread (before Linux 6.12) the
// tests say so and skip: there is nothing to ask for.
#include "daemon/cpu/thread_slice.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace cordon::cpu {
namespace {

using std::chrono::microseconds;

#define SKIP_UNLESS_THE_KERNEL_KEEPS_SLICES()                                         \
  if (std::string why = ProbeSlice(kMinSlice); !why.empty()) GTEST_SKIP() << why

// Runs `f` on a thread of its own: the slice stays with that thread.
template <typename F>
void OnNewThread(F f) {
  std::thread(f).join();
}

TEST(ThreadSlice, ADecidingThreadGetsTheSliceItAsksForAndNoOtherThreadDoes) {
  SKIP_UNLESS_THE_KERNEL_KEEPS_SLICES();
  std::optional<microseconds> kernels = SliceOf();
  ASSERT_TRUE(kernels.has_value());
  ASSERT_NE(*kernels, kMinSlice) << "the test needs a default other than the one it asks for";
  OnNewThread([&] {
    EXPECT_EQ(SliceOf(), kernels) << "a new thread starts with its creator's slice";
    MarkDecidingThread(kMinSlice);
    EXPECT_EQ(SliceOf(), kMinSlice);
    MarkDecidingThread(microseconds(300));  // a different slice is asked for again
    EXPECT_EQ(SliceOf(), microseconds(300));
  });
  EXPECT_EQ(SliceOf(), kernels) << "the calling thread is untouched";
  OnNewThread([&] { EXPECT_EQ(SliceOf(), kernels) << "nor is the next thread"; });
}

TEST(ThreadSlice, ZeroLeavesTheKernelsSlice) {
  SKIP_UNLESS_THE_KERNEL_KEEPS_SLICES();
  std::optional<microseconds> kernels = SliceOf();
  OnNewThread([&] {
    MarkDecidingThread(microseconds(0));
    EXPECT_EQ(SliceOf(), kernels);
  });
}

TEST(ThreadSlice, AnotherThreadsSliceIsReadByItsId) {
  SKIP_UNLESS_THE_KERNEL_KEEPS_SLICES();
  OnNewThread([&] {
    MarkDecidingThread(kMinSlice);
    pid_t tid = gettid();
    std::optional<microseconds> seen;
    OnNewThread([&] { seen = SliceOf(tid); });
    EXPECT_EQ(seen, kMinSlice);
  });
}

TEST(ThreadSlice, AThreadThatIsNotNormalSaysWhyItGetsNoSlice) {
  OnNewThread([] {
    sched_param none{};
    ASSERT_EQ(sched_setscheduler(0, SCHED_IDLE, &none), 0);  // lowering needs no privilege
    EXPECT_EQ(RequestSlice(kMinSlice), "not a normal (SCHED_OTHER) thread");
    EXPECT_EQ(SliceOf(), std::nullopt);
    MarkDecidingThread(kMinSlice);  // refused quietly: the thread stays as it was
    int policy = sched_getscheduler(0);
    EXPECT_EQ(policy, SCHED_IDLE);
  });
}

}  // namespace
}  // namespace cordon::cpu
