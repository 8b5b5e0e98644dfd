// Operating cordond: health while starting and draining, Prometheus metrics
// that count what the test did, SIGHUP reload without dropping a gate,
// online backup under load and restore, the campus key check.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "daemon/cpu/thread_slice.h"
#include "tests/support/campus.h"
#include "tests/support/ops.h"

namespace cordon::testing {
namespace {

using google::protobuf::util::TimeUtil;
namespace fs = std::filesystem;

class Operations : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("ops");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
  }
  void TearDown() override {
    daemon_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
};

// ---------------------------------------------------------------- health

TEST_F(Operations, HealthIsNotServingWhileStartingAndWhileDraining) {
  std::string port_file = dir_ + "/early.port";
  // Hold the daemon after it listens and before it has restored its state,
  // and again after the drain has begun.
  setenv("CORDON_FAILPOINT_START_DELAY_MS", "3000", 1);
  setenv("CORDON_FAILPOINT_DRAIN_DELAY_MS", "3000", 1);
  Process daemon({CordondPath(), "--insecure", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data",
                  "--port-file", port_file},
                 dir_ + "/d.out", dir_ + "/d.log");
  unsetenv("CORDON_FAILPOINT_START_DELAY_MS");
  unsetenv("CORDON_FAILPOINT_DRAIN_DELAY_MS");
  // The port file is written once serving; while starting, find the port in the log.
  int port = 0;
  const std::string marker = "restoring state, NOT_SERVING until done";
  ASSERT_TRUE(WaitFor([&] {
    auto log = ReadFile(dir_ + "/d.log");
    auto at = log.find(marker);
    if (at == std::string::npos) return false;
    auto open = log.rfind("(port ", at);
    port = std::atoi(log.c_str() + open + 6);
    return port > 0;
  }, In(std::chrono::seconds(20)))) << ReadFile(dir_ + "/d.log");
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  EXPECT_EQ(HealthStatus(channel), "NOT_SERVING");
  {
    // Services refuse rather than answer from a half-restored state.
    auto admin = v1::AdminService::NewStub(channel);
    grpc::ClientContext ctx;
    v1::ListGatesResponse resp;
    auto st = admin->ListGates(&ctx, {}, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(st.error_message().find("starting"), std::string::npos) << st.error_message();
  }
  ASSERT_TRUE(WaitFor([&] { return HealthStatus(channel) == "SERVING"; },
                      In(std::chrono::seconds(30))));
  EXPECT_TRUE(fs::exists(port_file));

  daemon.Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return HealthStatus(channel) == "NOT_SERVING"; },
                      In(std::chrono::seconds(10))));
  EXPECT_EQ(daemon.Wait(In(std::chrono::seconds(30))), 0);
}

TEST_F(Operations, CordonctlHealthExitsZeroOnlyWhenServing) {
  daemon_->Start();
  auto ok = cordon::testing::Run({CordonctlPath(), "--daemon", daemon_->address(), "--json", "health"}, dir_);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "{\"status\":\"SERVING\"}\n");
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0);
  auto down = cordon::testing::Run({CordonctlPath(), "--daemon", daemon_->address(), "--timeout-s", "2", "health"},
                  dir_);
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("cannot reach cordond"), std::string::npos) << down.err;
}

TEST_F(Operations, JsonLogsAreOneObjectPerLine) {
  // A file name with a quote and a backslash: messages that carry text from
  // outside must stay valid JSON.
  std::string config = dir_ + "/we\"ird\\name.yaml";
  WriteFile(config, "log:\n  level: info\n");
  daemon_->Start({"--log-json", "--config", config});
  daemon_->RegisterGate("north-1");
  WriteFile(config, "log: [\n");
  daemon_->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return daemon_->log().find("reload failed") != std::string::npos; },
                      In(std::chrono::seconds(10))));
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0);
  std::istringstream log(daemon_->log());
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    google::protobuf::Struct parsed;
    auto st = google::protobuf::util::JsonStringToMessage(line, &parsed);
    EXPECT_TRUE(st.ok()) << "not JSON: " << line;
    EXPECT_TRUE(parsed.fields().contains("time") && parsed.fields().contains("level") &&
                parsed.fields().contains("message"))
        << line;
    ++lines;
  }
  EXPECT_GE(lines, 5);
  EXPECT_NE(daemon_->log().find("gate north-1 registered"), std::string::npos);
}

// ---------------------------------------------------------------- memory

