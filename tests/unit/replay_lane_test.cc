// The thread that stores gates' backlogs: one thread of its own, in the
// order posted, and nothing posted is dropped when it stops.
#include "daemon/rpc/replay_lane.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cordon::rpc {
namespace {

TEST(ReplayLane, RunsEverythingPostedInOrderOnAThreadOfItsOwn) {
  std::mutex mu;
  std::vector<int> order;
  std::set<std::thread::id> threads;
  std::string name;
  {
    ReplayLane lane;
    for (int i = 0; i < 200; ++i) {
      lane.Post([&, i] {
        char buf[16] = {};
        pthread_getname_np(pthread_self(), buf, sizeof buf);
        std::lock_guard lock(mu);
        order.push_back(i);
        threads.insert(std::this_thread::get_id());
        name = buf;
      });
    }
  }  // stopping runs what is still queued
  ASSERT_EQ(order.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_NE(*threads.begin(), std::this_thread::get_id());
  EXPECT_EQ(name, "cordon-replay");
}

}  // namespace
}  // namespace cordon::rpc
