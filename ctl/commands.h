// cordonctl's commands. Each returns the process exit code: 0 success, 1 the
// daemon refused or failed the request (message on stderr), 2 bad usage.
// Tables go to stdout for people; --json prints the daemon's reply as JSON
// for programs.
#pragma once

#include <chrono>
#include <ostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>

#include "cordon/v1/admin.grpc.pb.h"
#include "cordon/v1/audit.grpc.pb.h"
#include "cordon/v1/security.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "console/text.h"
#include "core/time.h"

namespace cordon::ctl {

enum ExitCode : int { kOk = 0, kFailed = 1, kUsage = 2 };

struct Options {
  std::string daemon = "127.0.0.1:7400";
  // Mutual TLS with this operator's certificate; null: plain text (--insecure).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  bool json = false;
  int timeout_s = 30;
};

class Commands {
 public:
  Commands(Options options, std::ostream& out, std::ostream& err);

  int GateAdd(const std::string& gate_id, const std::string& description);
  int GateList();

  struct PersonFields {
    std::string external_id, name, category, cohort, valid_until;
    std::vector<std::string> credentials;
    bool inactive = false;
  };
  int PersonAdd(const PersonFields& f);
  int PersonList(const std::string& category, const std::string& cohort, int limit);
  int PersonShow(const std::string& person);
  int PersonSetActive(const std::string& person, bool active);

  int RosterImport(const std::string& path, bool skip_bad_rows, bool dry_run);

  int QuarantineSet(const std::string& person, const std::string& from, const std::string& until,
                    const std::string& reason);
  int QuarantineClear(const std::string& person);
  int PassIssue(const std::string& person, const std::string& host, const std::string& from,
                const std::string& until);

  // Campus policy document and mode.
  int PolicyApply(const std::string& path, bool dry_run);
  int PolicyShow(int64_t version);
  int PolicySimulate(const std::string& path, int days, bool decisions);
  int PolicyHistory();
  int PolicyRollback(int64_t version);
  int ModeSet(const std::string& mode);
  int HealthSet(const std::string& person, const std::string& colour, const std::string& source,
                const std::string& at);
  int LeaveGrant(const std::string& person, const std::string& from, const std::string& until,
                 const std::string& return_by, const std::string& reason,
                 const std::string& approved_by);
  int Disinfect(const std::string& person, const std::string& at, const std::string& by);

  // The security office (office.cc). Output formats: table (default), json,
  // csv, and for tracing dot (Graphviz).
  struct MovementFlags {
    std::string person, gate, zone, from, to;
    std::string decision;  // "", allowed, denied
    int limit = 1000;      // 0: all
    std::string format = "table";
  };
  int Movements(const MovementFlags& f);
  int Presence(const std::string& zone);
  int Stays(const std::string& person, const std::string& zone, const std::string& from,
            const std::string& to, const std::string& format);
  struct TraceFlags {
    std::string person, from, to, case_reference;
    int min_minutes = 15;
    bool second_generation = false;
    bool ruled_out = false;
    std::string format = "table";
  };
  int Trace(const TraceFlags& f);
  int Occupancy(const std::string& at, const std::string& zone, bool people);
  // Prints scans as they are recorded until interrupted (or --count reached).
  int Watch(const MovementFlags& f, int count);
  int ReportDaily(const std::string& date);
  struct AlertFlags {
    std::vector<std::string> kinds;  // "separation_attempt", ...
    std::string min_severity;        // info, warning, critical
    std::string person, gate;
    bool open_only = false;          // not yet acknowledged
  };
  int Alerts(const std::string& from, const std::string& to, int limit, const AlertFlags& f);
  // Prints alerts as they are raised until interrupted (or --count reached).
  int AlertsWatch(const AlertFlags& f, int64_t since_id, int count);
  int AlertsAck(int64_t id, const std::string& operator_name);

  // Operations.
  int Backup(const std::string& path);
  int Health();

  // The audit log (auditor role).
  int AuditList(const std::string& from, const std::string& to, const std::string& actor,
                int limit);
  // Exit 0 when the chain is intact; 1 naming each edited or deleted entry.
  int AuditVerify();

 private:
  std::unique_ptr<grpc::ClientContext> Context(int timeout_s = 0) const;
  int Fail(const grpc::Status& status) const;
  int Usage(const std::string& message) const;
  void PrintJson(const google::protobuf::Message& message) const;
  // Parses an optional time flag; empty -> nullopt. Errors go to stderr.
  bool ParseTimeFlag(const std::string& flag, const std::string& value,
                     std::optional<TimePoint>& out) const;

  // Reads a live stream until `count` messages (0: until the daemon ends
  // it), printing each as a JSON line or with `print`.
  template <typename Message, typename Reader, typename Print>
  int Follow(grpc::ClientContext& ctx, Reader& reader, int count, Print print) {
    Message m;
    int seen = 0;
    while ((count <= 0 || seen < count) && reader.Read(&m)) {
      ++seen;
      if (options_.json) {
        PrintJson(m);  // one object per line
      } else {
        print(m);
      }
      out_ << std::flush;
    }
    if (count > 0 && seen >= count) {
      ctx.TryCancel();
      return kOk;
    }
    grpc::Status st = reader.Finish();
    return st.ok() ? kOk : Fail(st);
  }

  bool ToFilter(const AlertFlags& f, v1::AlertFilter* out) const;
  void PrintAlertRow(const v1::Alert& a, console::Table& t) const;
  int PrintPolicyChange(const v1::ApplyPolicyResponse& resp, bool dry_run) const;
  bool CheckFormat(const std::string& format, std::initializer_list<const char*> allowed) const;

  Options options_;
  std::ostream& out_;
  std::ostream& err_;
  TimePoint now_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::SecurityService::Stub> security_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

}  // namespace cordon::ctl
