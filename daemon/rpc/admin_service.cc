#include "daemon/rpc/admin_service.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/identifiers.h"
#include "core/roster.h"
#include "daemon/rpc/convert.h"
#include "daemon/rpc/paging.h"
#include "daemon/simulate/policy_simulation.h"
#include "policydoc/policy_document.h"

namespace cordon::rpc {
namespace {

using grpc::Status;
using grpc::StatusCode;

Status NotFound(const std::string& person) {
  return Status(StatusCode::NOT_FOUND, "person '" + person + "' not found");
}

Status CheckPersonRef(const std::string& person) {
  if (auto p = CheckExternalId(person); !p.empty()) return InvalidArgument("person: " + p);
  return Status::OK;
}

void FillGate(const Gate& gate, const GateLedger& ledger, v1::Gate* out) {
  ToProto(gate, out);
  GateLedger::GateStatus st = ledger.StatusOf(gate.id);
  out->set_connected(st.connected);
  if (st.last_seen) ToProto(*st.last_seen, out->mutable_last_seen());
}

// A client stream refused before its first read.
class RefusedRead final : public grpc::ServerReadReactor<v1::ImportRosterChunk> {
 public:
  explicit RefusedRead(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// Imports a roster streamed in chunks; applies it (or not) once the client
// has sent everything.
class RosterImport final : public grpc::ServerReadReactor<v1::ImportRosterChunk> {
 public:
  static constexpr size_t kMaxRows = 1'000'000;

  RosterImport(const AdminServiceDeps& deps, grpc::CallbackServerContext* ctx,
               v1::ImportRosterReport* report, auth::Caller caller)
      : deps_(deps), ctx_(ctx), report_(report), caller_(std::move(caller)) {
    StartRead(&chunk_);
  }

 private:
  void OnReadDone(bool ok) override {
    if (ok) {
      if (first_) {
        skip_bad_rows_ = chunk_.skip_bad_rows();
        dry_run_ = chunk_.dry_run();
        first_ = false;
      }
      for (const auto& r : chunk_.rows()) {
        RosterRow row;
        row.line = r.line();
        row.external_id = r.external_id();
        row.name = r.name();
        row.category = r.category();
        row.cohort = r.cohort();
        row.credentials.assign(r.credentials().begin(), r.credentials().end());
        row.active = r.active();
        if (r.has_valid_until()) {
          if (auto st = CheckTime("rows.valid_until (line " + std::to_string(r.line()) + ")",
                                  r.valid_until());
              !st.ok()) {
            Finish(st);
            return;
          }
          row.valid_until = FromProto(r.valid_until());
        }
        rows_.push_back(std::move(row));
      }
      if (rows_.size() > kMaxRows) {
        Finish(Status(StatusCode::RESOURCE_EXHAUSTED,
                      "rows: more than " + std::to_string(kMaxRows) + " in one import"));
        return;
      }
      StartRead(&chunk_);
      return;
    }
    if (ctx_->IsCancelled()) {  // the client went away mid-file: apply nothing
      Finish(Status(StatusCode::CANCELLED, "import cancelled before the end of the file"));
      return;
    }
    deps_.journal.Post([this](storage::Store& store) {
      const std::string subject = "roster of " + std::to_string(rows_.size()) + " rows";
      if (!dry_run_) {
        // As for every change: no entry, no change.
        if (auto audited = deps_.guard.RecordRequest(store, caller_, "AdminService/ImportRoster",
                                                     {subject, ""});
            !audited.ok()) {
          return Finish(Status(StatusCode::INTERNAL,
                               "the roster was not imported: the audit log could not be "
                               "written: " + std::string(audited.message())));
        }
      }
      Status st = Apply(store);
      if (dry_run_) return Finish(st);
      // A change of people: the answer waits for its audit entry.
      deps_.guard.Record(caller_, "AdminService/ImportRoster", {subject, ""},
                         st.ok() ? static_cast<int64_t>(rows_received_) : 0, st,
                         [this, st](absl::Status audited) {
                           Finish(audited.ok() ? st
                                               : Status(StatusCode::INTERNAL,
                                                        "the roster import's audit entry could "
                                                        "not be written: " +
                                                            std::string(audited.message())));
                         });
    });
  }

  void OnDone() override { delete this; }

  // Writer thread.
  Status Apply(storage::Store& store) {
    auto current = deps_.policy.Get();
    RosterPlan plan = PlanRosterImport(*current, rows_, deps_.hasher);
    rows_received_ = rows_.size();
    report_->set_rows_received(static_cast<int32_t>(rows_received_));
    // The plan holds what is needed now; a campus-wide file is ~40 MB as rows.
    std::vector<RosterRow>().swap(rows_);
    for (const auto& p : plan.problems) {
      auto* out = report_->add_problems();
      out->set_line(p.line);
      out->set_field(p.field);
      out->set_message(p.message);
    }
    report_->set_policy_version(current->version);
    bool apply = !dry_run_ && !plan.people.empty() && (plan.problems.empty() || skip_bad_rows_);
    if (!apply) return Status::OK;

    int64_t version = current->version + 1;
    auto stored = store.UpsertPeople(plan.people, version, deps_.clock.Now());
    if (!stored.ok()) return ToGrpc(stored.status());
    auto next = std::make_shared<PolicySnapshot>(*current);
    next->version = version;
    for (size_t i = 0; i < stored->size(); ++i) {
      next->PutPerson((*stored)[i]);
      if (plan.people[i].credentials) {
        next->SetCredentials((*stored)[i].id, *plan.people[i].credentials);
      }
    }
    // Released before publishing builds the gates' copy.
    stored = std::vector<Person>();
    plan.people = std::vector<PersonRecord>();
    deps_.policy.Publish(std::move(next));
    report_->set_applied(true);
    report_->set_added(plan.added);
    report_->set_updated(plan.updated);
    report_->set_policy_version(version);
    spdlog::info("admin: roster imported: {} added, {} updated, {} rows rejected (policy v{})",
                 plan.added, plan.updated, plan.problems.size(), version);
    return Status::OK;
  }

  const AdminServiceDeps& deps_;
  grpc::CallbackServerContext* ctx_;
  v1::ImportRosterReport* report_;
  const auth::Caller caller_;
  v1::ImportRosterChunk chunk_;
  std::vector<RosterRow> rows_;
  size_t rows_received_ = 0;  // rows_ is released once planned
  bool first_ = true;
  bool skip_bad_rows_ = false;
  bool dry_run_ = false;
};

}  // namespace

std::shared_ptr<PolicySnapshot> AdminService::NextSnapshot(const PolicySnapshot& current,
                                                           int64_t version) {
  auto next = std::make_shared<PolicySnapshot>(current);
  next->version = version;
  return next;
}

grpc::ServerUnaryReactor* AdminService::RunChange(grpc::CallbackServerContext* ctx,
                                                  const auth::Caller& caller,
                                                  std::string_view method, std::string subject,
                                                  const char* what, Change change) {
  auto* reactor = ctx->DefaultReactor();
  deps_.journal.Post([this, reactor, what, caller, method, subject = std::move(subject),
                      change = std::move(change)](storage::Store& store) {
    // The request's entry stands before the change is made: a change the log
    // cannot record is not made.
    if (auto audited = deps_.guard.RecordRequest(store, caller, method, {subject, ""});
        !audited.ok()) {
      spdlog::critical("admin: {} refused: its audit entry could not be written: {}", what,
                       audited.ToString());
      return reactor->Finish(Status(StatusCode::INTERNAL,
                                    std::string(what) + " was not applied: the audit log could "
                                    "not be written: " + std::string(audited.message())));
    }
    auto current = deps_.policy.Get();
    Status st = change(store, *current, current->version + 1);
    if (!st.ok() && st.error_code() != StatusCode::NOT_FOUND &&
        st.error_code() != StatusCode::ALREADY_EXISTS &&
        st.error_code() != StatusCode::INVALID_ARGUMENT &&
        st.error_code() != StatusCode::FAILED_PRECONDITION) {
      spdlog::error("admin: {} failed: {}", what, st.error_message());
    }
    // The outcome's entry follows; the answer waits for it.
    deps_.guard.Record(caller, method, {subject, ""}, st.ok() ? 1 : 0, st,
                       [reactor, st, what](absl::Status audited) {
      if (audited.ok()) return reactor->Finish(st);
      spdlog::critical("admin: {} was {}; its request is in the audit log but its outcome "
                       "could not be written", what, st.ok() ? "applied" : "refused");
      reactor->Finish(Status(StatusCode::INTERNAL,
                             std::string(what) + (st.ok() ? " was applied" : " was refused") +
                                 " (its request is in the audit log), but its outcome could "
                                 "not be written: " + std::string(audited.message())));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::RegisterGate(grpc::CallbackServerContext* ctx,
                                                     const v1::RegisterGateRequest* req,
                                                     v1::Gate* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/RegisterGate", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto p = CheckGateId(req->gate_id()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("gate_id: " + p));
  }
  if (auto p = CheckFreeText(req->description()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("description: " + p));
  }
  return RunChange(ctx, caller, "AdminService/RegisterGate",
                   "gate " + req->gate_id(),
                   "register gate", [this, req, resp](storage::Store& store,
                                                           const PolicySnapshot& current,
                                                           int64_t version) {
    Gate gate{0, req->gate_id(), req->description(), deps_.clock.Now()};
    auto stored = store.RegisterGate(gate, version);
    if (!stored.ok()) return ToGrpc(stored.status());
    auto next = NextSnapshot(current, version);
    next->PutGate(*stored);
    deps_.policy.Publish(std::move(next));
    FillGate(*stored, deps_.ledger, resp);
    spdlog::info("admin: gate {} registered (policy v{})", stored->gate_id, version);
    return Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::ListGates(grpc::CallbackServerContext* ctx,
                                                  const v1::ListGatesRequest* /*req*/,
                                                  v1::ListGatesResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/ListGates", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto policy = deps_.policy.Get();  // dozens of gates: cheap enough to answer inline
  for (const auto& [id, gate] : *policy->gates) FillGate(gate, deps_.ledger, resp->add_gates());
  return FinishNow(ctx, Status::OK);
}

grpc::ServerUnaryReactor* AdminService::AddPerson(grpc::CallbackServerContext* ctx,
                                                  const v1::AddPersonRequest* req,
                                                  v1::Person* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/AddPerson", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto p = CheckExternalId(req->external_id()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("external_id: " + p));
  }
  if (auto p = CheckName(req->name()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("name: " + p));
  }
  auto category = FromProto(req->category());
  if (!category) {
    return FinishNow(ctx, InvalidArgument("category: required (resident_staff, student, "
                                          "single_visit, contractor, vehicle or delivery)"));
  }
  if (req->has_valid_until()) {
    if (auto st = CheckTime("valid_until", req->valid_until()); !st.ok()) return FinishNow(ctx, st);
  }
  if (req->cohort().size() > kMaxCohortLength || !CheckFreeText(req->cohort()).empty()) {
    return FinishNow(ctx, InvalidArgument("cohort: at most 256 bytes of text"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < req->credentials_size(); ++i) {
    const std::string& c = req->credentials(i);
    std::string field = "credentials[" + std::to_string(i) + "]: ";
    if (auto p = CheckCredential(c); !p.empty()) return FinishNow(ctx, InvalidArgument(field + p));
    if (!seen.insert(c).second) return FinishNow(ctx, InvalidArgument(field + "listed twice"));
  }
  return RunChange(ctx, caller, "AdminService/AddPerson",
                   "person " + req->external_id(),
                   "add person", [this, req, resp, category = *category](
                                          storage::Store& store, const PolicySnapshot& current,
                                          int64_t version) {
    if (current.FindByExternalId(req->external_id())) {
      return Status(StatusCode::ALREADY_EXISTS,
                    "external_id: person '" + req->external_id() +
                        "' already exists (import a roster to update people)");
    }
    PersonRecord rec;
    rec.person.external_id = req->external_id();
    rec.person.name = req->name();
    rec.person.category = category;
    rec.person.cohort = req->cohort();
    rec.person.active = !req->inactive();
    if (req->has_valid_until()) rec.person.valid_until = FromProto(req->valid_until());
    rec.credentials.emplace();
    for (int i = 0; i < req->credentials_size(); ++i) {
      CredentialHash h = deps_.hasher.Hash(req->credentials(i));
      if (const Person* owner = current.FindByCredential(h)) {
        return Status(StatusCode::ALREADY_EXISTS, "credentials[" + std::to_string(i) +
                                                      "]: already belongs to " +
                                                      owner->external_id);
      }
      rec.credentials->push_back(h);
    }
    auto stored = store.UpsertPeople({&rec, 1}, version, deps_.clock.Now());
    if (!stored.ok()) return ToGrpc(stored.status());
    const Person& person = stored->front();
    auto next = NextSnapshot(current, version);
    next->PutPerson(person);
    next->SetCredentials(person.id, *rec.credentials);
    deps_.policy.Publish(std::move(next));
    ToProto(person, resp);
    spdlog::info("admin: person {} added (policy v{})", person.external_id, version);
    return Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::SetPersonActive(grpc::CallbackServerContext* ctx,
                                                        const v1::SetPersonActiveRequest* req,
                                                        v1::Person* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/SetPersonActive", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  return RunChange(ctx, caller, "AdminService/SetPersonActive",
                   "person " + req->person(),
                   "set person active", [this, req, resp](storage::Store& store,
                                                               const PolicySnapshot& current,
                                                               int64_t version) {
    const Person* existing = current.FindByExternalId(req->person());
    if (!existing) return NotFound(req->person());
    PersonRecord rec{*existing, std::nullopt};
    rec.person.active = req->active();
    auto stored = store.UpsertPeople({&rec, 1}, version, deps_.clock.Now());
    if (!stored.ok()) return ToGrpc(stored.status());
    auto next = NextSnapshot(current, version);
    next->PutPerson(stored->front());
    deps_.policy.Publish(std::move(next));
    ToProto(stored->front(), resp);
    spdlog::info("admin: person {} set {} (policy v{})", req->person(),
                 req->active() ? "active" : "inactive", version);
    return Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::ListPeople(grpc::CallbackServerContext* ctx,
                                                   const v1::ListPeopleRequest* req,
                                                   v1::ListPeopleResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/ListPeople", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto page_size = PageSize(req->page_size());
  if (!page_size) return FinishNow(ctx, InvalidArgument("page_size: must not be negative"));
  std::optional<PersonCategory> category;
  if (req->category() != v1::PERSON_CATEGORY_UNSPECIFIED) {
    category = FromProto(req->category());
    if (!category) return FinishNow(ctx, InvalidArgument("category: unknown value"));
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, req, resp, category, limit = *page_size] {
    auto policy = deps_.policy.Get();
    std::vector<const Person*> matching;
    for (const auto& [id, person] : *policy->people) {
      if (category && person.category != *category) continue;
      if (!req->cohort().empty() && person.cohort != req->cohort()) continue;
      matching.push_back(&person);
    }
    std::sort(matching.begin(), matching.end(),
              [](const Person* a, const Person* b) { return a->external_id < b->external_id; });
    resp->set_total(static_cast<int64_t>(matching.size()));
    // The page token is the last external id of the previous page.
    auto it = std::upper_bound(matching.begin(), matching.end(), req->page_token(),
                               [](const std::string& token, const Person* p) {
                                 return token < p->external_id;
                               });
    if (req->page_token().empty()) it = matching.begin();
    for (int n = 0; it != matching.end() && n < limit; ++it, ++n) ToProto(**it, resp->add_people());
    if (it != matching.end() && resp->people_size() > 0) {
      resp->set_next_page_token(resp->people(resp->people_size() - 1).external_id());
    }
    reactor->Finish(Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::GetPerson(grpc::CallbackServerContext* ctx,
                                                  const v1::GetPersonRequest* req,
                                                  v1::PersonDetail* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/GetPerson", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  auto policy = deps_.policy.Get();  // a few map lookups: answered inline
  const Person* person = policy->FindByExternalId(req->person());
  if (!person) return FinishNow(ctx, NotFound(req->person()));
  ToProto(*person, resp->mutable_person());
  for (const auto& q : policy->QuarantinesOf(person->id)) {
    ToProto(q, person->external_id, resp->add_quarantines());
  }
  for (const auto& pass : policy->PassesOf(person->id)) {
    ToProto(pass, person->external_id, deps_.presence.ProgressOf(pass.id), resp->add_passes());
  }
  if (auto presence = deps_.presence.PresenceOf(person->id); presence && presence->on_campus) {
    resp->set_on_campus(true);
    ToProto(presence->since, resp->mutable_on_campus_since());
  }
  // A person's record carries health and quarantine: the answer waits for its entry.
  auto* reactor = ctx->DefaultReactor();
  deps_.guard.FinishAudited(reactor, caller, "AdminService/GetPerson", Note(*req), 1, Status::OK);
  return reactor;
}

grpc::ServerReadReactor<v1::ImportRosterChunk>* AdminService::ImportRoster(
    grpc::CallbackServerContext* ctx, v1::ImportRosterReport* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/ImportRoster", &caller); !st.ok()) {
    return new RefusedRead(std::move(st));
  }
  return new RosterImport(deps_, ctx, resp, std::move(caller));
}

grpc::ServerUnaryReactor* AdminService::SetQuarantine(grpc::CallbackServerContext* ctx,
                                                      const v1::SetQuarantineRequest* req,
                                                      v1::QuarantineOrder* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/SetQuarantine", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  if (!req->has_ends_at()) return FinishNow(ctx, InvalidArgument("ends_at: required"));
  if (auto st = CheckTime("ends_at", req->ends_at()); !st.ok()) return FinishNow(ctx, st);
  if (req->has_starts_at()) {
    if (auto st = CheckTime("starts_at", req->starts_at()); !st.ok()) return FinishNow(ctx, st);
  }
  if (auto p = CheckFreeText(req->reason()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("reason: " + p));
  }
  return RunChange(ctx, caller, "AdminService/SetQuarantine",
                   "person " + req->person(),
                   "set quarantine", [this, req, resp](storage::Store& store,
                                                            const PolicySnapshot& current,
                                                            int64_t version) {
    const Person* person = current.FindByExternalId(req->person());
    if (!person) return NotFound(req->person());
    TimePoint now = deps_.clock.Now();
    QuarantineOrder order;
    order.person = person->id;
    order.starts_at = req->has_starts_at() ? FromProto(req->starts_at()) : now;
    order.ends_at = FromProto(req->ends_at());
    order.reason = req->reason();
    order.ordered_at = now;
    if (order.ends_at <= order.starts_at) return InvalidArgument("ends_at: must be after starts_at");
    if (order.ends_at <= now) {
      return InvalidArgument("ends_at: must be in the future (an order that already ended "
                             "changes nothing)");
    }
    auto stored = store.AddQuarantine(order, version);
    if (!stored.ok()) return ToGrpc(stored.status());
    auto next = NextSnapshot(current, version);
    next->PutQuarantine(*stored);
    deps_.policy.Publish(std::move(next));
    ToProto(*stored, person->external_id, resp);
    spdlog::info("admin: quarantine order {} set for {} (policy v{})", stored->id,
                 person->external_id, version);
    return Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::ClearQuarantine(grpc::CallbackServerContext* ctx,
                                                        const v1::ClearQuarantineRequest* req,
                                                        v1::ClearQuarantineResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/ClearQuarantine", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  return RunChange(ctx, caller, "AdminService/ClearQuarantine",
                   "person " + req->person(),
                   "clear quarantine", [this, req, resp](storage::Store& store,
                                                              const PolicySnapshot& current,
                                                              int64_t version) {
    const Person* person = current.FindByExternalId(req->person());
    if (!person) return NotFound(req->person());
    TimePoint now = deps_.clock.Now();
    std::vector<QuarantineOrder> cleared;
    for (const auto& q : current.QuarantinesOf(person->id)) {
      if (!q.cleared_at && q.ends_at > now) cleared.push_back(q);
    }
    if (cleared.empty()) {
      return Status(StatusCode::NOT_FOUND,
                    "person '" + req->person() + "' has no active or pending quarantine order");
    }
    std::vector<QuarantineId> ids;
    for (const auto& q : cleared) ids.push_back(q.id);
    if (auto st = store.ClearQuarantines(ids, now, version); !st.ok()) return ToGrpc(st);
    auto next = NextSnapshot(current, version);
    for (auto& q : cleared) {
      q.cleared_at = now;
      next->PutQuarantine(q);
      ToProto(q, person->external_id, resp->add_cleared());
    }
    deps_.policy.Publish(std::move(next));
    spdlog::info("admin: {} quarantine order(s) of {} cleared (policy v{})", cleared.size(),
                 person->external_id, version);
    return Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::IssuePass(grpc::CallbackServerContext* ctx,
                                                  const v1::IssuePassRequest* req,
                                                  v1::SingleVisitPass* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/IssuePass", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  if (auto p = CheckName(req->host()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("host: " + p));
  }
  if (!req->has_valid_until()) return FinishNow(ctx, InvalidArgument("valid_until: required"));
  if (auto st = CheckTime("valid_until", req->valid_until()); !st.ok()) return FinishNow(ctx, st);
  if (req->has_valid_from()) {
    if (auto st = CheckTime("valid_from", req->valid_from()); !st.ok()) return FinishNow(ctx, st);
  }
  return RunChange(ctx, caller, "AdminService/IssuePass",
                   "person " + req->person(),
                   "issue pass", [this, req, resp](storage::Store& store,
                                                        const PolicySnapshot& current,
                                                        int64_t version) {
    const Person* person = current.FindByExternalId(req->person());
    if (!person) return NotFound(req->person());
    if (!NeedsPass(person->category)) {
      return Status(StatusCode::FAILED_PRECONDITION,
                    "person: '" + req->person() + "' is " + std::string(CategoryName(person->category)) +
                        "; passes are for single_visit and contractor people");
    }
    TimePoint now = deps_.clock.Now();
    SingleVisitPass pass;
    pass.person = person->id;
    pass.host = req->host();
    pass.valid_from = req->has_valid_from() ? FromProto(req->valid_from()) : now;
    pass.valid_until = FromProto(req->valid_until());
    pass.issued_at = now;
    if (pass.valid_until <= pass.valid_from) {
      return InvalidArgument("valid_until: must be after valid_from");
    }
    if (pass.valid_until <= now) return InvalidArgument("valid_until: must be in the future");
    auto stored = store.AddPass(pass, version);
    if (!stored.ok()) return ToGrpc(stored.status());
    auto next = NextSnapshot(current, version);
    next->PutPass(*stored);
    deps_.policy.Publish(std::move(next));
    ToProto(*stored, person->external_id, PassProgress{}, resp);
    spdlog::info("admin: pass {} issued to {} (policy v{})", stored->id, person->external_id,
                 version);
    return Status::OK;
  });
}

// ---------------------------------------------------------------- campus policy

grpc::Status AdminService::InstallLayout(storage::Store& store, const PolicySnapshot& current,
                                         int64_t version, std::shared_ptr<const ZonePolicy> layout,
                                         const std::string& change, const std::string& by,
                                         bool dry_run, v1::ApplyPolicyResponse* resp) {
  for (auto& line : policydoc::DescribeChanges(*current.zones, *layout)) resp->add_changes(line);
  auto next = NextSnapshot(current, version);
  next->SetZones(layout);
  resp->set_mode(next->Mode().id);
  if (dry_run) return Status::OK;
  storage::PolicyDocumentRecord doc{version, layout->document, next->Mode().id,
                                    deps_.clock.Now(), by, change};
  if (auto st = store.SavePolicyDocument(doc); !st.ok()) return ToGrpc(st);
  deps_.policy.Publish(std::move(next));
  resp->set_version(version);
  resp->set_applied(true);
  spdlog::info("admin: policy document {} by {} (policy v{}, mode {}, {} changes)", change, by,
               version, resp->mode(), resp->changes_size());
  return Status::OK;
}

grpc::ServerUnaryReactor* AdminService::ApplyPolicy(grpc::CallbackServerContext* ctx,
                                                    const v1::ApplyPolicyRequest* req,
                                                    v1::ApplyPolicyResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/ApplyPolicy", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (req->document().empty()) return FinishNow(ctx, InvalidArgument("document: empty"));
  std::string subject = "policy document, " + std::to_string(req->document().size()) + " bytes" +
                        (req->dry_run() ? " (dry run)" : "");
  return RunChange(ctx, caller, "AdminService/ApplyPolicy", std::move(subject),
                   "apply policy", [this, req, resp, by = caller.Describe()](
                                            storage::Store& store, const PolicySnapshot& current,
                                            int64_t version) {
    auto parsed = policydoc::ParsePolicyDocument(req->document());
    if (!parsed.ok()) {
      return InvalidArgument("document: " + std::to_string(parsed.errors.size()) +
                             " error(s), nothing changed\n" + parsed.ErrorText());
    }
    return InstallLayout(store, current, version, parsed.policy, "apply", by, req->dry_run(), resp);
  });
}

grpc::ServerUnaryReactor* AdminService::RollbackPolicy(grpc::CallbackServerContext* ctx,
                                                       const v1::RollbackPolicyRequest* req,
                                                       v1::ApplyPolicyResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/RollbackPolicy", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (req->version() <= 0) return FinishNow(ctx, InvalidArgument("version: must be positive"));
  return RunChange(ctx, caller, "AdminService/RollbackPolicy",
                   "to policy v" + std::to_string(req->version()),
                   "roll back policy", [this, req, resp, by = caller.Describe()](
                                                storage::Store& store,
                                                const PolicySnapshot& current, int64_t version) {
    auto doc = store.GetPolicyDocument(req->version());
    if (!doc.ok()) return ToGrpc(doc.status());
    if (!*doc) {
      return Status(StatusCode::NOT_FOUND,
                    "version: no policy document was applied at v" + std::to_string(req->version()) +
                        " (see cordonctl policy history)");
    }
    auto parsed = policydoc::ParsePolicyDocument((*doc)->document);
    if (!parsed.ok()) return ToGrpc(absl::DataLossError(parsed.ErrorText()));
    return InstallLayout(store, current, version, parsed.policy,
                         "rollback to v" + std::to_string(req->version()), by, false, resp);
  });
}

grpc::ServerUnaryReactor* AdminService::SimulatePolicy(grpc::CallbackServerContext* ctx,
                                                       const v1::SimulatePolicyRequest* req,
                                                       v1::SimulatePolicyResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/SimulatePolicy", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (req->document().empty()) return FinishNow(ctx, InvalidArgument("document: empty"));
  if (req->days() < 1 || req->days() > 366) {
    return FinishNow(ctx, InvalidArgument("days: from 1 to 366"));
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, req, resp, reactor, caller] {
    auto started = std::chrono::steady_clock::now();
    auto parsed = policydoc::ParsePolicyDocument(req->document());
    if (!parsed.ok()) {
      return reactor->Finish(InvalidArgument("document: " + std::to_string(parsed.errors.size()) +
                                             " error(s)\n" + parsed.ErrorText()));
    }
    // The candidate: today's people, orders and passes under the new layout.
    PolicySnapshot candidate = *deps_.policy.Get();
    candidate.SetZones(parsed.policy);
    TimePoint to = deps_.clock.Now();
    TimePoint from = to - std::chrono::hours(24) * req->days();
    CampusState state;
    if (auto st = deps_.store.CampusStateAsOf(candidate, from, state); !st.ok()) {
      return reactor->Finish(ToGrpc(st));
    }
    auto rows = deps_.store.ScansBetween(from, to);
    if (!rows.ok()) return reactor->Finish(ToGrpc(rows.status()));
    std::map<GateRowId, std::string> gate_ids;
    for (const auto& [id, gate] : *candidate.gates) gate_ids[gate.id] = id;
    std::vector<simulate::RecordedScan> scans;
    scans.reserve(rows->size());
    for (const auto& r : *rows) {
      scans.push_back(simulate::RecordedScan{r.id, gate_ids[r.gate], r.credential, r.direction,
                                             r.occurred_at, r.gate, r.reason});
    }
    simulate::SimulationReport report = simulate::Simulate(candidate, std::move(state), scans);
    ToProto(from, resp->mutable_from());
    ToProto(to, resp->mutable_to());
    resp->set_scans(report.scans);
    resp->set_changed(report.changed);
    resp->set_new_allows(report.new_allows);
    resp->set_separations_prevented(report.separations_prevented);
    resp->set_mode(candidate.Mode().id);
    for (const auto& [reason, count] : report.new_denials) {
      auto* rc = resp->add_new_denials();
      rc->set_reason(ToProto(reason));
      rc->set_count(count);
    }
    if (req->with_decisions()) {
      for (size_t i = 0; i < report.decisions.size(); ++i) {
        const auto& d = report.decisions[i];
        auto* out = resp->add_decisions();
        out->set_event_id(d.event_id);
        if (const Person* p = candidate.FindPerson(d.person)) out->set_person(p->external_id);
        out->set_gate_id(scans[i].gate_id);
        out->set_direction(static_cast<v1::Direction>(scans[i].direction));
        ToProto(scans[i].at, out->mutable_at());
        out->set_recorded(ToProto(d.recorded));
        out->set_candidate(ToProto(d.candidate));
        out->set_rule(d.rule);
      }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started).count();
    spdlog::info("admin: simulated a candidate policy over {} days: {} scans, {} changed, in {} ms",
                 req->days(), report.scans, report.changed, ms);
    deps_.guard.FinishAudited(reactor, caller, "AdminService/SimulatePolicy",
                              {"simulate a policy over " + std::to_string(req->days()) + " days", ""},
                              report.scans, Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::SetMode(grpc::CallbackServerContext* ctx,
                                                const v1::SetModeRequest* req,
                                                v1::ApplyPolicyResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/SetMode", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  return RunChange(ctx, caller, "AdminService/SetMode",
                   "mode " + req->mode(),
                   "set mode", [this, req, resp, by = caller.Describe()](
                                        storage::Store& store, const PolicySnapshot& current,
                                        int64_t version) {
    const ZonePolicy& layout = *current.zones;
    if (layout.document.empty()) {
      return Status(StatusCode::FAILED_PRECONDITION,
                    "mode: no policy document applied yet (cordonctl policy apply FILE)");
    }
    int mode = layout.FindMode(req->mode());
    if (mode < 0) {
      std::string known;
      for (const auto& m : layout.modes) known += (known.empty() ? "" : ", ") + m.id;
      return InvalidArgument("mode: no mode '" + req->mode() + "' in the policy (modes: " + known +
                             ")");
    }
    resp->set_mode(req->mode());
    if (mode == current.mode) return Status::OK;  // already in force: nothing to record
    std::string change = "mode " + current.Mode().id + " -> " + req->mode();
    resp->add_changes(change);
    storage::PolicyDocumentRecord doc{version, layout.document, req->mode(), deps_.clock.Now(),
                                      by, change};
    if (auto st = store.SavePolicyDocument(doc); !st.ok()) return ToGrpc(st);
    auto next = NextSnapshot(current, version);
    next->mode = mode;
    deps_.policy.Publish(std::move(next));
    resp->set_version(version);
    resp->set_applied(true);
    spdlog::warn("admin: campus {} by {} (policy v{})", change, by, version);
    return Status::OK;
  });
}

namespace {

void FillDocument(const storage::PolicyDocumentRecord& d, v1::PolicyDocument* out) {
  out->set_version(d.version);
  out->set_document(d.document);
  out->set_mode(d.mode);
  ToProto(d.applied_at, out->mutable_applied_at());
  out->set_applied_by(d.applied_by);
  out->set_change(d.change);
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::GetPolicy(grpc::CallbackServerContext* ctx,
                                                  const v1::GetPolicyRequest* req,
                                                  v1::PolicyDocument* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/GetPolicy", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (req->version() < 0) return FinishNow(ctx, InvalidArgument("version: must not be negative"));
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, req, resp, reactor] {
    int64_t version = req->version();
    auto doc = deps_.store.GetPolicyDocument(version);
    if (!doc.ok()) return reactor->Finish(ToGrpc(doc.status()));
    if (!*doc) {
      return reactor->Finish(Status(
          StatusCode::NOT_FOUND, version == 0 ? "no policy document applied yet: one open campus"
                                              : "version: no policy document at v" +
                                                    std::to_string(version)));
    }
    FillDocument(**doc, resp);
    reactor->Finish(Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ListPolicyVersions(
    grpc::CallbackServerContext* ctx, const v1::ListPolicyVersionsRequest* /*req*/,
    v1::ListPolicyVersionsResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/ListPolicyVersions", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, resp, reactor] {
    auto all = deps_.store.ListPolicyDocuments();
    if (!all.ok()) return reactor->Finish(ToGrpc(all.status()));
    for (const auto& d : *all) FillDocument(d, resp->add_versions());
    reactor->Finish(Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::SetHealth(grpc::CallbackServerContext* ctx,
                                                  const v1::SetHealthRequest* req,
                                                  v1::SetHealthResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/SetHealth", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  if (req->colour() < v1::HEALTH_COLOUR_GREEN || req->colour() > v1::HEALTH_COLOUR_RED) {
    return FinishNow(ctx, InvalidArgument("colour: green, yellow or red"));
  }
  if (req->source().empty() || !CheckFreeText(req->source()).empty() ||
      req->source().size() > 128) {
    return FinishNow(ctx, InvalidArgument("source: required, at most 128 bytes of text"));
  }
  if (req->has_at()) {
    if (auto st = CheckTime("at", req->at()); !st.ok()) return FinishNow(ctx, st);
  }
  return RunChange(ctx, caller, "AdminService/SetHealth",
                   "person " + req->person(),
                   "set health", [this, req, resp](storage::Store& store,
                                                        const PolicySnapshot& current,
                                                        int64_t version) {
    const Person* person = current.FindByExternalId(req->person());
    if (!person) return NotFound(req->person());
    TimePoint now = deps_.clock.Now();
    HealthRecord record{static_cast<HealthColour>(req->colour()), req->source(),
                        req->has_at() ? FromProto(req->at()) : now};
    if (record.at > now + std::chrono::minutes(5)) return InvalidArgument("at: in the future");
    if (auto st = store.RecordHealth(person->id, record, version); !st.ok()) return ToGrpc(st);
    auto next = NextSnapshot(current, version);
    auto& health = next->health_of.Edit();
    auto it = health.find(person->id);
    if (it == health.end() || it->second.at <= record.at) health[person->id] = record;
    deps_.policy.Publish(std::move(next));
    resp->set_policy_version(version);
    spdlog::info("admin: health code of {} is {} ({}; policy v{})", person->external_id,
                 HealthColourName(record.colour), record.source, version);
    return Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::GrantLeave(grpc::CallbackServerContext* ctx,
                                                   const v1::GrantLeaveRequest* req,
                                                   v1::Leave* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/GrantLeave", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  if (!req->has_exit_until()) return FinishNow(ctx, InvalidArgument("exit_until: required"));
  if (!req->has_return_by()) return FinishNow(ctx, InvalidArgument("return_by: required"));
  if (auto st = CheckTime("exit_until", req->exit_until()); !st.ok()) return FinishNow(ctx, st);
  if (auto st = CheckTime("return_by", req->return_by()); !st.ok()) return FinishNow(ctx, st);
  if (req->has_exit_from()) {
    if (auto st = CheckTime("exit_from", req->exit_from()); !st.ok()) return FinishNow(ctx, st);
  }
  for (auto [field, text] : {std::pair{"reason", &req->reason()},
                             std::pair{"approved_by", &req->approved_by()}}) {
    if (!CheckFreeText(*text).empty() || text->size() > 256) {
      return FinishNow(ctx, InvalidArgument(std::string(field) + ": at most 256 bytes of text"));
    }
  }
  return RunChange(ctx, caller, "AdminService/GrantLeave",
                   "person " + req->person(),
                   "grant leave", [this, req, resp](storage::Store& store,
                                                         const PolicySnapshot& current,
                                                         int64_t version) {
    const Person* person = current.FindByExternalId(req->person());
    if (!person) return NotFound(req->person());
    if (!IsResident(person->category)) {
      return Status(StatusCode::FAILED_PRECONDITION,
                    "person: leaves are for students and resident staff; '" + req->person() +
                        "' is " + std::string(CategoryName(person->category)));
    }
    TimePoint now = deps_.clock.Now();
    LeaveApproval leave;
    leave.person = person->id;
    leave.exit_from = req->has_exit_from() ? FromProto(req->exit_from()) : now;
    leave.exit_until = FromProto(req->exit_until());
    leave.return_by = FromProto(req->return_by());
    leave.reason = req->reason();
    leave.approved_by = req->approved_by();
    if (leave.exit_until <= leave.exit_from) {
      return InvalidArgument("exit_until: must be after exit_from");
    }
    if (leave.exit_until <= now) return InvalidArgument("exit_until: must be in the future");
    if (leave.return_by < leave.exit_until) {
      return InvalidArgument("return_by: must not be before exit_until");
    }
    auto stored = store.AddLeave(leave, now, version);
    if (!stored.ok()) return ToGrpc(stored.status());
    auto next = NextSnapshot(current, version);
    next->PutLeave(*stored);
    deps_.policy.Publish(std::move(next));
    resp->set_id(stored->id);
    resp->set_person(person->external_id);
    ToProto(stored->exit_from, resp->mutable_exit_from());
    ToProto(stored->exit_until, resp->mutable_exit_until());
    ToProto(stored->return_by, resp->mutable_return_by());
    resp->set_reason(stored->reason);
    resp->set_approved_by(stored->approved_by);
    resp->set_policy_version(version);
    spdlog::info("admin: leave {} granted to {} (policy v{})", stored->id, person->external_id,
                 version);
    return Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::RecordDisinfection(
    grpc::CallbackServerContext* ctx, const v1::RecordDisinfectionRequest* req,
    v1::RecordDisinfectionResponse* /*resp*/) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/RecordDisinfection", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  if (req->has_at()) {
    if (auto st = CheckTime("at", req->at()); !st.ok()) return FinishNow(ctx, st);
  }
  if (!CheckFreeText(req->recorded_by()).empty() || req->recorded_by().size() > 128) {
    return FinishNow(ctx, InvalidArgument("recorded_by: at most 128 bytes of text"));
  }
  // A record of the person's movement: a change like any other, audited.
  return RunChange(ctx, caller, "AdminService/RecordDisinfection", Note(*req).subject,
                   "record disinfection", [this, req](storage::Store& store,
                                                      const PolicySnapshot& current,
                                                      int64_t /*version*/) {
    const Person* person = current.FindByExternalId(req->person());
    if (!person) return NotFound(req->person());
    if (!NeedsDisinfection(person->category)) {
      return Status(StatusCode::FAILED_PRECONDITION,
                    "person: disinfection is recorded for vehicles and deliveries; '" +
                        req->person() + "' is " + std::string(CategoryName(person->category)));
    }
    TimePoint now = deps_.clock.Now();
    TimePoint at = req->has_at() ? FromProto(req->at()) : now;
    if (at > now + std::chrono::minutes(5)) return InvalidArgument("at: in the future");
    if (auto st = store.RecordDisinfection(person->id, at, req->recorded_by()); !st.ok()) {
      return ToGrpc(st);
    }
    deps_.presence.RecordDisinfection(person->id, at);
    spdlog::info("admin: {} disinfected (recorded by {})", person->external_id, req->recorded_by());
    return Status::OK;
  });
}

// ---------------------------------------------------------------- backup

namespace {

// Streams an online backup: the copy is made and read on the query pool, one
// step per write, so no gRPC thread touches the disk. One write in flight.
class BackupStream final : public grpc::ServerWriteReactor<v1::BackupChunk> {
 public:
  static constexpr size_t kChunk = 256 * 1024;

  // The copy is taken once the backup's audit entry is committed.
  BackupStream(const AdminServiceDeps& deps, const auth::Caller& caller)
      : deps_(deps), peer_(caller.Describe()), digest_(EVP_MD_CTX_new()) {
    path_ = deps_.scratch_dir + "/.backup-" + std::to_string(getpid()) + "-" +
            std::to_string(reinterpret_cast<uintptr_t>(this)) + ".db";
    deps_.guard.Record(caller, "AdminService/Backup", {"the whole database", ""}, 0, Status::OK,
                       [this](absl::Status audited) {
      if (!audited.ok()) {
        return Finish(Status(StatusCode::INTERNAL,
                             "no backup: the audit log could not be written: " +
                                 std::string(audited.message())));
      }
      deps_.run_query([this] { TakeCopy(); });
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the client went away: stop, the copy is removed in OnDone
      Finish(Status(StatusCode::CANCELLED, "backup stream broken"));
      return;
    }
    if (done_) return;  // the trailer was the last write; Finish follows it
    deps_.run_query([this] { NextChunk(); });
  }

  void OnDone() override {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    delete this;
  }

 private:
  ~BackupStream() override { EVP_MD_CTX_free(digest_); }

  void TakeCopy() {
    auto info = deps_.store.Backup(path_, deps_.clock.Now());
    if (!info.ok()) {
      spdlog::error("backup for {} failed: {}", peer_, info.status().ToString());
      Finish(ToGrpc(info.status()));
      return;
    }
    info_ = *info;
    info_.requested_by = peer_;
    file_.open(path_, std::ios::binary);
    if (!file_ || EVP_DigestInit_ex(digest_, EVP_sha256(), nullptr) != 1) {
      Finish(Status(StatusCode::INTERNAL, "cannot read the backup copy"));
      return;
    }
    v1::BackupHeader* h = chunk_.mutable_header();
    ToProto(info_.taken_at, h->mutable_taken_at());
    h->set_size_bytes(static_cast<uint64_t>(info_.size_bytes));
    h->set_schema_version(info_.schema_version);
    h->set_policy_version(info_.policy_version);
    h->set_highest_event_id(info_.highest_event_id);
    h->set_events(info_.events);
    StartWrite(&chunk_);
  }

  void NextChunk() {
    std::string buf(kChunk, '\0');
    file_.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<size_t>(file_.gcount()));
    chunk_.Clear();
    if (!buf.empty()) {
      EVP_DigestUpdate(digest_, buf.data(), buf.size());
      chunk_.set_data(std::move(buf));
      StartWrite(&chunk_);
      return;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(digest_, md, &len);
    chunk_.mutable_trailer()->set_sha256_hex(
        HexOf(std::string_view(reinterpret_cast<const char*>(md), len)));
    done_ = true;
    spdlog::info("backup for {}: {} bytes, {} events (up to event {}), schema v{}", peer_,
                 info_.size_bytes, info_.events, info_.highest_event_id, info_.schema_version);
    storage::BackupInfo logged = info_;
    deps_.journal.Post([logged](storage::Store& store) {
      if (auto st = store.RecordBackup(logged); !st.ok()) {
        spdlog::warn("backup taken but not logged: {}", st.ToString());
      }
    });
    StartWriteAndFinish(&chunk_, grpc::WriteOptions(), Status::OK);
  }

  const AdminServiceDeps& deps_;
  const std::string peer_;
  std::string path_;
  EVP_MD_CTX* digest_;
  std::ifstream file_;
  storage::BackupInfo info_;
  v1::BackupChunk chunk_;
  bool done_ = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::BackupChunk>* AdminService::Backup(grpc::CallbackServerContext* ctx,
                                                               const v1::BackupRequest* /*req*/) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "AdminService/Backup", &caller); !st.ok()) {
    struct Refused final : grpc::ServerWriteReactor<v1::BackupChunk> {
      explicit Refused(Status st) { Finish(std::move(st)); }
      void OnDone() override { delete this; }
    };
    return new Refused(std::move(st));
  }
  spdlog::info("backup requested by {} ({})", caller.Describe(), ctx->peer());
  return new BackupStream(deps_, caller);
}

}  // namespace cordon::rpc
