// Every call passes the guard first: cordond must be serving, and the
// caller's certificate must carry a role allowed to make the call
// (auth::AccessTable). A refusal is PERMISSION_DENIED naming the role and
// the call, and is written to the audit log. Calls that read movement or
// health data, or change policy or people, finish through FinishAudited:
// their answer leaves only once the audit entry is committed.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "core/time.h"
#include "daemon/audit/audit_log.h"
#include "daemon/auth/access.h"
#include "daemon/rpc/lifecycle.h"

namespace cordon::rpc {

// What an audited call asked for and why, filled in as the handler learns it.
struct AuditNote {
  std::string subject;  // "person S17, 2026-11-01T00:00Z..2026-11-15T00:00Z"
  std::string purpose;  // the case reference or reason given
};

// The request as the entry's subject (filters, ids, times: never a
// credential; requests that carry one are not audited reads), cut to 500
// characters.
inline AuditNote Note(const google::protobuf::Message& request, std::string purpose = "") {
  return {request.ShortDebugString().substr(0, 500), std::move(purpose)};
}

class Guard {
 public:
  // `insecure`: plain text, no certificates; every caller may make every
  // call (development only; cordond warns at start).
  Guard(const Lifecycle& lifecycle, audit::AuditLog& audit, const Clock& clock, bool insecure)
      : lifecycle_(lifecycle), audit_(audit), clock_(clock), insecure_(insecure) {}

  // OK when the call may proceed; `caller` (if given) says who is calling.
  // `method` as in the access table: "SecurityService/ListMovements".
  grpc::Status Admit(const grpc::ServerContextBase& ctx, std::string_view method,
                     auth::Caller* caller = nullptr);

  // Writes the audit entry for a call that read or changed data (outcome from
  // `status`), then finishes `reactor`; if the entry cannot be written the
  // call fails with INTERNAL and its results are withheld.
  void FinishAudited(grpc::ServerUnaryReactor* reactor, const auth::Caller& caller,
                     std::string_view method, const AuditNote& note, int64_t rows,
                     grpc::Status status);
  // The same for callers that are not a unary reactor (streams): `done` gets
  // the audit write's result.
  void Record(const auth::Caller& caller, std::string_view method, const AuditNote& note,
              int64_t rows, const grpc::Status& status, std::function<void(absl::Status)> done);

  // On the writer thread, before a change is made: commits the entry that
  // `caller` asked for it (outcome "requested"). Not OK: the change must not
  // be made. The outcome follows in a second entry (Record).
  absl::Status RecordRequest(storage::Store& store, const auth::Caller& caller,
                             std::string_view method, const AuditNote& note);

  // Who is calling, from the TLS peer (or the peer address when insecure).
  absl::StatusOr<auth::Caller> Identify(const grpc::ServerContextBase& ctx) const;

 private:
  storage::AuditEntry Entry(const auth::Caller& caller, std::string_view method,
                            const AuditNote& note, std::string outcome) const;

  const Lifecycle& lifecycle_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  const bool insecure_;
};

}  // namespace cordon::rpc
