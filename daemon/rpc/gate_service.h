// GateService.Connect: one bidirectional stream per gate (see
// proto/cordon/v1/gate.proto for the conversation).
#pragma once

#include <functional>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "cordon/v1/gate.grpc.pb.h"
#include "core/credential.h"
#include "core/time.h"
#include "daemon/metrics/daemon_metrics.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/rpc/gate_ledger.h"
#include "daemon/rpc/guard.h"
#include "daemon/rpc/gate_policy.h"
#include "daemon/rpc/lifecycle.h"
#include "daemon/rpc/policy_holder.h"
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
};

class GateService final : public v1::GateService::CallbackService {
 public:
  explicit GateService(GateServiceDeps deps) : deps_(deps) {}

  grpc::ServerBidiReactor<v1::GateMessage, v1::DaemonMessage>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  GateServiceDeps deps_;
};

}  // namespace cordon::rpc
