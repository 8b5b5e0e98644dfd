// Where cordond is in its life: starting (restoring from the database),
// serving, or draining. Services ask it before doing anything, so that the
// server can listen (and answer health checks with NOT_SERVING) before the
// state it serves from is ready.
#pragma once

#include <grpcpp/support/status.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace cordon::rpc {

class Lifecycle {
 public:
  enum class Phase { kStarting, kServing, kDraining };

  void Set(Phase phase) { phase_.store(phase); }
  Phase phase() const { return phase_.load(); }
  bool serving() const { return phase() == Phase::kServing; }

  // Gate stream reactions bracket their work with these, so the drain can
  // wait until every message already being handled has reached the journal.
  // Enter() fails once draining: the message is left to the gate's outbox.
  bool EnterReaction() {
    in_reaction_.fetch_add(1);
    if (phase() == Phase::kDraining) {
      in_reaction_.fetch_sub(1);
      return false;
    }
    return true;
  }
  void LeaveReaction() { in_reaction_.fetch_sub(1); }
  // After Set(kDraining): true once no reaction is inside, false at the deadline.
  bool WaitForReactions(std::chrono::steady_clock::time_point deadline) const {
    while (in_reaction_.load() > 0) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // shutdown only
    }
    return true;
  }

  // OK while serving; otherwise the UNAVAILABLE status a client should retry on.
  grpc::Status Admission() const {
    switch (phase()) {
      case Phase::kServing: return grpc::Status::OK;
      case Phase::kStarting:
        return {grpc::StatusCode::UNAVAILABLE, "cordond is starting (restoring from its database)"};
      case Phase::kDraining: break;
    }
    return {grpc::StatusCode::UNAVAILABLE, "cordond is shutting down"};
  }

 private:
  std::atomic<Phase> phase_{Phase::kStarting};
  std::atomic<int> in_reaction_{0};
};

}  // namespace cordon::rpc
