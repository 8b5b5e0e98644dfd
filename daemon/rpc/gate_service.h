// GateService.Connect: one bidirectional stream per gate (see
// proto/cordon/v1/gate.proto for the conversation).
#pragma once

#include <functional>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>

#include "cordon/v1/gate.grpc.pb.h"
#include "core/credential.h"
#include "core/rate_limit.h"
#include "core/time.h"
#include "daemon/metrics/daemon_metrics.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/rpc/gate_ledger.h"
#include "daemon/rpc/guard.h"
#include "daemon/rpc/gate_policy.h"
#include "daemon/rpc/lifecycle.h"
#include "daemon/rpc/policy_holder.h"
#include "daemon/rpc/replay_lane.h"
#include "daemon/storage/journal_writer.h"

namespace cordon::rpc {

struct GateServiceDeps {
  PolicyHolder& policy;
  presence::CampusPresence& presence;
  storage::JournalWriter& journal;
  GateLedger& ledger;
  const CredentialHasher& hasher;
  const Clock& clock;
  metrics::DaemonMetrics& metrics;
  Lifecycle& lifecycle;
  Guard& guard;
  // Told to each gate at Hello; SIGHUP may change it.
  const std::atomic<uint32_t>& heartbeat_interval_ms;
  // The offline copy of the policy sent to gates after Welcome.
  const GatePolicyFeed& policy_feed;
  // A gate clock further off than this raises a CLOCK_SKEW alert.
  std::chrono::milliseconds clock_skew_alert{5000};
  std::function<void()> on_alert_stored = [] {};  // an alert not tied to an event was stored
  // A gate that lets this many replies pile up unread is disconnected.
  size_t max_outbound_queue = 65536;
  // Messages a gate may send a second (a batch counts once), and the burst;
  // beyond it the stream ends with RESOURCE_EXHAUSTED (the scans stay in the
  // gate's outbox and come back when it reconnects after its backoff).
  double max_messages_per_second = 1000;
  double message_burst = 2000;
  // The time slice a thread asks for once it decides scans; 0 keeps the
  // kernel's (daemon/cpu/thread_slice.h).
  std::chrono::microseconds decision_slice{0};
};

// Each gate's token bucket, kept across its reconnections.
class GateRateLimits {
 public:
  bool Take(GateRowId gate, double rate, double burst, TimePoint now) {
    std::lock_guard lock(mu_);
    return buckets_.try_emplace(gate, rate, burst).first->second.Take(now);
  }

 private:
  std::mutex mu_;
  std::map<GateRowId, TokenBucket> buckets_;  // guarded by mu_
};

// The stream is raw bytes at gRPC's level and parsed here: the policy copy
// is serialized once and its bytes shared by every stream, where a typed
// stream would serialize it again for each gate (200 gates × 5 MB in flight
// at once with 100,000 people).
class GateService final
    : public v1::GateService::WithRawCallbackMethod_Connect<v1::GateService::Service> {
 public:
  explicit GateService(GateServiceDeps deps) : deps_(deps) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  GateServiceDeps deps_;
  GateRateLimits limits_;
  ReplayLane replay_;  // streams use it: destroyed after the server stops
};

}  // namespace cordon::rpc
