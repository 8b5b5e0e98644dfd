// A Prometheus registry and, when asked, the HTTP endpoint that serves it.
//
// Counters and histograms are updated where things happen. Values that
// already live elsewhere (queue depth, connected gates) are read only when
// Prometheus scrapes, through callback gauges, so the hot path pays nothing
// for them.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace prometheus {
class Exposer;
}

namespace cordon::metrics {

class Exporter {
 public:
  Exporter();
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  prometheus::Registry& registry() { return *registry_; }

  // A gauge whose value is read from `read` at scrape time. `read` runs on
  // the HTTP server's thread and must be thread-safe. Register all of them
  // before Listen().
  void AddCallbackGauge(std::string name, std::string help, std::function<double()> read);

  // Serves /metrics on host:port (port 0 picks a free one).
  absl::Status Listen(const std::string& address);
  // The bound port, or 0 when not listening.
  int port() const;

 private:
  class CallbackGauges;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<CallbackGauges> callbacks_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Exponential bucket boundaries: start, start*factor, ... (count of them).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

}  // namespace cordon::metrics
