// Mutual TLS, roles and the audit log, end to end: a real cordond with
// certificates from the real deploy/pki/cordon-pki, real gRPC clients with
// each role's certificate, cordon-gate and cordonctl.
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "cordon/v1/admin.grpc.pb.h"
#include "cordon/v1/audit.grpc.pb.h"
#include "cordon/v1/gate.grpc.pb.h"
#include "cordon/v1/security.grpc.pb.h"
#include "daemon/auth/access.h"
#include "tests/support/campus.h"
#include "tests/support/raw_call.h"

#include <sqlite3.h>

namespace cordon::testing {
namespace {

using std::chrono::seconds;

const std::string kPki = std::string(CORDON_SOURCE_DIR) + "/deploy/pki/cordon-pki";

// The one number `sql` selects; -1 if it cannot.
int64_t CountRows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

// A certificate and key issued by the script.
struct Identity {
  std::string cert, key;
};

class Security : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("security");
    pki_ = dir_ + "/pki";
    Pki({"init", pki_});
    Pki({"server", pki_, "cordond"});
    for (const char* role : {"gate", "security", "admin", "auditor"}) {
      std::string name = std::string(role) == "gate" ? "north-1" : std::string(role) + "-1";
      Pki({"issue", pki_, role, name});
      ids_[role] = {pki_ + "/" + role + "/" + name + ".crt", pki_ + "/" + role + "/" + name + ".key"};
    }
    Pki({"issue", pki_, "admin", "lapsed", "--days", "-1"});
    // Another campus's CA and an admin certificate from it.
    Pki({"init", dir_ + "/other", "--campus", "Elsewhere"});
    Pki({"issue", dir_ + "/other", "admin", "intruder"});
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    StartDaemon();
  }
  void TearDown() override {
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  void StartDaemon() {
    daemon_->Start({"--tls-ca", pki_ + "/ca.crt", "--tls-cert", pki_ + "/server/cordond.crt",
                    "--tls-key", pki_ + "/server/cordond.key"});
  }

  void Pki(std::vector<std::string> args) {
    args.insert(args.begin(), kPki);
    RunResult r = cordon::testing::Run(args, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& ca, const Identity* id) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadFile(ca);
    if (id) {
      o.pem_cert_chain = ReadFile(id->cert);
      o.pem_private_key = ReadFile(id->key);
    }
    return grpc::CreateChannel(daemon_->address(), grpc::SslCredentials(o));
  }
  std::shared_ptr<grpc::Channel> As(const std::string& role) {
    return Channel(pki_ + "/ca.crt", &ids_.at(role));
  }
  std::vector<std::string> CtlTls(const std::string& role) {
    return {"--tls-ca", pki_ + "/ca.crt", "--tls-cert", ids_.at(role).cert, "--tls-key",
            ids_.at(role).key};
  }
  RunResult Ctl(const std::string& role, std::vector<std::string> args) {
    auto tls = CtlTls(role);
    args.insert(args.begin(), tls.begin(), tls.end());
    return Cordonctl(*daemon_, std::move(args), dir_);
  }

  static grpc::Status ListGates(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    v1::ListGatesResponse resp;
    return v1::AdminService::NewStub(channel)->ListGates(&ctx, {}, &resp);
  }

  std::vector<v1::AuditEntry> Audit() {
    grpc::ClientContext ctx;
    v1::ListAuditRequest req;
    req.set_page_size(10'000);
    v1::ListAuditResponse resp;
    auto st = v1::AuditService::NewStub(As("auditor"))->ListAudit(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.entries().begin(), resp.entries().end()};
  }

  std::string dir_, pki_;
  std::map<std::string, Identity> ids_;
  std::unique_ptr<DaemonUnderTest> daemon_;
};

TEST_F(Security, OnlyCertificatesFromTheCampusCaThatAreInDateAreAccepted) {
  ASSERT_TRUE(ListGates(As("admin")).ok());
  const std::string ca = pki_ + "/ca.crt";
  Identity lapsed{pki_ + "/admin/lapsed.crt", pki_ + "/admin/lapsed.key"};
  Identity intruder{dir_ + "/other/admin/intruder.crt", dir_ + "/other/admin/intruder.key"};
  struct Case {
    const char* what;
    std::shared_ptr<grpc::Channel> channel;
  } cases[] = {
      {"no client certificate", Channel(ca, nullptr)},
      {"a certificate from another CA", Channel(ca, &intruder)},
      {"an expired certificate", Channel(ca, &lapsed)},
      {"plain text", grpc::CreateChannel(daemon_->address(), grpc::InsecureChannelCredentials())},
  };
  for (auto& c : cases) {
    grpc::Status st = ListGates(c.channel);
    EXPECT_FALSE(st.ok()) << c.what;
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << c.what << ": " << st.error_message();
  }
  // cordonctl without certificates (plain text here) is refused; the daemon serves on.
  RunResult bare = cordon::testing::Run({CordonctlPath(), "--daemon", daemon_->address(), "gate", "list"}, dir_);
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_TRUE(ListGates(As("admin")).ok());
}

TEST_F(Security, AGateCertificateSpeaksOnlyAsItsOwnGate) {
  ASSERT_EQ(Ctl("admin", {"gate", "add", "north-1"}).exit_code, 0);
  ASSERT_EQ(Ctl("admin", {"gate", "add", "south-1"}).exit_code, 0);

  // north-1's certificate claiming south-1.
  grpc::ClientContext ctx;
  auto stream = v1::GateService::NewStub(As("gate"))->Connect(&ctx);
  v1::GateMessage hello;
  hello.mutable_hello()->set_gate_id("south-1");
  hello.mutable_hello()->set_incarnation(7);
  ASSERT_TRUE(stream->Write(hello));
  stream->WritesDone();
  v1::DaemonMessage reply;
  while (stream->Read(&reply)) {
  }
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(st.error_message().find("certificate is for gate 'north-1'; it cannot speak as gate "
                                    "'south-1'"),
            std::string::npos)
      << st.error_message();

  // The refusal is in the audit log, against the certificate's gate.
  bool recorded = false;
  for (const auto& e : Audit()) {
    recorded = recorded || (e.actor() == "gate:north-1" && e.action() == "GateService/Connect" &&
                            e.outcome().rfind("denied: ", 0) == 0);
  }
  EXPECT_TRUE(recorded);

  // The real agent with its own certificate is served.
  ASSERT_EQ(Ctl("admin", {"person", "add", "S1", "--name", "Li Na", "--category", "student",
                          "--credential", "CARD-S1"})
                .exit_code,
            0);
  ScannerGate gate(dir_, "north-1", daemon_->address(),
                   {"--tls-ca", pki_ + "/ca.crt", "--tls-cert", ids_["gate"].cert, "--tls-key",
                    ids_["gate"].key});
  auto shown = gate.Scan("CARD-S1", "in");
  ASSERT_TRUE(shown) << gate.errors();
  EXPECT_TRUE(shown->allowed);
  EXPECT_EQ(shown->reason, "ALLOW_STUDENT");
}

TEST_F(Security, EveryRoleMayMakeExactlyTheCallsItsRoleAllows) {
  // Every method of cordon's services, from the descriptors: a new RPC
  // missing from the access table fails here.
  std::vector<std::string> methods;
  for (const char* service : {"cordon.v1.GateService", "cordon.v1.AdminService",
                              "cordon.v1.SecurityService", "cordon.v1.AuditService"}) {
    const auto* d = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    ASSERT_NE(d, nullptr) << service;
    for (int i = 0; i < d->method_count(); ++i) {
      std::string name = d->name() + "/" + d->method(i)->name();
      ASSERT_NE(auth::FindMethod(name), nullptr) << name << " is not in the access table";
      methods.push_back(name);
    }
  }
  ASSERT_EQ(methods.size(), auth::AccessTable().size());

  int denied = 0;
  for (const char* role : {"gate", "security", "admin", "auditor"}) {
    grpc::GenericStub stub(As(role));
    for (const std::string& method : methods) {
      bool allowed = auth::MayCall(*auth::RoleFromName(role), *auth::FindMethod(method));
      // One empty message; a stream that answers (a watch, a backup) was
      // admitted and is cancelled then.
      const uint8_t none = 0;
      RawCall probe(stub, "/cordon.v1." + method, &none, 0, RawCall::Until::kAnswered,
                    std::chrono::seconds(10));
      grpc::Status st = probe.Await();
      if (allowed) {
        EXPECT_NE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << role << " " << method << ": " << st.error_message();
        EXPECT_NE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << role << " " << method;
      } else {
        ++denied;
        EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role << " " << method;
        EXPECT_EQ(st.error_message(), "role " + std::string(role) + " may not call " + method);
      }
    }
  }
  // Each refusal is in the audit log (written without holding up the answer).
  ASSERT_TRUE(WaitFor(
      [&] {
        int n = 0;
        for (const auto& e : Audit()) n += e.outcome().rfind("denied: ", 0) == 0;
        return n == denied;
      },
      In(seconds(20))));
  EXPECT_GT(denied, 90);
  EXPECT_TRUE(ListGates(As("admin")).ok());
}

TEST_F(Security, ReadsAreAuditedAndAnEditedOrDeletedEntryIsNamed) {
  ASSERT_EQ(Ctl("admin", {"person", "add", "S1", "--name", "Li Na", "--category", "student",
                          "--credential", "CARD-S1"})
                .exit_code,
            0);
  RunResult trace = Ctl("security", {"trace", "S1", "--case", "case-XQ-2022-031"});
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  ASSERT_EQ(Ctl("security", {"movements", "S1"}).exit_code, 0);
  // The security office may not read the audit log, nor the auditor movements.
  EXPECT_NE(Ctl("security", {"audit", "verify"}).exit_code, 0);
  RunResult peek = Ctl("auditor", {"movements", "S1"});
  EXPECT_NE(peek.exit_code, 0);
  EXPECT_NE(peek.err.find("role auditor may not call SecurityService/ListMovements"),
            std::string::npos)
      << peek.err;

  // A watch says "watching" only after its headers, which wait for its entry.
  {
    std::vector<std::string> argv = {CordonctlPath(), "--daemon", daemon_->address()};
    for (const auto& a : CtlTls("security")) argv.push_back(a);
    for (const char* a : {"watch", "--zone", "campus"}) argv.push_back(a);
    Process watcher(argv, dir_ + "/watch.out", dir_ + "/watch.err");
    ASSERT_TRUE(WaitFor([&] { return ReadFile(dir_ + "/watch.err").find("watching") != std::string::npos; },
                        In(seconds(20))))
        << ReadFile(dir_ + "/watch.err");
    bool audited = false;
    for (const auto& e : Audit()) {
      audited = audited || (e.action() == "SecurityService/WatchEvents" &&
                            e.actor() == "security:security-1" && e.outcome() == "ok");
    }
    EXPECT_TRUE(audited);
  }

  std::vector<v1::AuditEntry> entries = Audit();
  const v1::AuditEntry* traced = nullptr;
  for (const auto& e : entries) {
    if (e.action() == "SecurityService/TraceContacts") traced = &e;
  }
  ASSERT_NE(traced, nullptr);
  // A change: its request first (committed before the change), then its outcome.
  std::vector<std::string> added;
  for (const auto& e : entries) {
    if (e.action() == "AdminService/AddPerson") added.push_back(e.outcome() + " " + e.subject());
  }
  EXPECT_EQ(added, (std::vector<std::string>{"requested person S1", "ok person S1"}));
  EXPECT_EQ(traced->actor(), "security:security-1");
  EXPECT_EQ(traced->purpose(), "case-XQ-2022-031");
  EXPECT_EQ(traced->outcome(), "ok");
  const int64_t traced_id = traced->id();
  RunResult intact = Ctl("auditor", {"audit", "verify"});
  EXPECT_EQ(intact.exit_code, 0) << intact.out << intact.err;
  EXPECT_NE(intact.out.find("audit log intact: " + std::to_string(entries.size()) + " entries"),
            std::string::npos)
      << intact.out;

  // Stopped, one byte of the trace's entry is changed in the database file.
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(seconds(30))), 0);
  {
    std::fstream db(daemon_->db_path(), std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
    size_t at = bytes.find("case-XQ-2022-031");
    ASSERT_NE(at, std::string::npos);
    db.seekp(static_cast<std::streamoff>(at + 15));
    db.put('2');  // case-XQ-2022-032
  }
  StartDaemon();
  RunResult edited = Ctl("auditor", {"audit", "verify"});
  EXPECT_EQ(edited.exit_code, 1) << edited.out << edited.err;
  EXPECT_NE(edited.out.find("entry " + std::to_string(traced_id) + " edited"), std::string::npos)
      << edited.out;

  // And a deleted entry (the first) is named as deleted, the edit still named.
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(seconds(30))), 0);
  ASSERT_EQ(ExecSql(daemon_->db_path(), "DELETE FROM audit_log WHERE id = 1"), "");
  StartDaemon();
  RunResult deleted = Ctl("auditor", {"--json", "audit", "verify"});
  EXPECT_EQ(deleted.exit_code, 1);
  EXPECT_NE(deleted.out.find("\"description\":\"entry 1 deleted\""), std::string::npos)
      << deleted.out;
  EXPECT_NE(deleted.out.find("entry " + std::to_string(traced_id) + " edited"), std::string::npos)
      << deleted.out;
}

