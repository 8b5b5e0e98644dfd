#include "daemon/rpc/guard.h"

#include <grpc/grpc_security_constants.h>
#include <spdlog/spdlog.h>

namespace cordon::rpc {

absl::StatusOr<auth::Caller> Guard::Identify(const grpc::ServerContextBase& ctx) const {
  if (insecure_) return auth::Caller{auth::Role::kAdmin, ctx.peer(), true};
  auto auth_context = ctx.auth_context();
  if (!auth_context || !auth_context->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no client certificate");
  }
  auto subjects = auth_context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subjects.size() != 1) return absl::UnauthenticatedError("client certificate has no subject");
  return auth::CallerFromSubject(std::string_view(subjects[0].data(), subjects[0].size()));
}

grpc::Status Guard::Admit(const grpc::ServerContextBase& ctx, std::string_view method,
                          auth::Caller* caller) {
  if (auto st = lifecycle_.Admission(); !st.ok()) return st;
  absl::StatusOr<auth::Caller> who = Identify(ctx);
  if (!who.ok()) {
    spdlog::warn("refused {} from {}: {}", method, ctx.peer(), std::string(who.status().message()));
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(who.status().message()));
  }
  if (!auth::MayCall(*who, method)) {
    std::string why = "role " + std::string(auth::RoleName(who->role)) + " may not call " +
                      std::string(method);
    spdlog::warn("refused {} from {} ({}): {}", method, who->Describe(), ctx.peer(), why);
    grpc::Status denied(grpc::StatusCode::PERMISSION_DENIED, why);
    // Refusals are recorded, but nothing waits for it: nothing is returned.
    Record(*who, method, {}, 0, denied, nullptr);
    return denied;
  }
  if (caller) *caller = std::move(*who);
  return grpc::Status::OK;
}

storage::AuditEntry Guard::Entry(const auth::Caller& caller, std::string_view method,
                                 const AuditNote& note, std::string outcome) const {
  storage::AuditEntry e;
  e.at = clock_.Now();
  e.actor = caller.Describe();
  e.action = std::string(method);
  e.purpose = note.purpose;
  e.subject = note.subject;
  e.outcome = std::move(outcome);
  return e;
}

void Guard::Record(const auth::Caller& caller, std::string_view method, const AuditNote& note,
                   int64_t rows, const grpc::Status& status,
                   std::function<void(absl::Status)> done) {
  std::string outcome =
      status.ok() ? "ok"
      : status.error_code() == grpc::StatusCode::PERMISSION_DENIED
          ? "denied: " + status.error_message()
          : "failed: " + status.error_message();
  storage::AuditEntry e = Entry(caller, method, note, std::move(outcome));
  e.rows = rows;
  audit_.Record(std::move(e), std::move(done));
}

absl::Status Guard::RecordRequest(storage::Store& store, const auth::Caller& caller,
                                  std::string_view method, const AuditNote& note) {
  return audit_.AppendNow(store, Entry(caller, method, note, "requested"));
}

void Guard::FinishAudited(grpc::ServerUnaryReactor* reactor, const auth::Caller& caller,
                          std::string_view method, const AuditNote& note, int64_t rows,
                          grpc::Status status) {
  Record(caller, method, note, rows, status, [reactor, status](absl::Status st) {
    if (st.ok()) {
      reactor->Finish(status);
    } else {
      reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                                   "the audit log could not be written, so the results are "
                                   "withheld: " + std::string(st.message())));
    }
  });
}

}  // namespace cordon::rpc
