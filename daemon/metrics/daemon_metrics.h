// cordond's Prometheus metrics. Every counter a scan touches is created up
// front, so counting is one atomic add with no label lookup.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>

#include "core/engine.h"
#include "core/model.h"
#include "core/reason.h"

namespace cordon::metrics {

class DaemonMetrics {
 public:
  explicit DaemonMetrics(prometheus::Registry& registry);

  // A scan recorded: decided by the daemon, or a decision the gate held.
  void CountScan(Reason reason, DecisionSource source);
  // A scan sent again by its gate (already committed or still pending).
  void CountResend() { resent_->Increment(); }
  // Scan received → decision queued to the stream, on the daemon.
  void ObserveDecision(std::chrono::nanoseconds took);
  void CountAlert(AlertKind kind);
  void ObserveCommit(size_t events, std::chrono::nanoseconds took);
  void ObserveSync(std::chrono::nanoseconds took);
  void CountCommitFailure() { commit_failures_->Increment(); }
  // A gate stream stopped reading until the journal writer caught up.
  void CountStreamPause() { stream_pauses_->Increment(); }
  // A gate stream ended with this gRPC status code name ("OK", "INVALID_ARGUMENT"...).
  void CountStreamEnd(const std::string& code);

 private:
  static constexpr size_t kMaxReason = 256;
  // Indexed by reason number, then source (0 daemon, 1 gate offline).
  std::array<std::array<prometheus::Counter*, 2>, kMaxReason> scans_{};
  prometheus::Counter* resent_;
  prometheus::Histogram* decision_latency_;
  std::array<prometheus::Counter*, 256> alerts_{};
  prometheus::Counter* events_committed_;
  prometheus::Counter* commit_failures_;
  prometheus::Counter* stream_pauses_;
  prometheus::Histogram* commit_batch_;
  prometheus::Histogram* commit_latency_;
  prometheus::Histogram* sync_latency_;
  prometheus::Family<prometheus::Counter>* stream_ends_;
};

}  // namespace cordon::metrics