// A roster import builds a new policy snapshot and frees the old one; glibc
// would keep the freed pages. cordond gives them back once changes stop and
// logs what it returned (bench/memory.sh measures how much).
TEST_F(Operations, FreedMemoryIsReturnedOnceAPolicyChangeIsOver) {
  daemon_->Start();
  auto trims = [&] {
    static const std::regex line(R"(memory: freed heap returned to the system after a policy )"
                                 R"(change: RSS (\d+) MB -> (\d+) MB)");
    std::string log = daemon_->log();
    std::vector<std::pair<int, int>> found;
    for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
      found.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
    }
    return found;
  };
  ASSERT_TRUE(WaitFor([&] { return trims().size() == 1; }, In(std::chrono::seconds(20))))
      << "once after start-up\n" << daemon_->log();
  daemon_->ImportStudents(20000);
  ASSERT_TRUE(WaitFor([&] { return trims().size() == 2; }, In(std::chrono::seconds(20))))
      << "once after the import\n" << daemon_->log();
  auto [before, after] = trims().back();
  EXPECT_LE(after, before);
}

// ---------------------------------------------------------------- metrics

TEST_F(Operations, MetricsCountWhatTheGatesDid) {
  std::string metrics_port_file = dir_ + "/metrics.port";
  daemon_->Start({"--metrics-listen", "127.0.0.1:0", "--metrics-port-file", metrics_port_file});
  int daemon_metrics = WaitForPortFile(metrics_port_file, In(std::chrono::seconds(10)));
  ASSERT_GT(daemon_metrics, 0);
  daemon_->RegisterGate("north-1");
  daemon_->ImportStudents(20);

  std::string gate_metrics_file = dir_ + "/gate-metrics.port";
  ScannerGate gate(dir_, "north-1", daemon_->address(),
                   {"--metrics-listen", "127.0.0.1:0", "--metrics-port-file", gate_metrics_file});
  int gate_metrics = WaitForPortFile(gate_metrics_file, In(std::chrono::seconds(10)));
  ASSERT_GT(gate_metrics, 0);

  // 12 students in, 3 unknown cards, 1 student out who never came in.
  std::string lines;
  for (int i = 0; i < 12; ++i) lines += "CARD-S" + std::to_string(i) + " in\n";
  for (int i = 0; i < 3; ++i) lines += "CARD-NOBODY" + std::to_string(i) + " in\n";
  lines += "CARD-S19 out\n";
  gate.Send(lines);
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") == 16; },
                      In(std::chrono::seconds(30))));

  std::string d;
  ASSERT_TRUE(WaitFor([&] {
    d = HttpGet(daemon_metrics, "/metrics");
    return MetricValue(d, "cordon_events_committed_total") == 16.0;
  }, In(std::chrono::seconds(10)))) << d;
  EXPECT_EQ(MetricValue(d, R"(cordon_scans_total{decision="allow",reason="ALLOW_STUDENT",source="daemon"})"), 12.0);
  EXPECT_EQ(MetricValue(d, R"(cordon_scans_total{decision="deny",reason="DENY_UNKNOWN_CREDENTIAL",source="daemon"})"), 3.0);
  EXPECT_EQ(MetricValue(d, R"(cordon_scans_total{decision="allow",reason="ALLOW_EXIT_WITHOUT_ENTRY",source="daemon"})"), 1.0);
  EXPECT_EQ(MetricValue(d, R"(cordon_alerts_total{kind="exit_without_entry"})"), 1.0);
  EXPECT_EQ(MetricValue(d, "cordon_decision_latency_seconds_count"), 16.0);
  EXPECT_EQ(MetricValue(d, "cordon_commit_batch_events_sum"), 16.0);
  EXPECT_EQ(MetricValue(d, "cordon_gates_connected"), 1.0);
  EXPECT_EQ(MetricValue(d, "cordon_people_on_campus"), 12.0);
  EXPECT_EQ(MetricValue(d, "cordon_ingest_queue_depth"), 0.0);
  EXPECT_EQ(MetricValue(d, "cordon_serving"), 1.0);

  std::string g;
  ASSERT_TRUE(WaitFor([&] {
    g = HttpGet(gate_metrics, "/metrics");
    return MetricValue(g, "cordon_gate_outbox_depth") == 0.0 &&
           MetricValue(g, "cordon_gate_decision_round_trip_seconds_count") == 16.0;
  }, In(std::chrono::seconds(10)))) << g;
  EXPECT_EQ(MetricValue(g, R"(cordon_gate_decisions_total{decision="allow",reason="ALLOW_STUDENT"})"), 12.0);
  EXPECT_EQ(MetricValue(g, R"(cordon_gate_decisions_total{decision="deny",reason="DENY_UNKNOWN_CREDENTIAL"})"), 3.0);
  EXPECT_EQ(MetricValue(g, "cordon_gate_link_up"), 1.0);
  EXPECT_EQ(MetricValue(g, "cordon_gate_connects_total"), 1.0);

  // Every series the example Grafana dashboard plots exists.
  std::string dashboard = ReadFile(std::string(CORDON_SOURCE_DIR) +
                                   "/deploy/grafana/cordon-dashboard.json");
  ASSERT_FALSE(dashboard.empty());
  std::regex name(R"(cordon_[a-z_]+)");
  for (auto it = std::sregex_iterator(dashboard.begin(), dashboard.end(), name);
       it != std::sregex_iterator(); ++it) {
    std::string series = it->str();
    EXPECT_TRUE(d.find("\n" + series) != std::string::npos ||
                g.find("\n" + series) != std::string::npos)
        << "the dashboard plots " << series << ", which no endpoint serves";
  }

  gate.process().Signal(SIGTERM);
  EXPECT_EQ(gate.process().Wait(In(std::chrono::seconds(20))), 0);
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(HttpGet(daemon_metrics, "/metrics"), "cordon_gates_connected") == 0.0;
  }, In(std::chrono::seconds(10))));
}

