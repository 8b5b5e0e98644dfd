#include "daemon/metrics/daemon_metrics.h"

#include "metrics/exporter.h"

namespace cordon::metrics {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;

DaemonMetrics::DaemonMetrics(prometheus::Registry& registry) {
  auto& scans = BuildCounter()
                    .Name("cordon_scans_total")
                    .Help("Scans recorded, by decision, reason code and who decided")
                    .Register(registry);
  for (Reason r : AllReasons()) {
    for (int s = 0; s < 2; ++s) {
      scans_[static_cast<size_t>(r)][static_cast<size_t>(s)] =
          &scans.Add({{"decision", IsAllow(r) ? "allow" : "deny"},
                      {"reason", std::string(ReasonName(r))},
                      {"source", s == 0 ? "daemon" : "gate_offline"}});
    }
  }
  resent_ = &BuildCounter()
                 .Name("cordon_scans_resent_total")
                 .Help("Scans a gate sent again (acknowledged again, never stored twice)")
                 .Register(registry)
                 .Add({});
  // 5 µs .. ~80 ms: the daemon's own share of a decision.
  decision_latency_ = &BuildHistogram()
                           .Name("cordon_decision_latency_seconds")
                           .Help("Scan received to decision queued on the gate's stream")
                           .Register(registry)
                           .Add({}, ExponentialBuckets(5e-6, 2, 15));
  auto& alerts = BuildCounter()
                     .Name("cordon_alerts_total")
                     .Help("Alerts raised, by kind")
                     .Register(registry);
  for (AlertKind k : kAllAlertKinds) {
    alerts_[static_cast<size_t>(k)] = &alerts.Add({{"kind", std::string(AlertKindName(k))}});
  }
  events_committed_ = &BuildCounter()
                           .Name("cordon_events_committed_total")
                           .Help("Events committed to the database")
                           .Register(registry)
                           .Add({});
  commit_failures_ = &BuildCounter()
                          .Name("cordon_commit_failures_total")
                          .Help("Batch commits that failed and were retried")
                          .Register(registry)
                          .Add({});
  stream_pauses_ = &BuildCounter()
                        .Name("cordon_gate_stream_pauses_total")
                        .Help("Times a gate stream stopped reading because more than "
                              "journal.max_uncommitted events waited to be committed")
                        .Register(registry)
                        .Add({});
  commit_batch_ = &BuildHistogram()
                       .Name("cordon_commit_batch_events")
                       .Help("Events per committed transaction (group commit)")
                       .Register(registry)
                       .Add({}, ExponentialBuckets(1, 2, 13));
  commit_latency_ = &BuildHistogram()
                         .Name("cordon_commit_duration_seconds")
                         .Help("Time to write and commit one batch (its fsync included "
                               "only with journal.sync_thread off)")
                         .Register(registry)
                         .Add({}, ExponentialBuckets(50e-6, 2, 14));
  sync_latency_ = &BuildHistogram()
                       .Name("cordon_wal_sync_duration_seconds")
                       .Help("Time the sync thread waited for the disk to hold the commits "
                             "made since its last sync (journal.sync_thread)")
                       .Register(registry)
                       .Add({}, ExponentialBuckets(50e-6, 2, 14));
  stream_ends_ = &BuildCounter()
                      .Name("cordon_gate_streams_ended_total")
                      .Help("Gate streams that ended, by gRPC status code")
                      .Register(registry);
}

void DaemonMetrics::CountScan(Reason reason, DecisionSource source) {
  auto r = static_cast<size_t>(reason);
  size_t s = source == DecisionSource::kDaemon ? 0 : 1;
  if (r < kMaxReason && scans_[r][s] != nullptr) scans_[r][s]->Increment();
}

void DaemonMetrics::ObserveDecision(std::chrono::nanoseconds took) {
  decision_latency_->Observe(std::chrono::duration<double>(took).count());
}

void DaemonMetrics::CountAlert(AlertKind kind) {
  auto k = static_cast<size_t>(kind);
  if (alerts_[k] != nullptr) alerts_[k]->Increment();
}

void DaemonMetrics::ObserveCommit(size_t events, std::chrono::nanoseconds took) {
  events_committed_->Increment(static_cast<double>(events));
  commit_batch_->Observe(static_cast<double>(events));
  commit_latency_->Observe(std::chrono::duration<double>(took).count());
}

void DaemonMetrics::ObserveSync(std::chrono::nanoseconds took) {
  sync_latency_->Observe(std::chrono::duration<double>(took).count());
}

void DaemonMetrics::CountStreamEnd(const std::string& code) { stream_ends_->Add({{"code", code}}).Increment(); }

}  // namespace cordon::metrics
