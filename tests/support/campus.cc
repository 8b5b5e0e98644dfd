#include "tests/support/campus.h"

#include <algorithm>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <sstream>

namespace cordon::testing {

std::string CordondPath() { return CORDOND_PATH; }
std::string CordonGatePath() { return CORDON_GATE_PATH; }
std::string CordonctlPath() { return CORDONCTL_PATH; }

DaemonUnderTest::DaemonUnderTest(std::string dir) : dir_(std::move(dir)) {}

DaemonUnderTest::~DaemonUnderTest() = default;

void DaemonUnderTest::Start(std::vector<std::string> extra_args) {
  std::string port_file = dir_ + "/cordond.port";
  std::filesystem::remove(port_file);
  std::vector<std::string> argv = {CordondPath(), "--listen",
                                   "127.0.0.1:" + std::to_string(port_), "--data-dir",
                                   dir_ + "/data", "--port-file", port_file};
  // Plain text unless the test brings certificates (tests/integration/security_test.cc).
  if (std::find(extra_args.begin(), extra_args.end(), "--tls-ca") == extra_args.end()) {
    argv.push_back("--insecure");
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, dir_ + "/cordond.out", dir_ + "/cordond.log");
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(port_file) || !process_->Running(); },
                      In(std::chrono::seconds(30))))
      << "cordond did not start:\n" << log();
  ASSERT_TRUE(process_->Running()) << "cordond exited:\n" << log();
  port_ = std::stoi(ReadFile(port_file));
  channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  admin_ = v1::AdminService::NewStub(channel_);
  security_ = v1::SecurityService::NewStub(channel_);
}

std::shared_ptr<grpc::Channel> DaemonUnderTest::channel() { return channel_; }
v1::AdminService::Stub& DaemonUnderTest::admin() { return *admin_; }
v1::SecurityService::Stub& DaemonUnderTest::security() { return *security_; }

void DaemonUnderTest::RegisterGate(const std::string& gate_id) {
  grpc::ClientContext ctx;
  v1::RegisterGateRequest req;
  req.set_gate_id(gate_id);
  v1::Gate gate;
  auto st = admin_->RegisterGate(&ctx, req, &gate);
  ASSERT_TRUE(st.ok()) << st.error_message();
}

void DaemonUnderTest::Quarantine(const std::string& external_id, int days) {
  grpc::ClientContext ctx;
  v1::SetQuarantineRequest req;
  req.set_person(external_id);
  *req.mutable_ends_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
  req.mutable_ends_at()->set_seconds(req.ends_at().seconds() + int64_t{days} * 86400);
  v1::QuarantineOrder order;
  auto st = admin_->SetQuarantine(&ctx, req, &order);
  ASSERT_TRUE(st.ok()) << st.error_message();
}

ScannerGate::ScannerGate(const std::string& dir, const std::string& gate_id,
                         const std::string& daemon_address, std::vector<std::string> extra_args)
    : out_path_(dir + "/" + gate_id + ".out"), err_path_(dir + "/" + gate_id + ".err") {
  std::vector<std::string> argv = {CordonGatePath(), "--gate-id", gate_id, "--daemon",
                                   daemon_address, "--outbox", dir + "/" + gate_id + ".outbox.db",
                                   "--json", "--scanner-listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, out_path_, err_path_);
  const std::string marker = "listening for scanners on 127.0.0.1:";
  int port = 0;
  EXPECT_TRUE(WaitFor([&] {
    auto text = ReadFile(err_path_);
    auto at = text.find(marker);
    if (at == std::string::npos) return false;
    port = std::atoi(text.c_str() + at + marker.size());
    return port > 0;
  }, In(std::chrono::seconds(20)))) << ReadFile(err_path_);
  if (port > 0) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  }
}

ScannerGate::~ScannerGate() = default;

void ScannerGate::Send(const std::string& lines) {
  boost::asio::write(socket_, boost::asio::buffer(lines));
}

std::optional<ShownDecision> ScannerGate::Scan(const std::string& card,
                                               const std::string& direction) {
  size_t before = Decisions().size();
  Send(card + " " + direction + "\n");
  bool shown = WaitFor([&] { return Decisions().size() == before + 1; },
                       In(std::chrono::seconds(20)));
  EXPECT_TRUE(shown) << card << " " << direction << "\n" << output();
  if (!shown) return std::nullopt;
  return Decisions().back();
}

RunResult Cordonctl(const DaemonUnderTest& daemon, std::vector<std::string> args,
                    const std::string& dir) {
  args.insert(args.begin(), {CordonctlPath(), "--daemon", daemon.address()});
  return Run(args, dir);
}