// ---------------------------------------------------------------- SIGHUP

// ---------------------------------------------------------------- CPU

// Each thread of process `pid`: its name and the slice the kernel keeps for it.
std::vector<std::pair<std::string, std::optional<std::chrono::microseconds>>> Slices(pid_t pid) {
  std::vector<std::pair<std::string, std::optional<std::chrono::microseconds>>> out;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string name = ReadFile(task.path().string() + "/comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    out.emplace_back(name, cpu::SliceOf(std::stoi(task.path().filename().string())));
  }
  return out;
}

// gates.decision_slice_us: the threads that decided a scan ask for it; the
// storage writer, the replay lane and the query threads keep the kernel's.
TEST_F(Operations, DecidingThreadsAskForAShortTimeSliceAndStorageKeepsTheKernels) {
  if (std::string why = cpu::ProbeSlice(cpu::kMinSlice); !why.empty()) GTEST_SKIP() << why;
  const std::chrono::microseconds kernels = *cpu::SliceOf();
  for (uint32_t slice_us : {250u, 0u}) {
    SCOPED_TRACE("gates.decision_slice_us: " + std::to_string(slice_us));
    std::string dir = dir_ + "/slice-" + std::to_string(slice_us);
    fs::create_directories(dir);
    WriteFile(dir + "/cordond.yaml",
              "gates:\n  decision_slice_us: " + std::to_string(slice_us) + "\n");
    DaemonUnderTest daemon(dir);
    daemon.Start({"--config", dir + "/cordond.yaml"});
    daemon.RegisterGate("north-1");
    daemon.ImportStudents(1);
    ScannerGate gate(dir, "north-1", daemon.address());
    auto d = gate.Scan("CARD-S0", "in");
    ASSERT_TRUE(d && d->allowed);
    int deciding = 0, bulk = 0;
    for (const auto& [name, slice] : Slices(daemon.pid())) {
      if (name == "cordon-writer" || name == "cordon-replay" || name == "cordon-query") {
        ++bulk;
        EXPECT_EQ(slice, kernels) << name;
      } else if (slice != kernels) {
        ++deciding;
        EXPECT_EQ(slice, std::chrono::microseconds(slice_us)) << name;
      }
    }
    EXPECT_GE(bulk, 4) << "the writer, the replay lane and two query threads";
    bool logged = daemon.log().find("deciding threads: 250 µs time slice") != std::string::npos;
    if (slice_us == 0) {
      EXPECT_EQ(deciding, 0) << "every thread keeps the kernel's slice";
      EXPECT_FALSE(logged);
    } else {
      EXPECT_GE(deciding, 1) << "the thread that decided the scan";
      EXPECT_TRUE(logged) << daemon.log();
    }
  }
}

