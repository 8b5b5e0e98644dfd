// libFuzzer: any bytes as the request of any cordond RPC, through the real
// entry point. A whole daemon runs in this process (plain text on
// 127.0.0.1, port 0, its store on tmpfs when there is one) with the sample
// campus policy, a few people and gates. The first input byte picks the
// method; the rest is sent as its request message, exactly as a client's
// bytes arrive: gRPC parses them, the guard admits the caller, the handler
// checks the fields, works, and writes its audit entry.
//
// What fails the run: a crash or sanitizer report anywhere in the daemon,
// UNKNOWN (a handler that did not say what went wrong), or a call that does
// not finish in 5 s (a hang). Streams are cancelled once they answer.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "cordon/v1/admin.pb.h"
#include "core/time.h"
#include "daemon/app/config.h"
#include "daemon/app/daemon.h"
#include "tests/support/raw_call.h"

namespace {

// Every method of every service. The order is the seeds' first byte
// (tests/fuzz/corpus/rpc_request): append only.
constexpr std::array<const char*, 33> kMethods{{
    "/cordon.v1.GateService/Connect",
    "/cordon.v1.AdminService/RegisterGate",
    "/cordon.v1.AdminService/ListGates",
    "/cordon.v1.AdminService/AddPerson",
    "/cordon.v1.AdminService/SetPersonActive",
    "/cordon.v1.AdminService/ListPeople",
    "/cordon.v1.AdminService/GetPerson",
    "/cordon.v1.AdminService/ImportRoster",
    "/cordon.v1.AdminService/SetQuarantine",
    "/cordon.v1.AdminService/ClearQuarantine",
    "/cordon.v1.AdminService/IssuePass",
    "/cordon.v1.AdminService/ApplyPolicy",
    "/cordon.v1.AdminService/GetPolicy",
    "/cordon.v1.AdminService/ListPolicyVersions",
    "/cordon.v1.AdminService/RollbackPolicy",
    "/cordon.v1.AdminService/SimulatePolicy",
    "/cordon.v1.AdminService/SetMode",
    "/cordon.v1.AdminService/SetHealth",
    "/cordon.v1.AdminService/GrantLeave",
    "/cordon.v1.AdminService/RecordDisinfection",
    "/cordon.v1.AdminService/Backup",
    "/cordon.v1.SecurityService/ListMovements",
    "/cordon.v1.SecurityService/ListPresence",
    "/cordon.v1.SecurityService/ListStays",
    "/cordon.v1.SecurityService/TraceContacts",
    "/cordon.v1.SecurityService/GetOccupancy",
    "/cordon.v1.SecurityService/WatchEvents",
    "/cordon.v1.SecurityService/GetDailyReport",
    "/cordon.v1.SecurityService/ListAlerts",
    "/cordon.v1.SecurityService/WatchAlerts",
    "/cordon.v1.SecurityService/AcknowledgeAlert",
    "/cordon.v1.AuditService/ListAudit",
    "/cordon.v1.AuditService/VerifyAudit",
}};

bool Streams(const std::string& method) {
  return method.find("/Watch") != std::string::npos || method.find("/Connect") != std::string::npos ||
         method.find("/Backup") != std::string::npos;
}

struct Harness {
  std::string dir;
  cordon::SystemClock clock;
  std::unique_ptr<cordon::app::Daemon> daemon;
  std::unique_ptr<grpc::GenericStub> stub;

  Harness() {
    spdlog::set_level(spdlog::level::off);  // a refusal per input is not worth a line
    google::protobuf::SetLogHandler(nullptr);  // nor is invalid UTF-8, which gRPC refuses
    const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    dir = std::string(base) + "/cordon-rpc-fuzz-" + std::to_string(getpid());
    std::filesystem::remove_all(dir);
    cordon::app::DaemonConfig config;
    config.listen = "127.0.0.1:0";
    config.data_dir = dir;
    config.insecure = true;  // every handler is reachable; roles have their own test
    daemon = std::make_unique<cordon::app::Daemon>(config, clock);
    if (auto st = daemon->Start(); !st.ok()) {
      std::fprintf(stderr, "rpc_request_fuzz: cordond did not start: %s\n", st.ToString().c_str());
      std::abort();
    }
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(daemon->port()),
                                       grpc::InsecureChannelCredentials());
    stub = std::make_unique<grpc::GenericStub>(channel);
    Populate();
  }

  // The sample campus, so that requests naming its zones, gates and people
  // reach past "not found".
  void Populate() {
    std::ifstream in(CORDON_SOURCE_DIR "/deploy/etc/campus-policy.yaml");
    std::stringstream text;
    text << in.rdbuf();
    cordon::v1::ApplyPolicyRequest policy;
    policy.set_document(text.str());
    MustSucceed(11, policy);
    for (const char* gate : {"north-1", "canteen-1-door", "lab-chem-door"}) {
      cordon::v1::RegisterGateRequest r;
      r.set_gate_id(gate);
      Send(1, r);  // the policy may have registered it already
    }
    const std::array<std::pair<const char*, cordon::v1::PersonCategory>, 3> people{{
        {"S1001", cordon::v1::PERSON_CATEGORY_STUDENT},
        {"T2001", cordon::v1::PERSON_CATEGORY_RESIDENT_STAFF},
        {"V3001", cordon::v1::PERSON_CATEGORY_SINGLE_VISIT},
    }};
    for (const auto& [id, category] : people) {
      cordon::v1::AddPersonRequest r;
      r.set_external_id(id);
      r.set_name(std::string("Person ") + id);
      r.set_category(category);
      r.add_credentials(std::string("card-") + id);
      MustSucceed(3, r);
    }
  }
  grpc::Status Send(size_t method, const google::protobuf::Message& m) {
    std::string bytes = m.SerializeAsString();
    return Run(method, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  void MustSucceed(size_t method, const google::protobuf::Message& m) {
    grpc::Status st = Send(method, m);
    if (!st.ok()) {
      std::fprintf(stderr, "rpc_request_fuzz: set-up %s failed: %s\n", kMethods[method],
                   st.error_message().c_str());
      std::abort();
    }
  }
  grpc::Status Run(size_t method, const uint8_t* data, size_t size) {
    std::string name = kMethods[method % kMethods.size()];
    using cordon::testing::RawCall;
    RawCall call(*stub, name, data, size,
                 Streams(name) ? RawCall::Until::kAnswered : RawCall::Until::kEnd,
                 std::chrono::seconds(5));
    return call.Await();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Never destroyed: libFuzzer ends with exit(), and the daemon's threads
  // are still running then; only its files are removed.
  static Harness& harness = *new Harness;
  static const int cleanup = std::atexit([] { std::filesystem::remove_all(harness.dir); });
  (void)cleanup;
  if (size == 0) return 0;
  grpc::Status st = harness.Run(data[0], data + 1, size - 1);
  if (st.error_code() == grpc::StatusCode::UNKNOWN ||
      st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "rpc_request_fuzz: %s answered %d: %s\n", kMethods[data[0] % kMethods.size()],
                 static_cast<int>(st.error_code()), st.error_message().c_str());
    std::abort();
  }
  return 0;
}
