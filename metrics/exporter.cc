#include "metrics/exporter.h"

#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <exception>

namespace cordon::metrics {

class Exporter::CallbackGauges : public prometheus::Collectable {
 public:
  struct Entry {
    std::string name;
    std::string help;
    std::function<double()> read;
  };
  void Add(Entry e) {
    std::lock_guard lock(mu_);
    entries_.push_back(std::move(e));
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard lock(mu_);
    std::vector<prometheus::MetricFamily> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
      prometheus::MetricFamily family;
      family.name = e.name;
      family.help = e.help;
      family.type = prometheus::MetricType::Gauge;
      prometheus::ClientMetric m;
      m.gauge.value = e.read();
      family.metric.push_back(std::move(m));
      out.push_back(std::move(family));
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

Exporter::Exporter()
    : registry_(std::make_shared<prometheus::Registry>()),
      callbacks_(std::make_shared<CallbackGauges>()) {}

Exporter::~Exporter() = default;

void Exporter::AddCallbackGauge(std::string name, std::string help, std::function<double()> read) {
  callbacks_->Add({std::move(name), std::move(help), std::move(read)});
}

absl::Status Exporter::Listen(const std::string& address) {
  try {
    // One HTTP thread: a scrape every few seconds needs no more.
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError("cannot serve metrics on " + address + ": " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(callbacks_);
  return absl::OkStatus();
}

int Exporter::port() const {
  if (!exposer_) return 0;
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  b.reserve(static_cast<size_t>(count));
  for (double v = start; static_cast<int>(b.size()) < count; v *= factor) b.push_back(v);
  return b;
}

}  // namespace cordon::metrics
