// A campus under test: a real cordond process on 127.0.0.1 (port 0 the
// first time, the same port after a restart), real cordon-gate processes,
// gRPC stubs for setting up people, and readers of the real database file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "cordon/v1/admin.grpc.pb.h"
#include "cordon/v1/gate.grpc.pb.h"
#include "cordon/v1/security.grpc.pb.h"
#include "tests/support/process.h"

namespace cordon::testing {

std::string CordondPath();
std::string CordonGatePath();
std::string CordonctlPath();

class DaemonUnderTest {
 public:
  // Data and logs live under `dir`.
  explicit DaemonUnderTest(std::string dir);
  ~DaemonUnderTest();

  // Starts cordond and waits until it serves (its port file appears).
  void Start(std::vector<std::string> extra_args = {});
  void Signal(int sig) { process_->Signal(sig); }
  std::optional<int> Wait(Deadline deadline) { return process_->Wait(deadline); }
  bool Running() { return process_ && process_->Running(); }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  std::string db_path() const { return dir_ + "/data/cordon.db"; }
  std::string log() const { return ReadFile(dir_ + "/cordond.log"); }
  std::shared_ptr<grpc::Channel> channel();
  v1::AdminService::Stub& admin();
  v1::SecurityService::Stub& security();

  // Setup through the admin API; each asserts success.
  void RegisterGate(const std::string& gate_id);
  void AddPerson(const std::string& external_id, v1::PersonCategory category,
                 const std::string& credential, bool inactive = false);
  // Orders `external_id` into quarantine from now for `days`.
  void Quarantine(const std::string& external_id, int days);
  // Imports n students "S0".."S<n-1>" with credentials "CARD-S0".. in one roster.
  void ImportStudents(int n);

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::SecurityService::Stub> security_;
};

// One line of a gate's --json output with "event":"decision".
struct ShownDecision {
  uint64_t seq = 0;
  std::string credential;
  std::string direction;
  bool allowed = false;
  std::string reason;
  bool actuated = false;
  bool late = false;
  bool offline = false;  // decided by the gate itself
};

// The decisions in a gate's --json output, in order.
std::vector<ShownDecision> ParseDecisions(const std::string& output);

// One agent's output files; restarting the same object appends to them.
class GateUnderTest {
 public:
  GateUnderTest(std::string dir, std::string gate_id);

  // Runs cordon-gate on `input` (a file of scan lines) with --json.
  void Start(const std::string& daemon_address, const std::string& input,
             std::vector<std::string> extra_args = {});
  void Signal(int sig) { process_->Signal(sig); }
  std::optional<int> Wait(Deadline deadline) { return process_->Wait(deadline); }

  std::vector<ShownDecision> Decisions() const;
  std::string output() const { return ReadFile(out_path_); }
  std::string errors() const { return ReadFile(err_path_); }
  std::string outbox_path() const { return outbox_; }
  const std::string& gate_id() const { return gate_id_; }

 private:
  std::string dir_, gate_id_, outbox_, out_path_, err_path_;
  std::unique_ptr<Process> process_;
};

// cordon-gate --json reading scanner lines over TCP (it runs until
// signalled), and one scanner connected to it: a barcode reader writing
// "CREDENTIAL in|out" lines.
class ScannerGate {
 public:
  ScannerGate(const std::string& dir, const std::string& gate_id,
              const std::string& daemon_address, std::vector<std::string> extra_args = {});
  ~ScannerGate();
  void Send(const std::string& lines);
  // Sends "CARD in|out" and waits (20 s at most) for the decision the gate
  // shows; nullopt (and a test failure) if none came.
  std::optional<ShownDecision> Scan(const std::string& card, const std::string& direction);
  Process& process() { return *process_; }
  const std::string& out_path() const { return out_path_; }
  std::string output() const { return ReadFile(out_path_); }
  std::string errors() const { return ReadFile(err_path_); }
  std::vector<ShownDecision> Decisions() const { return ParseDecisions(output()); }

 private:
  std::string out_path_, err_path_;
  std::unique_ptr<Process> process_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
};

// A row of the events table, read from the database file.
struct EventRow {
  std::string gate_id;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  std::string person;  // external id; empty for an unknown credential
  int direction = 0;
  bool allowed = false;
  std::string reason;  // e.g. "ALLOW_STUDENT"
  int source = 0;
};
std::vector<EventRow> ReadEvents(const std::string& db_path);
int64_t CountRows(const std::string& db_path, const std::string& table);
// The first column of the first row of `sql` (-1 if none), read-only.
int64_t QueryInt(const std::string& db_path, const std::string& sql);
// Runs `sql` on the file directly (as someone with disk access would); the
// error text, or "" on success.
std::string ExecSql(const std::string& db_path, const std::string& sql);

// Runs cordonctl against `daemon`, in `dir`.
RunResult Cordonctl(const DaemonUnderTest& daemon, std::vector<std::string> args,
                    const std::string& dir);

// Writes `lines` to `path`, one per line.
void WriteLines(const std::string& path, const std::vector<std::string>& lines);

}  // namespace cordon::testing
