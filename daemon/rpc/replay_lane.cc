#include "daemon/rpc/replay_lane.h"

#include <pthread.h>

namespace cordon::rpc {

ReplayLane::ReplayLane() : thread_([this] { Run(); }) {}

ReplayLane::~ReplayLane() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ReplayLane::Post(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    work_.push_back(std::move(work));
  }
  wake_.notify_one();
}

void ReplayLane::Run() {
  pthread_setname_np(pthread_self(), "cordon-replay");
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !work_.empty(); });
      if (work_.empty()) return;
      work = std::move(work_.front());
      work_.pop_front();
    }
    work();
  }
}

}  // namespace cordon::rpc