TEST_F(Security, WhenTheAuditEntryCannotBeWrittenTheReadFailsAndReturnsNothing) {
  ASSERT_EQ(Ctl("admin", {"person", "add", "S1", "--name", "Li Na", "--category", "student",
                          "--credential", "CARD-S1"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl("security", {"movements", "S1"}).exit_code, 0);
  // The injected fault: the audit log refuses every insert.
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(seconds(30))), 0);
  ASSERT_EQ(ExecSql(daemon_->db_path(),
                    "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'the disk says no'); END"),
            "");
  StartDaemon();
  RunResult read = Ctl("security", {"--json", "movements", "S1"});
  EXPECT_NE(read.exit_code, 0);
  EXPECT_EQ(read.out, "");
  EXPECT_NE(read.err.find("the audit log could not be written, so the results are withheld"),
            std::string::npos)
      << read.err;
  EXPECT_NE(read.err.find("(INTERNAL)"), std::string::npos) << read.err;
  RunResult trace = Ctl("security", {"--json", "trace", "S1", "--case", "c-9"});
  EXPECT_NE(trace.exit_code, 0);
  // A change's request is committed before the change is made: without
  // it, nothing changes, and the administrator is told so.
  RunResult change = Ctl("admin", {"gate", "add", "east-9"});
  EXPECT_NE(change.exit_code, 0);
  EXPECT_NE(change.err.find("register gate was not applied: the audit log could not be written"),
            std::string::npos)
      << change.err;
  EXPECT_NE(daemon_->log().find("register gate refused: its audit entry could not be written"),
            std::string::npos);
  RunResult health = Ctl("admin", {"health-code", "set", "S1", "red", "--source", "clinic"});
  EXPECT_NE(health.exit_code, 0);
  EXPECT_NE(health.err.find("was not applied"), std::string::npos) << health.err;
  // Nor is a copy of everything handed out unrecorded.
  RunResult backup = Ctl("admin", {"backup", dir_ + "/copy.db"});
  EXPECT_NE(backup.exit_code, 0);
  EXPECT_NE(backup.err.find("no backup: the audit log could not be written"), std::string::npos)
      << backup.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/copy.db"));
  // Reads that are not personal data still answer, and the daemon serves
  // on: no gate was registered, S1's health is unchanged.
  grpc::ClientContext ctx;
  v1::ListGatesResponse gates;
  ASSERT_TRUE(v1::AdminService::NewStub(As("admin"))->ListGates(&ctx, {}, &gates).ok());
  EXPECT_EQ(gates.gates_size(), 0);
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(seconds(30))), 0);
  EXPECT_EQ(CountRows(daemon_->db_path(), "SELECT count(*) FROM health_records"), 0);
  EXPECT_EQ(CountRows(daemon_->db_path(), "SELECT count(*) FROM gates"), 0);
  // Every entry that was written still verifies.
  ASSERT_EQ(ExecSql(daemon_->db_path(), "DROP TRIGGER no_audit"), "");
  StartDaemon();
  EXPECT_EQ(Ctl("auditor", {"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace cordon::testing
