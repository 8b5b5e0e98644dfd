// Gates' backlogs (scan batches) are stored on a thread of their own. A
// batch of 256 scans takes 2-5 ms to check, admit and hand to the journal;
// on one of gRPC's threads, live scans waited behind it (docs/BENCHMARKS.md,
// fifteenth pass). The thread is not niced: it takes the ledger and presence
// locks that live scans need, and at nice +10 it was preempted holding them
// (the live p99.9 during a replay doubled).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace cordon::rpc {

class ReplayLane {
 public:
  ReplayLane();
  ~ReplayLane();  // runs what is queued, then stops
  ReplayLane(const ReplayLane&) = delete;
  ReplayLane& operator=(const ReplayLane&) = delete;

  // Runs `work` on the lane's thread, in the order posted.
  void Post(std::function<void()> work);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> work_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::thread thread_;
};

}  // namespace cordon::rpc
