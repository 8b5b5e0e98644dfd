// Where cordond is in its life: starting (restoring from the database),
// serving, or draining. Services ask it before doing anything, so that the
// server can listen (and answer health checks with NOT_SERVING) before the
// state it serves from is ready.
#pragma once

#include <grpcpp/support/status.h>

#include <atomic>

namespace cordon::rpc {

class Lifecycle {
 public:
  enum class Phase { kStarting, kServing, kDraining };

  void Set(Phase phase) { phase_.store(phase); }
  Phase phase() const { return phase_.load(); }
  bool serving() const { return phase() == Phase::kServing; }

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
};

}  // namespace cordon::rpc
