#include "daemon/app/daemon.h"

#include <pthread.h>

#include "policydoc/policy_document.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>

#include "daemon/app/campus_secret.h"
#include "daemon/app/logging.h"
#include "daemon/cpu/thread_slice.h"
#include "daemon/fault/failpoint.h"
#include "tls/client_credentials.h"

namespace cordon::app {
namespace {

namespace fs = std::filesystem;

absl::Status WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return absl::InternalError("cannot write port file " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);  // atomic: a reader never sees a half-written port
  if (ec) return absl::InternalError("cannot rename port file to " + path + ": " + ec.message());
  return absl::OkStatus();
}

}  // namespace

Daemon::Daemon(DaemonConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock),
      heartbeat_interval_ms_(config_.heartbeat_interval_ms) {}

Daemon::~Daemon() { Shutdown(); }

void Daemon::RunQuery(std::function<void()> work) { boost::asio::post(queries_, std::move(work)); }

absl::Status Daemon::Start() {
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError("cannot create data directory " + config_.data_dir + ": " +
                                       ec.message());
  }
  fs::permissions(config_.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);

  auto secret = LoadOrCreateCampusSecret(config_.data_dir + "/campus.key");
  if (!secret.ok()) return secret.status();
  hasher_.emplace(DeriveCredentialKey(*secret));
  policy_feed_ = std::make_unique<rpc::GatePolicyFeed>(hasher_->key(), presence_, ledger_, clock_);
  auto store = storage::SqliteStore::Open(config_.data_dir + "/cordon.db");
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  if (auto st = store_->CheckCampusKey(*hasher_); !st.ok()) return st;

  // Until Restore() publishes the real policy, services refuse (lifecycle).
  policy_.emplace(std::make_shared<const PolicySnapshot>());
  policy_->OnPublish([this](const PolicySnapshot& p) {
    policy_feed_->Publish(p);
    memory_trim_.Changed();
  });
  store_->SetMaxStay([this](std::string_view zone) { return MaxStayIn(*policy_->Get(), zone); });
  store_->YieldEvery(config_.journal_commit_yield_events);
  if (auto st = DeriveStaysOfAnOldStore(); !st.ok()) return st;
  storage::JournalWriter::Options jopts;
  jopts.max_batch = config_.journal_max_batch;
  jopts.commit_window = std::chrono::milliseconds(config_.journal_commit_window_ms);
  // Half a batch (2,048 by default) ends the window: at full rate a 200 ms
  // window otherwise held the acknowledgements back and durable ingest fell
  // from 25,000 to 20,000 /s (BENCHMARKS, twentieth pass).
  jopts.commit_at = std::max<size_t>(1, config_.journal_max_batch / 2);
  jopts.on_commit_timing = [this](size_t events, std::chrono::nanoseconds took) {
    metrics_.ObserveCommit(events, took);
  };
  jopts.on_commit_failure = [this] { metrics_.CountCommitFailure(); };
  jopts.yield_when_light = config_.journal_writer_yields;
  jopts.after_commit = [this] { ledger_.ResumeIfRoom(); };
  jopts.sync_thread = config_.journal_sync_thread;
  jopts.on_sync_timing = [this](std::chrono::nanoseconds took) { metrics_.ObserveSync(took); };
  jopts.on_sync_failure = [](const absl::Status&) {
    // As PostgreSQL does on a failed fsync: the kernel may have dropped the
    // pages it could not write, and only a start from the disk knows what
    // is stored. Nothing since the last sync was acknowledged; the gates
    // resend it.
    spdlog::critical("cordond stops: the disk may not hold committed events (restart to recover)");
    spdlog::default_logger()->flush();
    std::_Exit(74);  // EX_IOERR
  };
  acks_ = std::make_unique<rpc::AckSender>(
      ledger_, rpc::GateLedger::AckPolicy{
                   .delay = std::chrono::milliseconds(config_.gate_ack_delay_ms)});
  journal_ = std::make_unique<storage::JournalWriter>(
      *store_, jopts, [this](std::span<const storage::RecordedEvent> batch) {
        fault::Failpoint("COMMIT");  // tests: slow storage
        presence_.Committed(batch);
        acks_->Post(ledger_.OnCommitted(batch, std::chrono::steady_clock::now()));
        bool alert = false, timed = false;
        for (const auto& e : batch) {
          alert = alert || e.alert.has_value();
          timed = timed || e.leave_step == LeaveStep::kExit || e.pass_step == PassStep::kEntry;
        }
        if (alert) alerts_.Notify();
        events_.Publish(batch, *policy_->Get()->zones);
        if (timed && due_alerts_) due_alerts_->Reschedule();
      });
  ledger_.LimitBacklog(config_.journal_max_uncommitted, [this] { return journal_->Uncommitted(); });
  audit_ = std::make_unique<audit::AuditLog>(audit::ChainKey(*secret), *journal_);
  if (auto st = audit_->Load(*store_); !st.ok()) return st;
  guard_ = std::make_unique<rpc::Guard>(lifecycle_, *audit_, clock_, config_.insecure);
  due_alerts_ = std::make_unique<schedule::DueAlerts>(schedule::DueAlertsDeps{
      queries_, *store_, *journal_, *policy_, ledger_, alerts_, clock_, heartbeat_interval_ms_});
  journal_->Start();
  if (std::string note = journal_->PriorityNote(); !note.empty()) {
    spdlog::info("storage writer: never yields the CPU to gate decisions: {}", note);
  }
  if (auto slice = std::chrono::microseconds(config_.gate_decision_slice_us); slice.count() > 0) {
    if (std::string why = cpu::ProbeSlice(slice); why.empty()) {
      spdlog::info("deciding threads: {} µs time slice (storage and replay threads keep the "
                   "kernel's {} µs)", slice.count(), cpu::SliceOf().value_or(slice).count());
    } else {
      spdlog::info("deciding threads: the kernel's time slice, not {} µs: {}", slice.count(), why);
    }
  }
  work_.emplace(queries_.get_executor());
  for (uint32_t i = 0; i < config_.query_threads; ++i) {
    query_threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "cordon-query");
      queries_.run();
    });
  }

  if (auto st = StartServer(); !st.ok()) return st;
  fault::Failpoint("START");
  if (auto st = Restore(); !st.ok()) return st;

  due_alerts_->Start();
  snapshot_timer_.emplace(snapshot_strand_);
  ScheduleSnapshot();
  retention_ = std::make_unique<schedule::Retention>(
      queries_, *journal_, clock_,
      schedule::RetentionPeriods{std::chrono::days(config_.retention_days),
                                 std::chrono::days(config_.retention_audit_days),
                                 std::chrono::minutes(config_.retention_interval_minutes)});
  retention_->Start();
  spdlog::info("retention: movement, presence and health records {} days, audit entries {} days",
               config_.retention_days, config_.retention_audit_days);
  AddGauges();
  if (!config_.metrics_listen.empty()) {
    if (auto st = exporter_.Listen(config_.metrics_listen); !st.ok()) return st;
    spdlog::info("metrics on http://{}/metrics (port {})", config_.metrics_listen,
                 exporter_.port());
    if (!config_.metrics_port_file.empty()) {
      if (auto st = WritePortFile(config_.metrics_port_file, exporter_.port()); !st.ok()) {
        return st;
      }
    }
  }
  lifecycle_.Set(rpc::Lifecycle::Phase::kServing);
  memory_trim_.Changed();  // what loading the store and the policy left behind
  // The port file before the health status, so whoever sees SERVING finds
  // it (Operations.HealthIsNotServingWhileStartingAndWhileDraining once saw
  // SERVING first under ASan).
  if (!config_.port_file.empty()) {
    if (auto st = WritePortFile(config_.port_file, port_); !st.ok()) return st;
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  spdlog::info("cordond {} serving on {} (port {}), data in {}", CORDON_VERSION, config_.listen,
               port_, config_.data_dir);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Daemon::ServerCredentials() const {
  if (config_.insecure) {
    spdlog::warn("INSECURE: plain text, no client certificates, no roles: anyone who reaches {} "
                 "may read movements and change the policy. For development only.",
                 config_.listen);
    return grpc::InsecureServerCredentials();
  }
  auto ca = tls::ReadPemFile("tls.ca_file", config_.tls_ca_file);
  if (!ca.ok()) return ca.status();
  auto cert = tls::ReadPemFile("tls.cert_file", config_.tls_cert_file);
  if (!cert.ok()) return cert.status();
  auto key = tls::ReadPemFile("tls.key_file", config_.tls_key_file);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = *ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  spdlog::info("mutual TLS: clients need a certificate from the CA in {}", config_.tls_ca_file);
  return grpc::SslServerCredentials(options);
}

absl::Status Daemon::StartServer() {
  rpc::QueryRunner run_query = [this](std::function<void()> work) { RunQuery(std::move(work)); };
  gate_service_ = std::make_unique<rpc::GateService>(
      rpc::GateServiceDeps{*policy_, presence_, *journal_, ledger_, *hasher_, clock_, metrics_,
                           lifecycle_, *guard_, heartbeat_interval_ms_, *policy_feed_,
                           std::chrono::milliseconds(config_.clock_skew_alert_ms),
                           [this] { alerts_.Notify(); }, 65536,
                           static_cast<double>(config_.gate_max_messages_per_second),
                           static_cast<double>(config_.gate_message_burst),
                           std::chrono::microseconds(config_.gate_decision_slice_us)});
  admin_service_ = std::make_unique<rpc::AdminService>(rpc::AdminServiceDeps{
      *policy_, presence_, *journal_, ledger_, *hasher_, clock_, lifecycle_, *guard_, run_query,
      *store_, config_.data_dir});
  security_service_ = std::make_unique<rpc::SecurityService>(
      rpc::SecurityServiceDeps{*policy_, presence_, *store_, clock_, lifecycle_, *guard_, run_query,
                               alerts_, *journal_, events_});

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  audit_service_ = std::make_unique<rpc::AuditService>(
      rpc::AuditServiceDeps{*guard_, *audit_, *store_, clock_, run_query});
  auto credentials = ServerCredentials();
  if (!credentials.ok()) return credentials.status();
  builder.AddListeningPort(config_.listen, *credentials, &port_);
  builder.RegisterService(audit_service_.get());
  builder.RegisterService(gate_service_.get());
  builder.RegisterService(admin_service_.get());
  builder.RegisterService(security_service_.get());
  // Gate messages are small; a roster chunk is ~100 KB. Anything bigger is a
  // broken or hostile client and gets RESOURCE_EXHAUSTED from gRPC itself.
  builder.SetMaxReceiveMessageSize(1 << 20);
  // Notice dead gates (a cut cable sends no FIN) within about 30 seconds.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    return absl::UnavailableError("cannot listen on " + config_.listen +
                                  " (address in use or not local?)");
  }
  server_->GetHealthCheckService()->SetServingStatus(false);
  spdlog::info("listening on {} (port {}); restoring state, NOT_SERVING until done",
               config_.listen, port_);
  return absl::OkStatus();
}