void DaemonUnderTest::AddPerson(const std::string& external_id, v1::PersonCategory category,
                                const std::string& credential, bool inactive) {
  grpc::ClientContext ctx;
  v1::AddPersonRequest req;
  req.set_external_id(external_id);
  req.set_name("Person " + external_id);
  req.set_category(category);
  req.add_credentials(credential);
  req.set_inactive(inactive);
  v1::Person person;
  auto st = admin_->AddPerson(&ctx, req, &person);
  ASSERT_TRUE(st.ok()) << st.error_message();
}

void DaemonUnderTest::ImportStudents(int n) {
  grpc::ClientContext ctx;
  v1::ImportRosterReport report;
  auto writer = admin_->ImportRoster(&ctx, &report);
  v1::ImportRosterChunk chunk;
  for (int i = 0; i < n; ++i) {
    v1::RosterRow* row = chunk.add_rows();
    row->set_line(i + 2);
    row->set_external_id("S" + std::to_string(i));
    row->set_name("Student " + std::to_string(i));
    row->set_category("student");
    row->add_credentials("CARD-S" + std::to_string(i));
    row->set_active(true);
  }
  ASSERT_TRUE(writer->Write(chunk));
  writer->WritesDone();
  auto st = writer->Finish();
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(report.applied());
  ASSERT_EQ(report.added(), n);
}

namespace {
int NextInstance() {
  static int n = 0;
  return n++;
}
}  // namespace

GateUnderTest::GateUnderTest(std::string dir, std::string gate_id)
    : dir_(std::move(dir)),
      gate_id_(std::move(gate_id)),
      outbox_(dir_ + "/" + gate_id_ + ".outbox.db"),
      out_path_(dir_ + "/" + gate_id_ + "." + std::to_string(NextInstance()) + ".out"),
      err_path_(dir_ + "/" + gate_id_ + "." + std::to_string(NextInstance()) + ".err") {}

void GateUnderTest::Start(const std::string& daemon_address, const std::string& input,
                          std::vector<std::string> extra_args) {
  std::vector<std::string> argv = {CordonGatePath(), "--gate-id", gate_id_, "--daemon",
                                   daemon_address,   "--outbox",  outbox_,  "--input",
                                   input,            "--json",    "--initial-backoff-ms", "50",
                                   "--max-backoff-ms", "400"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, out_path_, err_path_);
}

std::vector<ShownDecision> GateUnderTest::Decisions() const { return ParseDecisions(output()); }

std::vector<ShownDecision> ParseDecisions(const std::string& output) {
  std::vector<ShownDecision> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    google::protobuf::Struct obj;
    if (!google::protobuf::util::JsonStringToMessage(line, &obj).ok()) continue;  // cut by a kill
    const auto& f = obj.fields();
    auto event = f.find("event");
    if (event == f.end() || event->second.string_value() != "decision") continue;
    ShownDecision d;
    d.seq = static_cast<uint64_t>(f.at("seq").number_value());
    d.credential = f.at("credential").string_value();
    d.direction = f.at("direction").string_value();
    d.allowed = f.at("allowed").bool_value();
    d.reason = f.at("reason").string_value();
    d.actuated = f.at("actuated").bool_value();
    d.late = f.at("late").bool_value();
    if (auto src = f.find("source"); src != f.end()) {
      d.offline = src->second.string_value() == "gate_offline";
    }
    out.push_back(d);
  }
  return out;
}

namespace {

std::string ReasonName(int code) { return v1::Reason_Name(static_cast<v1::Reason>(code)); }

}  // namespace

std::vector<EventRow> ReadEvents(const std::string& db_path) {
  std::vector<EventRow> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT g.gate_id, e.incarnation, e.seq, coalesce(p.external_id, ''), "
                     "e.direction, e.allowed, e.reason, e.source FROM events e "
                     "JOIN gates g ON g.id = e.gate_id LEFT JOIN people p ON p.id = e.person_id "
                     "ORDER BY e.id",
                     -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    EventRow r;
    r.gate_id = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    r.incarnation = static_cast<uint64_t>(sqlite3_column_int64(stmt, 1));
    r.seq = static_cast<uint64_t>(sqlite3_column_int64(stmt, 2));
    r.person = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    r.direction = sqlite3_column_int(stmt, 4);
    r.allowed = sqlite3_column_int(stmt, 5) != 0;
    r.reason = ReasonName(sqlite3_column_int(stmt, 6));
    r.source = sqlite3_column_int(stmt, 7);
    rows.push_back(r);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return n;
}

std::string ExecSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open " + db_path;
  }
  char* err = nullptr;
  std::string out;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) out = err ? err : "error";
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

int64_t CountRows(const std::string& db_path, const std::string& table) {
  return QueryInt(db_path, "SELECT count(*) FROM " + table);
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  WriteFile(path, text);
}

}  // namespace cordon::testing
