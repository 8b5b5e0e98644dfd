#include "gate-agent/agent_metrics.h"

#include <string>

#include "metrics/exporter.h"

namespace cordon::gate {

using prometheus::BuildCounter;

AgentMetrics::AgentMetrics(prometheus::Registry& registry) {
  auto& decisions = BuildCounter()
                        .Name("cordon_gate_decisions_total")
                        .Help("Decisions received from the daemon, by decision and reason")
                        .Register(registry);
  for (Reason r : AllReasons()) {
    decisions_[static_cast<size_t>(r)] = &decisions.Add(
        {{"decision", IsAllow(r) ? "allow" : "deny"}, {"reason", std::string(ReasonName(r))}});
  }
  late_ = &BuildCounter()
               .Name("cordon_gate_late_decisions_total")
               .Help("Decisions that arrived after the decision timeout (shown, not acted on)")
               .Register(registry)
               .Add({});
  round_trip_ = &prometheus::BuildHistogram()
                     .Name("cordon_gate_decision_round_trip_seconds")
                     .Help("Scan read to decision received, outbox fsync and network included")
                     .Register(registry)
                     .Add({}, metrics::ExponentialBuckets(100e-6, 2, 15));
  connects_ = &BuildCounter()
                   .Name("cordon_gate_connects_total")
                   .Help("Times the stream to the daemon was (re)established")
                   .Register(registry)
                   .Add({});
  bad_lines_ = &BuildCounter()
                    .Name("cordon_gate_bad_lines_total")
                    .Help("Scanner lines that were not 'CREDENTIAL in|out'")
                    .Register(registry)
                    .Add({});
}

void AgentMetrics::CountDecision(Reason reason, bool late) {
  auto r = static_cast<size_t>(reason);
  if (r < kMaxReason && decisions_[r] != nullptr) decisions_[r]->Increment();
  if (late) late_->Increment();
}

void AgentMetrics::ObserveRoundTrip(std::chrono::nanoseconds took) {
  round_trip_->Observe(std::chrono::duration<double>(took).count());
}

}  // namespace cordon::gate