Micros Daemon::MaxStayIn(const PolicySnapshot& policy, std::string_view zone) const {
  ZoneIndex z = policy.zones->FindZone(zone);
  if (z == 0) return Micros::max() / 4;
  if (z != kOutside && policy.zones->zones[static_cast<size_t>(z)].max_stay) {
    return *policy.zones->zones[static_cast<size_t>(z)].max_stay;
  }
  return std::chrono::hours(config_.presence_max_stay_hours);
}

absl::StatusOr<PolicySnapshot> Daemon::LoadStoredPolicy() {
  auto policy = store_->LoadPolicy();
  if (!policy.ok()) return policy.status();
  auto document = store_->GetPolicyDocument(0);  // the one in force
  if (!document.ok()) return document.status();
  if (*document) {
    auto parsed = policydoc::ParsePolicyDocument((*document)->document);
    if (!parsed.ok()) {
      return absl::DataLossError("the stored policy document v" +
                                 std::to_string((*document)->version) +
                                 " no longer parses:\n" + parsed.ErrorText());
    }
    policy->SetZones(parsed.policy);
    int mode = parsed.policy->FindMode((*document)->mode);
    if (mode >= 0) policy->mode = mode;
  }
  return policy;
}

absl::Status Daemon::DeriveStaysOfAnOldStore() {
  auto needed = store_->StaysNeedDeriving();
  if (!needed.ok()) return needed.status();
  if (!*needed) return absl::OkStatus();
  // The zones' own maximum stays are in the stored policy, which Restore
  // reads again: twice on this one start only.
  auto policy = LoadStoredPolicy();
  if (!policy.ok()) return policy.status();
  return store_->DeriveStays([&](std::string_view zone) { return MaxStayIn(*policy, zone); });
}

