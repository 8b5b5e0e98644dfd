#include "ctl/commands.h"

#include "cordon/v1/audit.grpc.pb.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "console/text.h"
#include "console/time_text.h"
#include "core/credential.h"
#include "core/engine.h"
#include "core/model.h"
#include "ctl/format.h"
#include "ctl/roster_file.h"

namespace cordon::ctl {
namespace {

using console::FormatLocal;
using console::Table;
using google::protobuf::util::TimeUtil;

const char* StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "ERROR";
  }
}

std::optional<v1::PersonCategory> CategoryFromText(const std::string& text) {
  auto c = ParseCategory(text);
  if (!c) return std::nullopt;
  return static_cast<v1::PersonCategory>(*c);
}

}  // namespace

Commands::Commands(Options options, std::ostream& out, std::ostream& err)
    : options_(std::move(options)), out_(out), err_(err), now_(SystemClock().Now()) {
  channel_ = grpc::CreateChannel(options_.daemon, options_.credentials
                                                      ? options_.credentials
                                                      : grpc::InsecureChannelCredentials());
  audit_ = v1::AuditService::NewStub(channel_);
  admin_ = v1::AdminService::NewStub(channel_);
  security_ = v1::SecurityService::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Commands::Context(int timeout_s) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(timeout_s > 0 ? timeout_s : options_.timeout_s));
  return ctx;
}

int Commands::Fail(const grpc::Status& status) const {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    err_ << "cordonctl: cannot reach cordond at " << options_.daemon << ": "
         << status.error_message() << "\n";
  } else {
    err_ << "cordonctl: " << status.error_message() << " (" << StatusCodeName(status.error_code())
         << ")\n";
  }
  return kFailed;
}

int Commands::Usage(const std::string& message) const {
  err_ << "cordonctl: " << message << "\n";
  return kUsage;
}

void Commands::PrintJson(const google::protobuf::Message& message) const {
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;
  opts.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, opts);
  out_ << json << "\n";
}

bool Commands::ParseTimeFlag(const std::string& flag, const std::string& value,
                             std::optional<TimePoint>& out) const {
  if (value.empty()) return true;
  auto t = console::ParseTime(value, now_);
  if (!t.ok()) {
    err_ << "cordonctl: " << flag << ": " << t.status().message() << "\n";
    return false;
  }
  out = *t;
  return true;
}

// ---------------------------------------------------------------- gates

int Commands::GateAdd(const std::string& gate_id, const std::string& description) {
  v1::RegisterGateRequest req;
  req.set_gate_id(gate_id);
  req.set_description(description);
  v1::Gate gate;
  auto ctx = Context();
  if (auto st = admin_->RegisterGate(ctx.get(), req, &gate); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(gate);
  } else {
    out_ << "gate " << gate.gate_id() << " registered\n";
  }
  return kOk;
}

