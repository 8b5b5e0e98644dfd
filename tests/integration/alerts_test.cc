// Alerts for the security office: streamed as they are raised (filtered),
// acknowledged once by a named operator, and raised at their time with no
// scan to trigger them (an overdue leave, a visitor overstaying, a silent
// gate). Real cordond, cordon-gate and cordonctl; gRPC on 127.0.0.1.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "tests/support/campus.h"

namespace cordon::testing {
namespace {

using google::protobuf::util::TimeUtil;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kClosedCampus[] = R"yaml(
zones:
  - id: campus
modes:
  - id: closed_management
    leave_required: true
)yaml";

google::protobuf::Timestamp FromNow(milliseconds d) {
  return TimeUtil::MillisecondsToTimestamp(
      std::chrono::duration_cast<milliseconds>(
          (std::chrono::system_clock::now() + d).time_since_epoch()).count());
}

class Alerts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("alerts");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
  }
  void TearDown() override {
    gate_.reset();
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  RunResult Cordonctl(std::vector<std::string> args) {
    return cordon::testing::Cordonctl(*daemon_, std::move(args), dir_);
  }
  std::string Scan(const std::string& card, const std::string& dir) {
    auto shown = gate_->Scan(card, dir);
    return shown ? shown->reason : "none";
  }
  void StartGate() {
    gate_ = std::make_unique<ScannerGate>(dir_, "north-1", daemon_->address());
    ASSERT_TRUE(WaitFor([&] { return gate_->output().find("\"event\":\"policy\"") != std::string::npos; },
                        In(seconds(20))));
  }
  int64_t AlertRaisedAt(int kind) {
    return QueryInt(daemon_->db_path(),
                    "SELECT raised_at FROM alerts WHERE kind = " + std::to_string(kind));
  }

  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
  std::unique_ptr<ScannerGate> gate_;
};

TEST_F(Alerts, AWatchStreamsOnlyMatchingAlertsAndAnAlertIsAcknowledgedOnce) {
  daemon_->Start();
  daemon_->RegisterGate("north-1");
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  daemon_->AddPerson("Q1", v1::PERSON_CATEGORY_STUDENT, "CARD-Q1");
  daemon_->Quarantine("Q1", 10);
  StartGate();
  ASSERT_EQ(Scan("CARD-S1", "out"), "ALLOW_EXIT_WITHOUT_ENTRY");  // alert 1
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "alerts") == 1; }, In(seconds(10))));

  // Resume after alert 1, only restricted people at gates.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + seconds(30));
  v1::WatchAlertsRequest req;
  req.set_since_id(1);
  req.mutable_filter()->add_kinds(v1::ALERT_KIND_RESTRICTED_PERSON_AT_GATE);
  auto watch = daemon_->security().WatchAlerts(&ctx, req);
  ASSERT_EQ(Scan("CARD-S1", "out"), "ALLOW_EXIT_WITHOUT_ENTRY");  // alert 2: filtered out
  ASSERT_EQ(Scan("CARD-Q1", "in"), "DENY_QUARANTINE");            // alert 3
  v1::Alert streamed;
  ASSERT_TRUE(watch->Read(&streamed));
  EXPECT_EQ(streamed.id(), 3);
  EXPECT_EQ(streamed.kind(), v1::ALERT_KIND_RESTRICTED_PERSON_AT_GATE);
  EXPECT_EQ(streamed.severity(), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(streamed.person(), "Q1");
  EXPECT_EQ(streamed.gate_id(), "north-1");
  ctx.TryCancel();

  RunResult ack = Cordonctl({"alerts", "ack", "3", "--operator", "Wang Li"});
  EXPECT_EQ(ack.exit_code, 0) << ack.err;
  RunResult again = Cordonctl({"alerts", "ack", "3", "--operator", "Zhao Min"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already acknowledged by Wang Li"), std::string::npos) << again.err;
  EXPECT_EQ(Cordonctl({"alerts", "ack", "99", "--operator", "Wang Li"}).exit_code, 1);
  RunResult open = Cordonctl({"alerts", "--open"});
  EXPECT_EQ(open.exit_code, 0);
  EXPECT_NE(open.out.find("2 alert(s)"), std::string::npos) << open.out;
  RunResult critical = Cordonctl({"alerts", "--min-severity", "critical"});
  EXPECT_NE(critical.out.find("Wang Li"), std::string::npos) << critical.out;
  EXPECT_NE(critical.out.find("1 alert(s)"), std::string::npos) << critical.out;
  EXPECT_EQ(Cordonctl({"alerts", "--kind", "no_such_kind"}).exit_code, 2);

  // cordonctl alerts watch prints what comes, as JSON lines for programs.
  Process watcher({CordonctlPath(), "--daemon", daemon_->address(), "--json", "alerts", "watch",
                   "--since-id", "1", "--count", "2"},
                  dir_ + "/watch.out", dir_ + "/watch.err");
  ASSERT_TRUE(watcher.Wait(In(seconds(20))).value_or(-1) == 0) << ReadFile(dir_ + "/watch.err");
  std::string lines = ReadFile(dir_ + "/watch.out");
  EXPECT_NE(lines.find("\"id\":\"2\""), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"acknowledged_by\":\"Wang Li\""), std::string::npos) << lines;
}

TEST_F(Alerts, AnOverdueLeaveAndAVisitorOverstayAreRaisedAtTheirTimeWithNoScan) {
  daemon_->Start();
  daemon_->RegisterGate("north-1");
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  daemon_->AddPerson("V1", v1::PERSON_CATEGORY_SINGLE_VISIT, "CARD-V1");
  WriteFile(dir_ + "/policy.yaml", kClosedCampus);
  ASSERT_EQ(Cordonctl({"policy", "apply", dir_ + "/policy.yaml"}).exit_code, 0);
  StartGate();
  ASSERT_EQ(Scan("CARD-S1", "in"), "ALLOW_STUDENT");
  ASSERT_EQ(Scan("CARD-S1", "out"), "DENY_NO_LEAVE");

  auto deadline = FromNow(milliseconds(1500));
  {
    grpc::ClientContext ctx;
    v1::GrantLeaveRequest req;
    req.set_person("S1");
    *req.mutable_exit_until() = deadline;
    *req.mutable_return_by() = deadline;
    v1::Leave leave;
    ASSERT_TRUE(daemon_->admin().GrantLeave(&ctx, req, &leave).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::IssuePassRequest req;
    req.set_person("V1");
    req.set_host("Prof. Sun");
    *req.mutable_valid_until() = deadline;
    v1::SingleVisitPass pass;
    ASSERT_TRUE(daemon_->admin().IssuePass(&ctx, req, &pass).ok());
  }
  ASSERT_EQ(Scan("CARD-S1", "out"), "ALLOW_LEAVE_EXIT");
  ASSERT_EQ(Scan("CARD-V1", "in"), "ALLOW_PASS_ENTRY");
  EXPECT_EQ(CountRows(daemon_->db_path(), "alerts"), 0);

  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "alerts") == 2; }, In(seconds(20))))
      << daemon_->log();
  int64_t due_us = TimeUtil::TimestampToMicroseconds(deadline);
  for (int kind : {9, 8}) {  // leave overdue, pass overstay
    int64_t at = AlertRaisedAt(kind);
    EXPECT_EQ(at, due_us) << "dated at the moment it fell due, kind " << kind;
  }
  // Raised once: a restart does not raise them again.
  daemon_->Signal(SIGTERM);
  ASSERT_TRUE(daemon_->Wait(In(seconds(20))).has_value());
  daemon_->Start();
  RunResult listed = Cordonctl({"alerts", "--kind", "leave_overdue", "--kind", "pass_overstay"});
  EXPECT_NE(listed.out.find("2 alert(s)"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("S1 is not back from leave"), std::string::npos) << listed.out;
  EXPECT_EQ(CountRows(daemon_->db_path(), "alerts"), 2);
}