absl::Status Daemon::Restore() {
  auto started = std::chrono::steady_clock::now();
  auto policy = LoadStoredPolicy();
  if (!policy.ok()) return policy.status();
  size_t people = policy->people->size();
  int64_t version = policy->version;
  // Presence first: the gates' copy of the policy carries pass progress.
  if (auto st = presence_.Restore(*store_, *policy); !st.ok()) return st;
  policy_->Publish(std::make_shared<const PolicySnapshot>(std::move(*policy)));
  auto marks = store_->LoadIncarnations();
  if (!marks.ok()) return marks.status();
  ledger_.Restore(*marks);
  auto restored_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started).count();
  spdlog::info("restored policy v{} ({} people, mode {}), {} on campus, {} gate incarnations "
               "in {} ms", version, people, policy_->Get()->Mode().id,
               presence_.OnCampusCount(), marks->size(), restored_ms);
  return absl::OkStatus();
}

void Daemon::AddGauges() {
  exporter_.AddCallbackGauge("cordon_ingest_queue_depth",
                             "Events decided and waiting for the journal writer",
                             [this] { return static_cast<double>(journal_->stats().queue_depth); });
  exporter_.AddCallbackGauge(
      "cordon_gate_streams_paused",
      "Gate streams not reading until the journal writer catches up (journal.max_uncommitted)",
      [this] { return static_cast<double>(ledger_.PausedCount()); });
  exporter_.AddCallbackGauge("cordon_gates_connected", "Gates with a live stream", [this] {
    return static_cast<double>(ledger_.ConnectedCount());
  });
  exporter_.AddCallbackGauge("cordon_people_on_campus", "People inside the campus now", [this] {
    return static_cast<double>(presence_.OnCampusCount());
  });
  exporter_.AddCallbackGauge("cordon_policy_version", "Version of the policy in force", [this] {
    return static_cast<double>(policy_->Get()->version);
  });
  exporter_.AddCallbackGauge("cordon_policy_people", "People in the policy in force", [this] {
    return static_cast<double>(policy_->Get()->people->size());
  });
  exporter_.AddCallbackGauge("cordon_serving", "1 while serving, 0 while starting or draining",
                             [this] { return lifecycle_.serving() ? 1.0 : 0.0; });
}