TEST_F(Operations, SighupReloadsTheConfigWithoutDroppingGates) {
  std::string config = dir_ + "/cordond.yaml";
  WriteFile(config, "log:\n  level: info\ngates:\n  heartbeat_interval_ms: 5000\n");
  daemon_->Start({"--config", config});
  daemon_->RegisterGate("north-1");
  daemon_->ImportStudents(5);
  ScannerGate gate(dir_, "north-1", daemon_->address());
  gate.Send("CARD-S0 in\n");
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") == 1; },
                      In(std::chrono::seconds(30))));

  // A good change: logging and heartbeat apply at once; query threads need a restart.
  WriteFile(config,
            "log:\n  level: debug\ngates:\n  heartbeat_interval_ms: 2000\nqueries:\n  threads: 3\n");
  daemon_->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] {
    return daemon_->log().find("reload: log level debug, text logs, gate heartbeat 2000 ms") !=
           std::string::npos;
  }, In(std::chrono::seconds(10)))) << daemon_->log();
  EXPECT_NE(daemon_->log().find("reload: queries.threads changed; it takes effect after a restart"),
            std::string::npos);

  // A broken file changes nothing and the daemon keeps serving.
  WriteFile(config, "log:\n  level: loud\n  colour: pink\n");
  daemon_->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] {
    return daemon_->log().find("reload failed") != std::string::npos;
  }, In(std::chrono::seconds(10)))) << daemon_->log();
  EXPECT_NE(daemon_->log().find("cordond.yaml:3: log.colour: unknown key"), std::string::npos)
      << daemon_->log();
  EXPECT_EQ(HealthStatus(daemon_->channel()), "SERVING");

  // The same stream carries on: more scans, no reconnect.
  gate.Send("CARD-S1 in\nCARD-S2 in\n");
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") == 3; },
                      In(std::chrono::seconds(30))));
  std::string log = daemon_->log();
  size_t connects = 0;
  for (size_t at = 0; (at = log.find("gate north-1 connected", at)) != std::string::npos; ++at) {
    ++connects;
  }
  EXPECT_EQ(connects, 1u) << log;
  EXPECT_EQ(log.find("gate north-1 disconnected"), std::string::npos) << log;
  gate.process().Signal(SIGTERM);
  EXPECT_EQ(gate.process().Wait(In(std::chrono::seconds(20))), 0);
}

// ---------------------------------------------------------------- backup

// A gate driven from the test at a fixed rate over a real stream; it
// remembers the highest sequence the daemon acknowledged as committed.
class LoadGate {
 public:
  LoadGate(std::shared_ptr<grpc::Channel> channel, std::string gate_id, int per_second)
      : stub_(v1::GateService::NewStub(std::move(channel))),
        gate_id_(std::move(gate_id)),
        period_(std::chrono::microseconds(1'000'000 / per_second)) {}
  ~LoadGate() { Stop(); }

  void Start() {
    stream_ = stub_->Connect(&ctx_);
    v1::GateMessage hello;
    hello.mutable_hello()->set_gate_id(gate_id_);
    hello.mutable_hello()->set_incarnation(0x5EED0000 + std::hash<std::string>{}(gate_id_) % 1000);
    ASSERT_TRUE(stream_->Write(hello));
    v1::DaemonMessage welcome;
    ASSERT_TRUE(stream_->Read(&welcome) && welcome.has_welcome());
    reader_ = std::thread([this] {
      v1::DaemonMessage m;
      while (stream_->Read(&m)) {
        // Told in a PersistAck, or in a Decision's committed_up_to_seq.
        uint64_t up_to = m.has_persist_ack() ? m.persist_ack().up_to_seq()
                         : m.has_decision() ? m.decision().committed_up_to_seq()
                                            : 0;
        if (up_to > acked_.load()) acked_.store(up_to);
      }
    });
    writer_ = std::thread([this] {
      auto next = std::chrono::steady_clock::now();
      for (uint64_t seq = 1; !stop_.load(); ++seq) {
        v1::GateMessage m;
        v1::Scan* s = m.mutable_scan();
        s->set_seq(seq);
        s->set_credential("CARD-S" + std::to_string(seq % 1000));
        s->set_direction((seq / 1000) % 2 ? v1::DIRECTION_OUT : v1::DIRECTION_IN);
        *s->mutable_gate_time() = TimeUtil::GetCurrentTime();
        if (!stream_->Write(m)) break;
        sent_.store(seq);
        next += period_;
        std::this_thread::sleep_until(next);  // pacing an open-loop load, not waiting for a result
      }
      stream_->WritesDone();
    });
  }
  void Stop() {
    stop_.store(true);
    if (writer_.joinable()) writer_.join();
    if (reader_.joinable()) reader_.join();
    if (stream_) {
      (void)stream_->Finish();
      stream_.reset();
    }
  }
  uint64_t acked() const { return acked_.load(); }
  uint64_t sent() const { return sent_.load(); }
  const std::string& gate_id() const { return gate_id_; }

