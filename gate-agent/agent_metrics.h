// cordon-gate's Prometheus metrics (--metrics-listen): decisions by reason,
// the round trip a person waits at the turnstile, outbox depth, link state.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>

#include "core/reason.h"

namespace cordon::gate {

class AgentMetrics {
 public:
  explicit AgentMetrics(prometheus::Registry& registry);

  void CountDecision(Reason reason, bool late);
  // Scan read → decision received (outbox write and network included).
  void ObserveRoundTrip(std::chrono::nanoseconds took);
  void CountLinkUp() {
    link_up_.store(true);
    connects_->Increment();
  }
  void CountLinkDown() { link_up_.store(false); }
  void CountBadLine() { bad_lines_->Increment(); }
  void SetOutboxDepth(size_t depth) { outbox_depth_.store(depth); }

  // Read at scrape time.
  double outbox_depth() const { return static_cast<double>(outbox_depth_.load()); }
  double link_up() const { return link_up_.load() ? 1 : 0; }

 private:
  static constexpr size_t kMaxReason = 256;
  std::array<prometheus::Counter*, kMaxReason> decisions_{};
  prometheus::Counter* late_;
  prometheus::Histogram* round_trip_;
  prometheus::Counter* connects_;
  prometheus::Counter* bad_lines_;
  std::atomic<size_t> outbox_depth_{0};
  std::atomic<bool> link_up_{false};
};

}  // namespace cordon::gate
