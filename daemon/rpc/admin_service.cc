#include "daemon/rpc/admin_service.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/identifiers.h"
#include "core/roster.h"
#include "daemon/rpc/convert.h"
#include "daemon/rpc/paging.h"

namespace cordon::rpc {
namespace {

using grpc::Status;
using grpc::StatusCode;

Status NotFound(const std::string& person) {
  return Status(StatusCode::NOT_FOUND, "person '" + person + "' not found");
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, Status status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
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
               v1::ImportRosterReport* report)
      : deps_(deps), ctx_(ctx), report_(report) {
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
    deps_.journal.Post([this](storage::Store& store) { Finish(Apply(store)); });
  }

  void OnDone() override { delete this; }

  // Writer thread.
  Status Apply(storage::Store& store) {
    auto current = deps_.policy.Get();
    RosterPlan plan = PlanRosterImport(*current, rows_, deps_.hasher);
    report_->set_rows_received(static_cast<int32_t>(rows_.size()));
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
  v1::ImportRosterChunk chunk_;
  std::vector<RosterRow> rows_;
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
                                                  const char* what, Change change) {
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  auto* reactor = ctx->DefaultReactor();
  deps_.journal.Post([this, reactor, what, change = std::move(change)](storage::Store& store) {
    auto current = deps_.policy.Get();
    Status st = change(store, *current, current->version + 1);
    if (!st.ok() && st.error_code() != StatusCode::NOT_FOUND &&
        st.error_code() != StatusCode::ALREADY_EXISTS &&
        st.error_code() != StatusCode::INVALID_ARGUMENT &&
        st.error_code() != StatusCode::FAILED_PRECONDITION) {
      spdlog::error("admin: {} failed: {}", what, st.error_message());
    }
    reactor->Finish(st);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::RegisterGate(grpc::CallbackServerContext* ctx,
                                                     const v1::RegisterGateRequest* req,
                                                     v1::Gate* resp) {
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  if (auto p = CheckGateId(req->gate_id()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("gate_id: " + p));
  }
  if (auto p = CheckFreeText(req->description()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("description: " + p));
  }
  return RunChange(ctx, "register gate", [this, req, resp](storage::Store& store,
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
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  auto policy = deps_.policy.Get();  // dozens of gates: cheap enough to answer inline
  for (const auto& [id, gate] : policy->gates) FillGate(gate, deps_.ledger, resp->add_gates());
  return FinishNow(ctx, Status::OK);
}

grpc::ServerUnaryReactor* AdminService::AddPerson(grpc::CallbackServerContext* ctx,
                                                  const v1::AddPersonRequest* req,
                                                  v1::Person* resp) {
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  if (auto p = CheckExternalId(req->external_id()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("external_id: " + p));
  }
  if (auto p = CheckName(req->name()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("name: " + p));
  }
  auto category = FromProto(req->category());
  if (!category) {
    return FinishNow(ctx, InvalidArgument("category: required (resident_staff, student, "
                                          "single_visit or contractor)"));
  }
  if (req->has_valid_until()) {
    if (auto st = CheckTime("valid_until", req->valid_until()); !st.ok()) return FinishNow(ctx, st);
  }
  if (req->cohort().size() > kMaxCohortLength || !CheckFreeText(req->cohort()).empty()) {
    return FinishNow(ctx, InvalidArgument("cohort: at most 64 bytes of text"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < req->credentials_size(); ++i) {
    const std::string& c = req->credentials(i);
    std::string field = "credentials[" + std::to_string(i) + "]: ";
    if (auto p = CheckCredential(c); !p.empty()) return FinishNow(ctx, InvalidArgument(field + p));
    if (!seen.insert(c).second) return FinishNow(ctx, InvalidArgument(field + "listed twice"));
  }
  return RunChange(ctx, "add person", [this, req, resp, category = *category](
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
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  return RunChange(ctx, "set person active", [this, req, resp](storage::Store& store,
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
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
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
    for (const auto& [id, person] : policy->people) {
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
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
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
  return FinishNow(ctx, Status::OK);
}

grpc::ServerReadReactor<v1::ImportRosterChunk>* AdminService::ImportRoster(
    grpc::CallbackServerContext* ctx, v1::ImportRosterReport* resp) {
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return new RefusedRead(std::move(st));
  return new RosterImport(deps_, ctx, resp);
}

grpc::ServerUnaryReactor* AdminService::SetQuarantine(grpc::CallbackServerContext* ctx,
                                                      const v1::SetQuarantineRequest* req,
                                                      v1::QuarantineOrder* resp) {
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  if (!req->has_ends_at()) return FinishNow(ctx, InvalidArgument("ends_at: required"));
  if (auto st = CheckTime("ends_at", req->ends_at()); !st.ok()) return FinishNow(ctx, st);
  if (req->has_starts_at()) {
    if (auto st = CheckTime("starts_at", req->starts_at()); !st.ok()) return FinishNow(ctx, st);
  }
  if (auto p = CheckFreeText(req->reason()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("reason: " + p));
  }
  return RunChange(ctx, "set quarantine", [this, req, resp](storage::Store& store,
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
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  return RunChange(ctx, "clear quarantine", [this, req, resp](storage::Store& store,
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
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) return FinishNow(ctx, st);
  if (auto st = CheckPersonRef(req->person()); !st.ok()) return FinishNow(ctx, st);
  if (auto p = CheckName(req->host()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("host: " + p));
  }
  if (!req->has_valid_until()) return FinishNow(ctx, InvalidArgument("valid_until: required"));
  if (auto st = CheckTime("valid_until", req->valid_until()); !st.ok()) return FinishNow(ctx, st);
  if (req->has_valid_from()) {
    if (auto st = CheckTime("valid_from", req->valid_from()); !st.ok()) return FinishNow(ctx, st);
  }
  return RunChange(ctx, "issue pass", [this, req, resp](storage::Store& store,
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

// ---------------------------------------------------------------- backup

namespace {

// Streams an online backup: the copy is made and read on the query pool, one
// step per write, so no gRPC thread touches the disk. One write in flight.
class BackupStream final : public grpc::ServerWriteReactor<v1::BackupChunk> {
 public:
  static constexpr size_t kChunk = 256 * 1024;

  BackupStream(const AdminServiceDeps& deps, std::string peer)
      : deps_(deps), peer_(std::move(peer)), digest_(EVP_MD_CTX_new()) {
    path_ = deps_.scratch_dir + "/.backup-" + std::to_string(getpid()) + "-" +
            std::to_string(reinterpret_cast<uintptr_t>(this)) + ".db";
    deps_.run_query([this] { TakeCopy(); });
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
  if (auto st = deps_.lifecycle.Admission(); !st.ok()) {
    struct Refused final : grpc::ServerWriteReactor<v1::BackupChunk> {
      explicit Refused(Status st) { Finish(std::move(st)); }
      void OnDone() override { delete this; }
    };
    return new Refused(std::move(st));
  }
  spdlog::info("backup requested by {}", ctx->peer());
  return new BackupStream(deps_, ctx->peer());
}

}  // namespace cordon::rpc
