// Who is calling and what they may do. A caller's role and name come from
// the subject of their client certificate (OU = role, CN = name; a gate's CN
// is its gate id), issued by the campus CA (deploy/pki/cordon-pki). Each RPC
// is open to a fixed set of roles: least privilege, in one table.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cordon::auth {

enum class Role { kGate, kSecurity, kAdmin, kAuditor };

std::string_view RoleName(Role role);
std::optional<Role> RoleFromName(std::string_view name);

struct Caller {
  Role role = Role::kGate;
  std::string name;       // the certificate's CN
  bool insecure = false;  // plain-text mode: no certificate, every role
  // "security:alice", or "insecure:<peer>" without TLS.
  std::string Describe() const;
};

// The subject as gRPC reports it (RFC 2253, e.g. "CN=east-1,OU=gate,O=Campus").
// Exactly one OU naming a role and one non-empty CN are required.
absl::StatusOr<Caller> CallerFromSubject(std::string_view subject);

// Methods by their gRPC path without the package and slashes:
// "SecurityService/ListMovements".
struct MethodAccess {
  std::string_view method;
  bool gate, security, admin, auditor;
};
std::span<const MethodAccess> AccessTable();
// nullptr for a method not in the table (refused).
const MethodAccess* FindMethod(std::string_view method);
bool MayCall(Role role, const MethodAccess& method);
bool MayCall(const Caller& caller, std::string_view method);

}  // namespace cordon::auth