// Not an alert, but the same gate console: the guard records a disinfection.
TEST_F(Alerts, AVehicleEntersOnlyAfterTheGuardRecordsItsDisinfectionAtTheGate) {
  daemon_->Start();
  daemon_->RegisterGate("north-1");
  daemon_->AddPerson("TRUCK-7", v1::PERSON_CATEGORY_VEHICLE, "PLATE-7");
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  StartGate();
  EXPECT_EQ(Scan("PLATE-7", "in"), "DENY_NO_DISINFECTION");
  gate_->Send("CARD-S1 disinfected\nPLATE-7 disinfected\n");
  ASSERT_TRUE(WaitFor([&] { return gate_->output().find("\"credential\":\"PLATE-7\",\"recorded\":true") !=
                                   std::string::npos; },
                      In(seconds(20))))
      << gate_->output();
  EXPECT_NE(gate_->output().find("\"credential\":\"CARD-S1\",\"recorded\":false,\"message\":\"student: "
                                 "disinfection is recorded for vehicles and deliveries\""),
            std::string::npos)
      << gate_->output();
  EXPECT_EQ(Scan("PLATE-7", "in"), "ALLOW_VEHICLE");
  EXPECT_EQ(QueryInt(daemon_->db_path(),
                     "SELECT count(*) FROM disinfections WHERE recorded_by = 'gate north-1'"),
            1);
}

TEST_F(Alerts, AConnectedGateThatFallsSilentRaisesOneAlert) {
  std::string config = dir_ + "/cordond.yaml";
  WriteFile(config, "gates:\n  heartbeat_interval_ms: 100\n");
  daemon_->Start({"--config", config});
  daemon_->RegisterGate("mute-1");
  daemon_->RegisterGate("mute-2");
  auto stub = v1::GateService::NewStub(daemon_->channel());
  // A gate that says hello and then nothing: no heartbeats, no scans.
  struct MuteGate {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>> stream;
  };
  auto connect = [&](MuteGate& g, const std::string& id, uint64_t incarnation) {
    g.ctx.set_deadline(std::chrono::system_clock::now() + seconds(30));
    g.stream = stub->Connect(&g.ctx);
    v1::GateMessage hello;
    hello.mutable_hello()->set_gate_id(id);
    hello.mutable_hello()->set_incarnation(incarnation);
    return g.stream->Write(hello);
  };
  std::string db = daemon_->db_path();
  MuteGate first, second;
  ASSERT_TRUE(connect(first, "mute-1", 0x5151));
  ASSERT_TRUE(WaitFor([&] { return CountRows(db, "alerts") >= 1; }, In(seconds(10))));
  EXPECT_EQ(QueryInt(db, "SELECT kind FROM alerts"), 10);
  // The second gate's alert comes three heartbeats (and as many checks) later;
  // by then the first, still silent, has been checked again and again.
  ASSERT_TRUE(connect(second, "mute-2", 0x5252));
  ASSERT_TRUE(WaitFor([&] { return CountRows(db, "alerts") >= 2; }, In(seconds(10))));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM alerts a JOIN gates g ON g.id = a.gate_id "
                         "WHERE a.kind = 10 AND g.gate_id = 'mute-1'"),
            1)
      << "one alert per silence";
  EXPECT_EQ(CountRows(db, "alerts"), 2);
  first.ctx.TryCancel();
  second.ctx.TryCancel();
}

}  // namespace
}  // namespace cordon::testing