 private:
  std::unique_ptr<v1::GateService::Stub> stub_;
  std::string gate_id_;
  std::chrono::microseconds period_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>> stream_;
  std::thread reader_, writer_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0}, sent_{0};
};

int64_t CountGateEventsUpTo(const std::string& db_path, const std::string& gate_id,
                            uint64_t max_seq) {
  return QueryInt(db_path, "SELECT count(DISTINCT e.seq) FROM events e JOIN gates g ON "
                           "g.id = e.gate_id WHERE g.gate_id = '" + gate_id +
                               "' AND e.seq <= " + std::to_string(max_seq));
}

TEST_F(Operations, BackupUnderLoadHoldsEveryEventAckedBeforeItBeganAndRestores) {
  daemon_->Start();
  daemon_->ImportStudents(1000);
  constexpr int kGates = 5, kPerGate = 1000;  // 5,000 scans/s in all
  std::vector<std::unique_ptr<LoadGate>> gates;
  for (int i = 0; i < kGates; ++i) {
    std::string id = "load-" + std::to_string(i);
    daemon_->RegisterGate(id);
    gates.push_back(std::make_unique<LoadGate>(daemon_->channel(), id, kPerGate));
  }
  auto started = std::chrono::steady_clock::now();
  for (auto& g : gates) g->Start();
  auto total_acked = [&] {
    uint64_t n = 0;
    for (auto& g : gates) n += g->acked();
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return total_acked() >= 5000; }, In(std::chrono::seconds(60))));

  std::vector<uint64_t> acked_before;
  for (auto& g : gates) acked_before.push_back(g->acked());
  std::string backup = dir_ + "/campus-backup.db";
  auto r = cordon::testing::Run({CordonctlPath(), "--daemon", daemon_->address(), "backup", backup}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("backup written to " + backup), std::string::npos) << r.out;
  uint64_t acked_after_backup = total_acked();
  // The gates kept flowing through and after the backup.
  ASSERT_TRUE(WaitFor([&] { return total_acked() >= acked_after_backup + 2500; },
                      In(std::chrono::seconds(60))));
  for (auto& g : gates) g->Stop();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  uint64_t sent = 0;
  for (auto& g : gates) sent += g->sent();
  RecordProperty("offered_scans_per_second", static_cast<int>(static_cast<double>(sent) / seconds));

  int64_t in_backup_total = CountRows(backup, "events");
  for (int i = 0; i < kGates; ++i) {
    EXPECT_EQ(CountGateEventsUpTo(backup, gates[i]->gate_id(), acked_before[i]),
              static_cast<int64_t>(acked_before[i]))
        << gates[i]->gate_id() << ": an event acknowledged before the backup is missing from it";
  }
  EXPECT_EQ(CountRows(daemon_->db_path(), "backups"), 1);

  // Restore: stop, put the copy in place of the database, start.
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(60))), 0);
  std::string db = daemon_->db_path();
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
  fs::copy_file(backup, db, fs::copy_options::overwrite_existing);
  daemon_->Start();
  EXPECT_EQ(HealthStatus(daemon_->channel()), "SERVING");
  EXPECT_EQ(CountRows(db, "events"), in_backup_total);
  for (int i = 0; i < kGates; ++i) {
    EXPECT_EQ(CountGateEventsUpTo(db, gates[i]->gate_id(), acked_before[i]),
              static_cast<int64_t>(acked_before[i]));
  }
}

TEST_F(Operations, BackupRefusesToOverwriteAFile) {
  daemon_->Start();
  WriteFile(dir_ + "/exists.db", "precious");
  auto r = cordon::testing::Run({CordonctlPath(), "--daemon", daemon_->address(), "backup", dir_ + "/exists.db"},
               dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir_ + "/exists.db"), "precious");
}

TEST_F(Operations, ADatabaseRestoredWithTheWrongCampusKeyIsRefused) {
  daemon_->Start();
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(std::chrono::seconds(30))), 0);
  WriteFile(dir_ + "/data/campus.key", std::string(32, 'x'));
  Process again({CordondPath(), "--insecure", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data"},
                dir_ + "/again.out", dir_ + "/again.log");
  EXPECT_EQ(again.Wait(In(std::chrono::seconds(30))), 1);
  EXPECT_NE(ReadFile(dir_ + "/again.log").find("campus.key does not match"), std::string::npos)
      << ReadFile(dir_ + "/again.log");
}

}  // namespace
}  // namespace cordon::testing