int Commands::GateList() {
  v1::ListGatesResponse resp;
  auto ctx = Context();
  if (auto st = admin_->ListGates(ctx.get(), {}, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
    return kOk;
  }
  Table t({"GATE", "CONNECTED", "LAST SEEN", "REGISTERED", "DESCRIPTION"});
  for (const auto& g : resp.gates()) {
    t.AddRow({g.gate_id(), g.connected() ? "yes" : "no", When(g.last_seen(), g.has_last_seen()),
              When(g.registered_at(), g.has_registered_at()), g.description()});
  }
  t.Print(out_);
  return kOk;
}

// ---------------------------------------------------------------- people

int Commands::PersonAdd(const PersonFields& f) {
  v1::AddPersonRequest req;
  req.set_external_id(f.external_id);
  req.set_name(f.name);
  auto category = CategoryFromText(f.category);
  if (!category) {
    return Usage("--category: '" + f.category +
                 "' is not one of resident_staff, student, single_visit, contractor, vehicle, delivery");
  }
  req.set_category(*category);
  req.set_cohort(f.cohort);
  for (const auto& c : f.credentials) req.add_credentials(c);
  std::optional<TimePoint> until;
  if (!ParseTimeFlag("--valid-until", f.valid_until, until)) return kUsage;
  if (until) *req.mutable_valid_until() = ToTs(*until);
  req.set_inactive(f.inactive);
  v1::Person person;
  auto ctx = Context();
  if (auto st = admin_->AddPerson(ctx.get(), req, &person); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(person);
  } else {
    out_ << "person " << person.external_id() << " (" << CategoryText(person.category())
         << ") added with " << person.credential_count() << " credential(s)\n";
  }
  return kOk;
}

int Commands::PersonList(const std::string& category, const std::string& cohort, int limit) {
  v1::ListPeopleRequest req;
  if (!category.empty()) {
    auto c = CategoryFromText(category);
    if (!c) return Usage("--category: '" + category + "' is not a category");
    req.set_category(*c);
  }
  req.set_cohort(cohort);
  v1::ListPeopleResponse all;
  for (;;) {
    int want = limit > 0 ? limit - all.people_size() : 10'000;
    req.set_page_size(std::min(want, 10'000));
    v1::ListPeopleResponse page;
    auto ctx = Context();
    if (auto st = admin_->ListPeople(ctx.get(), req, &page); !st.ok()) return Fail(st);
    all.set_total(page.total());
    for (auto& p : *page.mutable_people()) *all.add_people() = std::move(p);
    if (page.next_page_token().empty() || (limit > 0 && all.people_size() >= limit)) {
      all.set_next_page_token(page.next_page_token());
      break;
    }
    req.set_page_token(page.next_page_token());
  }
  if (options_.json) {
    PrintJson(all);
    return kOk;
  }
  Table t({"EXTERNAL ID", "NAME", "CATEGORY", "COHORT", "ACTIVE", "VALID UNTIL", "CREDENTIALS"});
  for (const auto& p : all.people()) {
    t.AddRow({p.external_id(), p.name(), CategoryText(p.category()), p.cohort(),
              p.active() ? "yes" : "no", When(p.valid_until(), p.has_valid_until()),
              std::to_string(p.credential_count())});
  }
  t.Print(out_);
  out_ << all.people_size() << " of " << all.total() << " people";
  if (all.people_size() < all.total()) out_ << " (use --limit 0 for all)";
  out_ << "\n";
  return kOk;
}

int Commands::PersonShow(const std::string& person) {
  v1::GetPersonRequest req;
  req.set_person(person);
  v1::PersonDetail d;
  auto ctx = Context();
  if (auto st = admin_->GetPerson(ctx.get(), req, &d); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(d);
    return kOk;
  }
  const v1::Person& p = d.person();
  out_ << p.external_id() << "  " << p.name() << "\n";
  Table facts({"FIELD", "VALUE"});
  facts.AddRow({"category", CategoryText(p.category())});
  facts.AddRow({"cohort", p.cohort().empty() ? "-" : p.cohort()});
  facts.AddRow({"active", p.active() ? "yes" : "no"});
  facts.AddRow({"valid until", When(p.valid_until(), p.has_valid_until())});
  facts.AddRow({"credentials", std::to_string(p.credential_count())});
  facts.AddRow({"on campus", d.on_campus() ? "yes, since " + FormatLocal(FromTs(d.on_campus_since()))
                                           : "no"});
  facts.Print(out_);
  if (d.quarantines_size() > 0) {
    out_ << "\nQuarantine orders\n";
    Table t({"ID", "FROM", "UNTIL", "STATUS", "REASON"});
    for (const auto& q : d.quarantines()) {
      TimePoint ends = FromTs(q.ends_at());
      std::string status = q.has_cleared_at() ? "cleared " + FormatLocal(FromTs(q.cleared_at()))
                           : ends <= now_      ? "ended"
                           : FromTs(q.starts_at()) > now_ ? "pending"
                                                          : "in force";
      t.AddRow({std::to_string(q.id()), FormatLocal(FromTs(q.starts_at())), FormatLocal(ends),
                status, q.reason()});
    }
    t.Print(out_);
  }
  if (d.passes_size() > 0) {
    out_ << "\nSingle-visit passes\n";
    Table t({"ID", "HOST", "FROM", "UNTIL", "ENTERED", "EXITED"});
    for (const auto& s : d.passes()) {
      t.AddRow({std::to_string(s.id()), s.host(), FormatLocal(FromTs(s.valid_from())),
                FormatLocal(FromTs(s.valid_until())), When(s.entered_at(), s.has_entered_at()),
                When(s.exited_at(), s.has_exited_at())});
    }
    t.Print(out_);
  }
  return kOk;
}

int Commands::PersonSetActive(const std::string& person, bool active) {
  v1::SetPersonActiveRequest req;
  req.set_person(person);
  req.set_active(active);
  v1::Person p;
  auto ctx = Context();
  if (auto st = admin_->SetPersonActive(ctx.get(), req, &p); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(p);
  } else {
    out_ << "person " << p.external_id() << " is now " << (p.active() ? "active" : "inactive")
         << "\n";
  }
  return kOk;
}

// ---------------------------------------------------------------- roster

int Commands::RosterImport(const std::string& path, bool skip_bad_rows, bool dry_run) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Usage("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto file = ReadRosterCsv(ss.str(), now_);
  if (!file.ok()) {
    err_ << "cordonctl: " << path << ": " << file.status().message() << "\n";
    return kFailed;
  }
  // With bad rows and no --skip-bad-rows, still ask the daemon (dry run) so
  // the report lists every problem at once.
  bool client_problems = !file->problems.empty();
  bool daemon_dry_run = dry_run || (client_problems && !skip_bad_rows);
  bool progress = !options_.json && isatty(STDERR_FILENO);

  v1::ImportRosterReport report;
  auto ctx = Context(600);
  auto writer = admin_->ImportRoster(ctx.get(), &report);
  constexpr int kChunk = 1000;
  size_t sent = 0;
  bool stream_ok = true;
  do {
    v1::ImportRosterChunk chunk;
    chunk.set_skip_bad_rows(skip_bad_rows);
    chunk.set_dry_run(daemon_dry_run);
    for (int i = 0; i < kChunk && sent < file->rows.size(); ++i, ++sent) {
      *chunk.add_rows() = file->rows[sent];
    }
    if (!writer->Write(chunk)) {
      stream_ok = false;
      break;
    }
    if (progress) err_ << "\rsent " << sent << " of " << file->rows.size() << " rows" << std::flush;
  } while (sent < file->rows.size());
  if (progress) err_ << "\n";
  if (stream_ok) writer->WritesDone();
  if (auto st = writer->Finish(); !st.ok()) return Fail(st);

  for (const auto& p : file->problems) *report.add_problems() = p;
  std::sort(report.mutable_problems()->begin(), report.mutable_problems()->end(),
            [](const auto& a, const auto& b) { return a.line() < b.line(); });
  report.set_rows_received(static_cast<int32_t>(file->rows.size() + file->problems.size()));
  if (options_.json) {
    PrintJson(report);
  } else {
    out_ << "Roster " << path << ": " << report.rows_received() << " row(s) read";
    if (report.applied()) {
      out_ << "; " << report.added() << " added, " << report.updated()
           << " updated (policy v" << report.policy_version() << ")";
    }
    out_ << "; " << report.problems_size() << " rejected\n";
    if (report.problems_size() > 0) {
      Table t({"LINE", "FIELD", "PROBLEM"});
      for (const auto& p : report.problems()) {
        t.AddRow({std::to_string(p.line()), p.field().empty() ? "-" : p.field(), p.message()});
      }
      t.Print(out_);
    }
    if (!report.applied()) {
      if (dry_run) {
        out_ << "Dry run: nothing was imported.\n";
      } else if (report.problems_size() > 0) {
        out_ << "Nothing was imported: fix the rows above, or use --skip-bad-rows to import the "
                "good ones.\n";
      }
    }
  }
  bool failed = report.problems_size() > 0 && !(report.applied() && skip_bad_rows);
  return failed ? kFailed : kOk;
}

// ---------------------------------------------------------------- quarantine, passes

int Commands::QuarantineSet(const std::string& person, const std::string& from,
                            const std::string& until, const std::string& reason) {
  v1::SetQuarantineRequest req;
  req.set_person(person);
  req.set_reason(reason);
  std::optional<TimePoint> starts, ends;
  if (!ParseTimeFlag("--from", from, starts) || !ParseTimeFlag("--until", until, ends)) {
    return kUsage;
  }
  if (!ends) return Usage("--until is required");
  if (starts) *req.mutable_starts_at() = ToTs(*starts);
  *req.mutable_ends_at() = ToTs(*ends);
  v1::QuarantineOrder order;
  auto ctx = Context();
  if (auto st = admin_->SetQuarantine(ctx.get(), req, &order); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(order);
  } else {
    out_ << "quarantine order " << order.id() << " for " << order.person() << ": entry denied "
         << FormatLocal(FromTs(order.starts_at())) << " to " << FormatLocal(FromTs(order.ends_at()))
         << "\n";
  }
  return kOk;
}

int Commands::QuarantineClear(const std::string& person) {
  v1::ClearQuarantineRequest req;
  req.set_person(person);
  v1::ClearQuarantineResponse resp;
  auto ctx = Context();
  if (auto st = admin_->ClearQuarantine(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
  } else {
    out_ << resp.cleared_size() << " quarantine order(s) of " << person << " cleared\n";
  }
  return kOk;
}

int Commands::PassIssue(const std::string& person, const std::string& host,
                        const std::string& from, const std::string& until) {
  v1::IssuePassRequest req;
  req.set_person(person);
  req.set_host(host);
  std::optional<TimePoint> valid_from, valid_until;
  if (!ParseTimeFlag("--from", from, valid_from) || !ParseTimeFlag("--until", until, valid_until)) {
    return kUsage;
  }
  if (!valid_until) return Usage("--until is required");
  if (valid_from) *req.mutable_valid_from() = ToTs(*valid_from);
  *req.mutable_valid_until() = ToTs(*valid_until);
  v1::SingleVisitPass pass;
  auto ctx = Context();
  if (auto st = admin_->IssuePass(ctx.get(), req, &pass); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(pass);
  } else {
    out_ << "pass " << pass.id() << " for " << pass.person() << " (host " << pass.host()
         << "): one entry and one exit, entry from " << FormatLocal(FromTs(pass.valid_from()))
         << " to " << FormatLocal(FromTs(pass.valid_until())) << "\n";
  }
  return kOk;
}

// ---------------------------------------------------------------- campus policy

int Commands::PrintPolicyChange(const v1::ApplyPolicyResponse& resp, bool dry_run) const {
  if (options_.json) {
    PrintJson(resp);
    return kOk;
  }
  if (resp.changes_size() == 0) out_ << "no changes\n";
  for (const auto& line : resp.changes()) out_ << "  " << line << "\n";
  if (dry_run) {
    out_ << "dry run: nothing applied (mode would be " << resp.mode() << ")\n";
  } else if (resp.applied()) {
    out_ << "policy v" << resp.version() << " in force, mode " << resp.mode() << "\n";
  } else {
    out_ << "nothing to do: mode " << resp.mode() << " already in force\n";
  }
  return kOk;
}

int Commands::PolicyApply(const std::string& path, bool dry_run) {
  std::ifstream in(path);
  if (!in) return Usage("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  v1::ApplyPolicyRequest req;
  req.set_document(text.str());
  req.set_dry_run(dry_run);
  v1::ApplyPolicyResponse resp;
  auto ctx = Context();
  if (auto st = admin_->ApplyPolicy(ctx.get(), req, &resp); !st.ok()) {
    if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      // One line per error, each named by file and line, as compilers do.
      std::string message = st.error_message();
      std::istringstream lines(message);
      std::string line;
      std::getline(lines, line);
      err_ << "cordonctl: " << path << ": " << line.substr(line.find(' ') + 1) << "\n";
      while (std::getline(lines, line)) {
        if (line.rfind("line ", 0) == 0) {
          size_t colon = line.find(':');
          err_ << path << ":" << line.substr(5, colon - 5) << ":" << line.substr(colon + 1) << "\n";
        } else if (!line.empty()) {
          err_ << path << ": " << line << "\n";
        }
      }
      return kFailed;
    }
    return Fail(st);
  }
  return PrintPolicyChange(resp, dry_run);
}

int Commands::PolicySimulate(const std::string& path, int days, bool decisions) {
  std::ifstream in(path);
  if (!in) return Usage("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  v1::SimulatePolicyRequest req;
  req.set_document(text.str());
  req.set_days(days);
  req.set_with_decisions(decisions || options_.json);
  v1::SimulatePolicyResponse resp;
  if (!options_.json) out_ << "replaying " << days << " day(s) of recorded scans...\n" << std::flush;
  auto ctx = Context(600);
  if (auto st = admin_->SimulatePolicy(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
    return kOk;
  }
  out_ << resp.scans() << " scans from " << FormatLocal(FromTs(resp.from())) << " to "
       << FormatLocal(FromTs(resp.to())) << " decided again in mode " << resp.mode() << ": "
       << resp.changed() << " would differ\n";
  Table t({"NEW DENIALS BY REASON", "SCANS"});
  for (const auto& rc : resp.new_denials()) t.AddRow({v1::Reason_Name(rc.reason()), std::to_string(rc.count())});
  if (t.size() > 0) t.Print(out_);
  out_ << "newly allowed: " << resp.new_allows() << "\n"
       << "cross-cohort contacts prevented (separation refusals): " << resp.separations_prevented()
       << "\n";
  if (decisions) {
    Table d({"EVENT", "TIME", "GATE", "PERSON", "DIR", "RECORDED", "CANDIDATE", "RULE"});
    for (const auto& s : resp.decisions()) {
      if (s.recorded() == s.candidate()) continue;
      d.AddRow({std::to_string(s.event_id()), FormatLocal(FromTs(s.at())), s.gate_id(),
                s.person().empty() ? "-" : s.person(), s.direction() == v1::DIRECTION_IN ? "in" : "out",
                v1::Reason_Name(s.recorded()), v1::Reason_Name(s.candidate()), s.rule()});
    }
    d.Print(out_);
  }
  out_ << "nothing was changed\n";
  return kOk;
}

int Commands::PolicyShow(int64_t version) {
  v1::GetPolicyRequest req;
  req.set_version(version);
  v1::PolicyDocument doc;
  auto ctx = Context();
  if (auto st = admin_->GetPolicy(ctx.get(), req, &doc); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(doc);
    return kOk;
  }
  out_ << "# policy v" << doc.version() << ", mode " << doc.mode() << ", " << doc.change()
       << " at " << FormatLocal(FromTs(doc.applied_at())) << " by " << doc.applied_by() << "\n"
       << doc.document();
  if (!doc.document().empty() && doc.document().back() != '\n') out_ << "\n";
  return kOk;
}

int Commands::PolicyHistory() {
  v1::ListPolicyVersionsResponse resp;
  auto ctx = Context();
  if (auto st = admin_->ListPolicyVersions(ctx.get(), {}, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
    return kOk;
  }
  Table t({"VERSION", "APPLIED", "BY", "MODE", "CHANGE"});
  for (const auto& d : resp.versions()) {
    t.AddRow({"v" + std::to_string(d.version()), FormatLocal(FromTs(d.applied_at())),
              d.applied_by(), d.mode(), d.change()});
  }
  t.Print(out_);
  return kOk;
}

int Commands::PolicyRollback(int64_t version) {
  v1::RollbackPolicyRequest req;
  req.set_version(version);
  v1::ApplyPolicyResponse resp;
  auto ctx = Context();
  if (auto st = admin_->RollbackPolicy(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  return PrintPolicyChange(resp, false);
}

int Commands::ModeSet(const std::string& mode) {
  v1::SetModeRequest req;
  req.set_mode(mode);
  v1::ApplyPolicyResponse resp;
  auto ctx = Context();
  if (auto st = admin_->SetMode(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  return PrintPolicyChange(resp, false);
}

int Commands::HealthSet(const std::string& person, const std::string& colour,
                        const std::string& source, const std::string& at) {
  v1::SetHealthRequest req;
  req.set_person(person);
  auto c = ParseHealthColour(colour);
  if (!c) return Usage("colour must be green, yellow or red, not '" + colour + "'");
  req.set_colour(static_cast<v1::HealthColour>(*c));
  req.set_source(source);
  std::optional<TimePoint> when;
  if (!ParseTimeFlag("--at", at, when)) return kUsage;
  if (when) *req.mutable_at() = ToTs(*when);
  v1::SetHealthResponse resp;
  auto ctx = Context();
  if (auto st = admin_->SetHealth(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
  } else {
    out_ << "health code of " << person << " is " << colour << " (policy v"
         << resp.policy_version() << ")\n";
  }
  return kOk;
}

int Commands::LeaveGrant(const std::string& person, const std::string& from,
                         const std::string& until, const std::string& return_by,
                         const std::string& reason, const std::string& approved_by) {
  v1::GrantLeaveRequest req;
  req.set_person(person);
  req.set_reason(reason);
  req.set_approved_by(approved_by);
  std::optional<TimePoint> f, u, r;
  if (!ParseTimeFlag("--from", from, f) || !ParseTimeFlag("--until", until, u) ||
      !ParseTimeFlag("--return-by", return_by, r)) {
    return kUsage;
  }
  if (!u || !r) return Usage("--until and --return-by are required");
  if (f) *req.mutable_exit_from() = ToTs(*f);
  *req.mutable_exit_until() = ToTs(*u);
  *req.mutable_return_by() = ToTs(*r);
  v1::Leave leave;
  auto ctx = Context();
  if (auto st = admin_->GrantLeave(ctx.get(), req, &leave); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(leave);
  } else {
    out_ << "leave " << leave.id() << " for " << leave.person() << ": one exit "
         << FormatLocal(FromTs(leave.exit_from())) << " to " << FormatLocal(FromTs(leave.exit_until()))
         << ", back by " << FormatLocal(FromTs(leave.return_by())) << "\n";
  }
  return kOk;
}

int Commands::Disinfect(const std::string& person, const std::string& at, const std::string& by) {
  v1::RecordDisinfectionRequest req;
  req.set_person(person);
  req.set_recorded_by(by);
  std::optional<TimePoint> when;
  if (!ParseTimeFlag("--at", at, when)) return kUsage;
  if (when) *req.mutable_at() = ToTs(*when);
  v1::RecordDisinfectionResponse resp;
  auto ctx = Context();
  if (auto st = admin_->RecordDisinfection(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
  } else {
    out_ << person << " disinfected: may enter within the policy's window\n";
  }
  return kOk;
}

// ---------------------------------------------------------------- security office

int Commands::Presence(const std::string& zone) {
  v1::ListPresenceRequest req;
  req.set_zone(zone);
  v1::ListPresenceResponse resp;
  auto ctx = Context();
  if (auto st = security_->ListPresence(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
    return kOk;
  }
  Table t({"EXTERNAL ID", "NAME", "CATEGORY", "COHORT", "ZONE", "SINCE", "GATE"});
  for (const auto& p : resp.people()) {
    t.AddRow({p.person(), p.name(), CategoryText(p.category()), p.cohort(),
              p.zone().empty() ? "-" : p.zone(), FormatLocal(FromTs(p.since())), p.gate_id()});
  }
  t.Print(out_);
  std::map<std::string, int64_t> counts(resp.by_category().begin(), resp.by_category().end());
  out_ << resp.people_size() << (zone.empty() ? " on campus" : " in " + zone);
  const char* sep = ": ";
  for (const auto& [category, n] : counts) {
    out_ << sep << n << " " << category;
    sep = ", ";
  }
  out_ << "\n";
  return kOk;
}

bool Commands::ToFilter(const AlertFlags& f, v1::AlertFilter* out) const {
  for (const auto& name : f.kinds) {
    bool found = false;
    for (AlertKind k : kAllAlertKinds) {
      if (AlertKindName(k) == name) {
        out->add_kinds(static_cast<v1::AlertKind>(k));
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (AlertKind k : kAllAlertKinds) known += (known.empty() ? "" : ", ") + std::string(AlertKindName(k));
      err_ << "cordonctl: --kind: '" << name << "' is not one of " << known << "\n";
      return false;
    }
  }
  if (!f.min_severity.empty()) {
    if (f.min_severity == "info") {
      out->set_min_severity(v1::SEVERITY_INFO);
    } else if (f.min_severity == "warning") {
      out->set_min_severity(v1::SEVERITY_WARNING);
    } else if (f.min_severity == "critical") {
      out->set_min_severity(v1::SEVERITY_CRITICAL);
    } else {
      err_ << "cordonctl: --min-severity: info, warning or critical\n";
      return false;
    }
  }
  out->set_person(f.person);
  out->set_gate_id(f.gate);
  out->set_unacknowledged_only(f.open_only);
  return true;
}

void Commands::PrintAlertRow(const v1::Alert& a, console::Table& t) const {
  std::string severity = v1::Severity_Name(a.severity());
  std::string kind = v1::AlertKind_Name(a.kind());
  t.AddRow({std::to_string(a.id()), FormatLocal(FromTs(a.raised_at())),
            severity.substr(severity.find('_') + 1), kind.substr(std::string("ALERT_KIND_").size()),
            a.person().empty() ? "-" : a.person(), a.gate_id().empty() ? "-" : a.gate_id(),
            a.acknowledged_by().empty() ? "-" : a.acknowledged_by(), a.detail()});
}

int Commands::Alerts(const std::string& from, const std::string& to, int limit,
                     const AlertFlags& f) {
  v1::ListAlertsRequest req;
  std::optional<TimePoint> t_from, t_to;
  if (!ParseTimeFlag("--from", from, t_from) || !ParseTimeFlag("--to", to, t_to)) return kUsage;
  if (!ToFilter(f, req.mutable_filter())) return kUsage;
  if (t_from) *req.mutable_from() = ToTs(*t_from);
  if (t_to) *req.mutable_to() = ToTs(*t_to);
  req.set_page_size(limit > 0 ? std::min(limit, 10'000) : 10'000);
  v1::ListAlertsResponse resp;
  auto ctx = Context();
  if (auto st = security_->ListAlerts(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
    return kOk;
  }
  Table t({"ID", "TIME", "SEVERITY", "KIND", "PERSON", "GATE", "ACKNOWLEDGED BY", "DETAIL"});
  for (const auto& a : resp.alerts()) PrintAlertRow(a, t);
  t.Print(out_);
  out_ << resp.alerts_size() << " alert(s)\n";
  return kOk;
}

int Commands::AlertsWatch(const AlertFlags& f, int64_t since_id, int count) {
  v1::WatchAlertsRequest req;
  if (!ToFilter(f, req.mutable_filter())) return kUsage;
  req.set_since_id(since_id);
  grpc::ClientContext ctx;  // no deadline: it runs until interrupted
  auto reader = security_->WatchAlerts(&ctx, req);
  if (!options_.json) {
    out_ << "watching alerts (Ctrl-C to stop)\n" << std::flush;
  }
  // One line per alert as it comes: a table cannot know its widths ahead.
  return Follow<v1::Alert>(ctx, *reader, count, [this](const v1::Alert& a) {
    std::string kind = v1::AlertKind_Name(a.kind());
    std::string severity = v1::Severity_Name(a.severity());
    out_ << "#" << a.id() << "  " << FormatLocal(FromTs(a.raised_at())) << "  "
         << severity.substr(severity.find('_') + 1) << "  "
         << kind.substr(std::string("ALERT_KIND_").size())
         << (a.person().empty() ? "" : "  " + a.person())
         << (a.gate_id().empty() ? "" : "  at " + a.gate_id())
         << (a.detail().empty() ? "" : "  " + a.detail()) << "\n";
  });
}

int Commands::AlertsAck(int64_t id, const std::string& operator_name) {
  v1::AcknowledgeAlertRequest req;
  req.set_id(id);
  req.set_operator_name(operator_name);
  v1::AcknowledgeAlertResponse resp;
  auto ctx = Context();
  if (auto st = security_->AcknowledgeAlert(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
  } else {
    out_ << "alert " << id << " acknowledged by " << operator_name << "\n";
  }
  return kOk;
}

// ---------------------------------------------------------------- operations

namespace {

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

int Commands::Backup(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) return Usage(path + " already exists; choose a new file name");
  std::string partial = path + ".partial";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) return Usage("cannot write " + partial);
  // A large campus takes a while to copy: no deadline (Ctrl-C stops it).
  auto ctx = std::make_unique<grpc::ClientContext>();
  auto reader = admin_->Backup(ctx.get(), v1::BackupRequest());
  EVP_MD_CTX* digest = EVP_MD_CTX_new();
  EVP_DigestInit_ex(digest, EVP_sha256(), nullptr);
  v1::BackupChunk chunk;
  v1::BackupHeader header;
  std::string sha_from_daemon;
  uint64_t received = 0;
  int shown_percent = -1;
  bool progress = isatty(STDERR_FILENO) != 0;
  while (reader->Read(&chunk)) {
    if (chunk.has_header()) {
      header = chunk.header();
    } else if (chunk.kind_case() == v1::BackupChunk::kData) {
      file.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
      EVP_DigestUpdate(digest, chunk.data().data(), chunk.data().size());
      received += chunk.data().size();
      int percent = header.size_bytes() ? static_cast<int>(received * 100 / header.size_bytes()) : 100;
      if (progress && percent != shown_percent) {
        err_ << "\rbackup: " << percent << "% (" << Megabytes(received) << " of "
             << Megabytes(header.size_bytes()) << ")" << std::flush;
        shown_percent = percent;
      }
    } else if (chunk.has_trailer()) {
      sha_from_daemon = chunk.trailer().sha256_hex();
    }
  }
  if (progress && shown_percent >= 0) err_ << "\n";
  grpc::Status st = reader->Finish();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(digest, md, &len);
  EVP_MD_CTX_free(digest);
  file.close();
  auto discard = [&] { fs::remove(partial, ec); };
  if (!st.ok()) {
    discard();
    return Fail(st);
  }
  std::string sha = HexOf(std::string_view(reinterpret_cast<const char*>(md), len));
  if (!file || received != header.size_bytes() || sha != sha_from_daemon) {
    discard();
    err_ << "cordonctl: the backup arrived damaged (" << received << " of "
         << header.size_bytes() << " bytes, checksum " << (sha == sha_from_daemon ? "ok" : "wrong")
         << "); nothing was written\n";
    return kFailed;
  }
  fs::rename(partial, path, ec);
  if (ec) {
    discard();
    return Usage("cannot rename " + partial + " to " + path + ": " + ec.message());
  }
  if (options_.json) {
    out_ << "{\"file\":" << console::JsonString(path) << ",\"sha256\":\"" << sha
         << "\",\"header\":";
    google::protobuf::util::JsonPrintOptions opts;
    opts.always_print_primitive_fields = true;
    opts.preserve_proto_field_names = true;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(header, &json, opts);
    out_ << json << "}\n";
  } else {
    out_ << "backup written to " << path << ": " << Megabytes(header.size_bytes()) << ", "
         << header.events() << " events (up to event " << header.highest_event_id()
         << "), policy v" << header.policy_version() << ", schema v" << header.schema_version()
         << ", taken " << FormatLocal(FromTs(header.taken_at())) << "\n"
         << "sha256 " << sha << "\n"
         << "restore: see README, Backups (the campus.key of this campus is needed too)\n";
  }
  return kOk;
}

int Commands::Health() {
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  auto ctx = Context();
  if (auto st = health_->Check(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  std::string status = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  if (options_.json) {
    out_ << "{\"status\":\"" << status << "\"}\n";
  } else {
    out_ << "cordond at " << options_.daemon << ": " << status << "\n";
  }
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kOk : kFailed;
}

// ---------------------------------------------------------------- audit

int Commands::AuditList(const std::string& from, const std::string& to, const std::string& actor,
                        int limit) {
  v1::ListAuditRequest req;
  std::optional<TimePoint> f, t;
  if (!ParseTimeFlag("--from", from, f) || !ParseTimeFlag("--to", to, t)) return kUsage;
  if (f) *req.mutable_from() = ToTs(*f);
  if (t) *req.mutable_to() = ToTs(*t);
  req.set_actor(actor);
  req.set_page_size(limit > 0 ? std::min(limit, 10'000) : 1000);
  console::Table table({"ID", "AT", "ACTOR", "ACTION", "PURPOSE", "ROWS", "OUTCOME", "SUBJECT"});
  int shown = 0;
  for (;;) {
    v1::ListAuditResponse resp;
    auto ctx = Context();
    if (auto st = audit_->ListAudit(ctx.get(), req, &resp); !st.ok()) return Fail(st);
    for (const auto& e : resp.entries()) {
      if (limit > 0 && shown == limit) break;
      ++shown;
      if (options_.json) {
        PrintJson(e);  // one object per line
        continue;
      }
      table.AddRow({std::to_string(e.id()), FormatLocal(FromTs(e.at())), e.actor(), e.action(),
                    e.purpose(), std::to_string(e.rows()), e.outcome(),
                    e.subject().substr(0, 60)});
    }
    if (resp.next_page_token().empty() || (limit > 0 && shown == limit)) break;
    req.set_page_token(resp.next_page_token());
  }
  if (!options_.json) {
    table.Print(out_);
    out_ << shown << " entries\n";
  }
  return kOk;
}

int Commands::AuditVerify() {
  v1::VerifyAuditResponse resp;
  auto ctx = Context(600);  // the whole log is read
  if (auto st = audit_->VerifyAudit(ctx.get(), {}, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
  } else if (resp.problems().empty()) {
    out_ << "audit log intact: " << resp.entries() << " entries checked";
    if (resp.anchor_id() > 0) out_ << " (entries up to " << resp.anchor_id() << " purged by retention)";
    out_ << ", head " << resp.head_id() << "\n";
  } else {
    out_ << "audit log TAMPERED: " << resp.problems_size() << " problem"
         << (resp.problems_size() == 1 ? "" : "s") << " in " << resp.entries() << " entries\n";
    for (const auto& p : resp.problems()) out_ << "  " << p.description() << "\n";
  }
  return resp.problems().empty() ? kOk : kFailed;
}

}  // namespace cordon::ctl
