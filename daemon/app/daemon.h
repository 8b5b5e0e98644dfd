// cordond wired together: storage, the journal writer, the policy, presence,
// the gate ledger, the gRPC services and the query threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/credential.h"
#include "core/time.h"
#include "daemon/app/config.h"
#include "daemon/metrics/daemon_metrics.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/rpc/admin_service.h"
#include "daemon/rpc/alert_watch.h"
#include "daemon/rpc/audit_service.h"
#include "daemon/rpc/guard.h"
#include "daemon/schedule/due_alerts.h"
#include "daemon/schedule/memory_trim.h"
#include "daemon/schedule/retention.h"
#include "daemon/rpc/gate_ledger.h"
#include "daemon/rpc/gate_policy.h"
#include "daemon/rpc/gate_service.h"
#include "daemon/rpc/lifecycle.h"
#include "daemon/rpc/policy_holder.h"
#include "daemon/rpc/security_service.h"
#include "daemon/storage/journal_writer.h"
#include "daemon/storage/sqlite_store.h"
#include "metrics/exporter.h"

namespace cordon::app {

class Daemon {
 public:
  Daemon(DaemonConfig config, const Clock& clock);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the data directory and the database, starts listening (health
  // says NOT_SERVING and services answer UNAVAILABLE), restores policy,
  // presence and the gate ledger, then serves.
  absl::Status Start();
  int port() const { return port_; }
  int metrics_port() const { return exporter_.port(); }

  // SIGHUP: applies what can change while running (see
  // SettingsNeedingRestart) and logs what cannot. Streams stay up.
  void Reload(const DaemonConfig& reloaded);

  // SIGTERM/SIGINT: refuse new gates and stop reading, commit what was
  // received and ack it, close the streams, stop. Idempotent.
  void Shutdown();

 private:
  void RunQuery(std::function<void()> work);
  absl::Status StartServer();
  // Mutual TLS from the configured files, or plain text when insecure.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials() const;
  absl::Status Restore();
  // The policy in force as stored: people, zones and mode.
  absl::StatusOr<PolicySnapshot> LoadStoredPolicy();
  // Stays for the events of a store from before schema v4, once.
  absl::Status DeriveStaysOfAnOldStore();
  // A zone's own maximum stay, else the configured one; the campus grounds
  // have none (residents live there for months).
  Micros MaxStayIn(const PolicySnapshot& policy, std::string_view zone) const;
  void ScheduleSnapshot();
  void SavePresence(storage::Store& store);  // journal writer thread
  void AddGauges();

  const DaemonConfig config_;
  const Clock& clock_;
  int port_ = 0;
  bool stopped_ = false;
  std::atomic<uint32_t> heartbeat_interval_ms_;
  rpc::Lifecycle lifecycle_;
  metrics::Exporter exporter_;
  metrics::DaemonMetrics metrics_{exporter_.registry()};

  std::unique_ptr<storage::SqliteStore> store_;
  std::optional<CredentialHasher> hasher_;
  std::optional<rpc::PolicyHolder> policy_;
  presence::CampusPresence presence_;
  rpc::GateLedger ledger_;
  std::unique_ptr<rpc::AckSender> acks_;  // sends for ledger_: declared after it
  rpc::AlertHub alerts_;
  rpc::EventHub events_;
  std::unique_ptr<storage::JournalWriter> journal_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<rpc::Guard> guard_;
  std::unique_ptr<rpc::GatePolicyFeed> policy_feed_;

  boost::asio::io_context queries_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> query_threads_;
  std::unique_ptr<schedule::DueAlerts> due_alerts_;  // timers on queries_: destroyed first
  // The periodic presence snapshot: a timer on queries_, on its own strand.
  boost::asio::strand<boost::asio::io_context::executor_type> snapshot_strand_{
      boost::asio::make_strand(queries_)};
  std::optional<boost::asio::steady_timer> snapshot_timer_;
  std::atomic<bool> snapshot_stopped_{false};
  std::unique_ptr<schedule::Retention> retention_;   // likewise
  // Freed memory back to the system after start-up and policy changes.
  schedule::MemoryTrim memory_trim_{queries_, std::chrono::seconds(2)};

  std::unique_ptr<rpc::GateService> gate_service_;
  std::unique_ptr<rpc::AdminService> admin_service_;
  std::unique_ptr<rpc::SecurityService> security_service_;
  std::unique_ptr<rpc::AuditService> audit_service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace cordon::app