void Daemon::Reload(const DaemonConfig& reloaded) {
  for (const auto& name : SettingsNeedingRestart(config_, reloaded)) {
    spdlog::warn("reload: {} changed; it takes effect after a restart", name);
  }
  if (reloaded.log_level != config_.log_level || reloaded.log_json != config_.log_json) {
    ConfigureLogging(reloaded);
  }
  uint32_t before = heartbeat_interval_ms_.exchange(reloaded.heartbeat_interval_ms);
  spdlog::info("reload: log level {}, {} logs, gate heartbeat {} ms (was {} ms)",
               reloaded.log_level, reloaded.log_json ? "JSON" : "text",
               reloaded.heartbeat_interval_ms, before);
}

// Every few minutes, who is where goes to the store, so that even a start
// after a crash reads it and only the events since (not one search of the
// journal per person). Writing 100,000 rows takes the writer a few hundred
// milliseconds; acks wait that long, decisions do not.
constexpr auto kPresenceSnapshotEvery = std::chrono::minutes(10);

void Daemon::ScheduleSnapshot() {
  snapshot_timer_->expires_after(kPresenceSnapshotEvery);
  snapshot_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || snapshot_stopped_) return;
    journal_->Post([this](storage::Store& store) { SavePresence(store); });
    ScheduleSnapshot();
  });
}

void Daemon::SavePresence(storage::Store& store) {
  auto started = std::chrono::steady_clock::now();
  if (auto st = presence_.SaveSnapshot(store); !st.ok()) {
    spdlog::warn("presence snapshot not written ({}); a start searches the journal", st.ToString());
    return;
  }
  spdlog::info("presence snapshot written in {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started).count());
}

void Daemon::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (server_) {
    spdlog::info("draining: refusing new gates, committing what was received");
    lifecycle_.Set(rpc::Lifecycle::Phase::kDraining);
    server_->GetHealthCheckService()->SetServingStatus(false);
    fault::Failpoint("DRAIN");
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.drain_timeout_ms);
    if (!lifecycle_.WaitForReactions(deadline)) {
      spdlog::warn("draining: gate reactions still busy after {} ms", config_.drain_timeout_ms);
    }
    const bool all_committed = journal_->WaitUntilCommitted(deadline);
    if (!all_committed) {
      spdlog::warn("draining: commits did not finish in {} ms; the gates keep what is unacked",
                   config_.drain_timeout_ms);
    }
    if (!acks_->Flush(deadline)) {
      spdlog::warn("draining: acknowledgements not all sent in {} ms", config_.drain_timeout_ms);
    }
    ledger_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cordond is shutting down"));
    alerts_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cordond is shutting down"));
    events_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cordond is shutting down"));
    if (due_alerts_) due_alerts_->Stop();
    memory_trim_.Stop();
    snapshot_stopped_ = true;
    boost::asio::post(snapshot_strand_, [this] {
      if (snapshot_timer_) snapshot_timer_->cancel();
    });
    if (retention_) retention_->Stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
    // Everything decided is committed: the next start reads who is where
    // with no events to add.
    if (all_committed) journal_->Post([this](storage::Store& store) { SavePresence(store); });
  }
  if (journal_) journal_->Stop();
  if (acks_) acks_->Stop();
  work_.reset();
  queries_.stop();
  for (auto& t : query_threads_) t.join();
  query_threads_.clear();
  if (journal_) {
    auto stats = journal_->stats();
    spdlog::info("stopped: {} events committed in {} batches this run", stats.events_committed,
                 stats.batches_committed);
  }
}

}  // namespace cordon::app
