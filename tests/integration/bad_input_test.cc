// A broken or hostile gate gets a clear status naming the field, and the
// other gates keep flowing.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>

#include "tests/support/campus.h"
#include "tests/support/raw_call.h"

namespace cordon::testing {
namespace {

using google::protobuf::util::TimeUtil;

// A gate speaking the protocol by hand.
class RawGate {
 public:
  explicit RawGate(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::GateService::NewStub(std::move(channel))) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stream_ = stub_->Connect(&ctx_);
  }
  bool Send(const v1::GateMessage& m) { return stream_->Write(m); }
  bool Hello(const std::string& gate_id) {
    v1::GateMessage m;
    m.mutable_hello()->set_gate_id(gate_id);
    m.mutable_hello()->set_incarnation(0xBADBADBAD);
    v1::DaemonMessage reply;
    return Send(m) && stream_->Read(&reply) && reply.has_welcome();
  }
  // Reads until the daemon ends the stream and returns its status.
  grpc::Status Outcome() {
    v1::DaemonMessage ignored;
    while (stream_->Read(&ignored)) {
    }
    return stream_->Finish();
  }

 private:
  std::unique_ptr<v1::GateService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>> stream_;
};

v1::GateMessage GoodScan() {
  v1::GateMessage m;
  v1::Scan* s = m.mutable_scan();
  s->set_seq(1);
  s->set_credential("CARD-S1");
  s->set_direction(v1::DIRECTION_IN);
  *s->mutable_gate_time() = TimeUtil::GetCurrentTime();
  return m;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("badinput");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    daemon_->Start();
    daemon_->ImportStudents(50);
    daemon_->RegisterGate("good-1");
    daemon_->RegisterGate("broken-1");
  }
  void TearDown() override {
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  grpc::Status SendOne(const v1::GateMessage& scan) {
    RawGate raw(daemon_->channel());
    EXPECT_TRUE(raw.Hello("broken-1"));
    raw.Send(scan);
    return raw.Outcome();
  }
  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
};

TEST_F(BadInput, MalformedAndOversizedMessagesGetClearErrorsWhileOtherGatesFlow) {
  std::vector<std::string> lines;
  for (int i = 0; i < 1000; ++i) lines.push_back("CARD-S" + std::to_string(i % 50) + (i % 2 ? " out" : " in"));
  WriteLines(dir_ + "/good.txt", lines);
  GateUnderTest good(dir_, "good-1");
  good.Start(daemon_->address(), dir_ + "/good.txt", {"--rate", "400"});

  struct BadCase {
    std::string name;
    std::function<void(v1::GateMessage&)> spoil;
    grpc::StatusCode code;
    std::string mentions;
  };
  std::vector<BadCase> cases = {
      {"empty credential", [](auto& m) { m.mutable_scan()->set_credential(""); },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.credential: must not be empty"},
      {"long credential", [](auto& m) { m.mutable_scan()->set_credential(std::string(200, 'x')); },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.credential: must be at most 128"},
      {"control characters", [](auto& m) { m.mutable_scan()->set_credential("a\x01b"); },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.credential"},
      {"no direction", [](auto& m) { m.mutable_scan()->set_direction(v1::DIRECTION_UNSPECIFIED); },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.direction"},
      {"seq zero", [](auto& m) { m.mutable_scan()->set_seq(0); },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.seq"},
      {"no gate time", [](auto& m) { m.mutable_scan()->clear_gate_time(); },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.gate_time"},
      {"gate time out of range",
       [](auto& m) { m.mutable_scan()->mutable_gate_time()->set_seconds(INT64_MAX); },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.gate_time: not a valid time"},
      {"contradictory held decision",
       [](auto& m) {
         auto* d = m.mutable_scan()->mutable_gate_decision();
         d->set_allowed(true);
         d->set_reason(v1::DENY_QUARANTINE);
         d->set_source(v1::DECISION_SOURCE_GATE_OFFLINE);
         *d->mutable_decided_at() = TimeUtil::GetCurrentTime();
       },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.gate_decision.allowed"},
      {"empty message", [](auto& m) { m.Clear(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "message: empty"},
      {"oversized batch",
       [](auto& m) {
         v1::Scan scan = m.scan();
         m.Clear();
         for (int i = 1; i <= 1025; ++i) {
           scan.set_seq(static_cast<uint64_t>(i));
           *m.mutable_scan_batch()->add_scans() = scan;
         }
       },
       grpc::StatusCode::INVALID_ARGUMENT, "scan_batch.scans: more than 1024"},
      {"bad scan inside a batch",
       [](auto& m) {
         v1::Scan scan = m.scan();
         m.Clear();
         scan.set_credential("");
         *m.mutable_scan_batch()->add_scans() = scan;
         scan.set_seq(2);
         scan.set_credential("CARD-S1");
         *m.mutable_scan_batch()->add_scans() = scan;
       },
       grpc::StatusCode::INVALID_ARGUMENT, "scan.credential"},
      {"oversized message",
       [](auto& m) { m.mutable_scan()->set_credential(std::string(2 << 20, 'x')); },
       grpc::StatusCode::RESOURCE_EXHAUSTED, ""},
  };
  for (const auto& c : cases) {
    v1::GateMessage m = GoodScan();
    c.spoil(m);
    grpc::Status st = SendOne(m);
    EXPECT_EQ(st.error_code(), c.code) << c.name << ": " << st.error_message();
    EXPECT_NE(st.error_message().find(c.mentions), std::string::npos)
        << c.name << ": " << st.error_message();
  }

  ASSERT_EQ(good.Wait(In(std::chrono::seconds(60))), 0) << good.errors();
  auto events = ReadEvents(daemon_->db_path());
  EXPECT_EQ(events.size(), 1000u) << "no malformed scan was stored, every good one was";
  for (const auto& e : events) EXPECT_EQ(e.gate_id, "good-1");
}

TEST_F(BadInput, AnUnregisteredGateIsRefusedAtHello) {
  RawGate raw(daemon_->channel());
  EXPECT_FALSE(raw.Hello("ghost-9"));
  grpc::Status st = raw.Outcome();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(st.error_message().find("gate 'ghost-9' is not registered"), std::string::npos);
  EXPECT_NE(st.error_message().find("cordonctl gate add ghost-9"), std::string::npos);
}

TEST_F(BadInput, TimesOutOfRangeAreRefusedNamingTheFieldAndTheDaemonCarriesOn) {
  {
    RawGate raw(daemon_->channel());
    v1::GateMessage hello;
    hello.mutable_hello()->set_gate_id("broken-1");
    hello.mutable_hello()->set_incarnation(0xABCDEF);
    hello.mutable_hello()->mutable_gate_time()->set_seconds(INT64_MIN);
    raw.Send(hello);
    grpc::Status st = raw.Outcome();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("hello.gate_time: not a valid time"), std::string::npos)
        << st.error_message();
  }
  {
    grpc::ClientContext ctx;
    v1::SetQuarantineRequest req;
    req.set_person("S1");
    req.mutable_ends_at()->set_seconds(INT64_MAX);
    v1::QuarantineOrder order;
    grpc::Status st = daemon_->admin().SetQuarantine(&ctx, req, &order);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("ends_at: not a valid time"), std::string::npos)
        << st.error_message();
  }
  {
    grpc::ClientContext ctx;
    v1::ListMovementsRequest req;
    req.set_person("S1");
    req.mutable_from()->set_seconds(-INT64_MAX);
    v1::ListMovementsResponse resp;
    grpc::Status st = daemon_->security().ListMovements(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("from: not a valid time"), std::string::npos)
        << st.error_message();
  }
  // Still serving everyone else.
  RawGate good(daemon_->channel());
  EXPECT_TRUE(good.Hello("good-1"));
}

TEST_F(BadInput, TheFirstMessageMustBeAHello) {
  RawGate raw(daemon_->channel());
  raw.Send(GoodScan());
  grpc::Status st = raw.Outcome();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("first message must be a hello"), std::string::npos);
}

// cordond parses gate messages itself (the stream is raw bytes to gRPC so
// that the policy copy is serialized once for all gates).
TEST_F(BadInput, BytesThatAreNotAGateMessageAreRefusedNamingTheMessage) {
  grpc::GenericStub stub(daemon_->channel());
  const uint8_t garbage[] = {0xff, 0xff, 0xff};  // a tag cut short
  RawCall call(stub, "/cordon.v1.GateService/Connect", garbage, sizeof garbage,
               RawCall::Until::kEnd, std::chrono::seconds(30));
  grpc::Status st = call.Await();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(st.error_message(), "message: not a cordon.v1.GateMessage");
  RawGate good(daemon_->channel());
  EXPECT_TRUE(good.Hello("good-1")) << "the daemon serves on";
}

TEST_F(BadInput, AnUnregisteredGateAgentExitsWithAClearMessageAndKeepsItsScans) {
  WriteLines(dir_ + "/ghost.txt", {"CARD-S1 in"});
  GateUnderTest ghost(dir_, "ghost-9");
  ghost.Start(daemon_->address(), dir_ + "/ghost.txt");
  EXPECT_EQ(ghost.Wait(In(std::chrono::seconds(30))), 2);
  EXPECT_NE(ghost.errors().find("is not registered"), std::string::npos) << ghost.errors();
  EXPECT_NE(ghost.errors().find("1 scan(s) await acknowledgement"), std::string::npos)
      << ghost.errors();
  EXPECT_EQ(CountRows(daemon_->db_path(), "events"), 0);
}

// A welcome timeout of zero would give up on every connection at once.
TEST_F(BadInput, AGateAgentRefusesAWelcomeTimeoutOutOfRangeNamingTheFlag) {
  for (std::string value : {"0", "abc"}) {
    Process gate({CordonGatePath(), "--gate-id", "north-1", "--outbox", dir_ + "/w.outbox.db",
                  "--daemon", daemon_->address(), "--welcome-timeout-ms", value},
                 dir_ + "/w.out", dir_ + "/w.err");
    auto code = gate.Wait(In(std::chrono::seconds(30)));
    ASSERT_TRUE(code.has_value());
    EXPECT_NE(*code, 0) << value;
    std::string err = ReadFile(dir_ + "/w.err");
    EXPECT_NE(err.find("--welcome-timeout-ms: Value " + value + " not in range 1 to 3600000"),
              std::string::npos)
        << err;
    std::filesystem::remove(dir_ + "/w.err");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/w.outbox.db")) << "nothing started";
}

}  // namespace
}  // namespace cordon::testing
