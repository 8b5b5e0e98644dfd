#include "daemon/auth/access.h"

#include <array>
#include <vector>

namespace cordon::auth {
namespace {

// gate, security, admin, auditor. Which calls are audited is said where each
// finishes (Guard::FinishAudited): reads of movement or health data and changes.
constexpr std::array<MethodAccess, 33> kTable{{
    {"GateService/Connect", true, false, false, false},
    // The administrator changes policy and people. Security may look up gates
    // and people (a person's record carries health and quarantine, audited).
    {"AdminService/RegisterGate", false, false, true, false},
    {"AdminService/ListGates", false, true, true, false},
    {"AdminService/AddPerson", false, false, true, false},
    {"AdminService/SetPersonActive", false, false, true, false},
    {"AdminService/ListPeople", false, true, true, false},
    {"AdminService/GetPerson", false, true, true, false},
    {"AdminService/ImportRoster", false, false, true, false},
    {"AdminService/SetQuarantine", false, false, true, false},
    {"AdminService/ClearQuarantine", false, false, true, false},
    {"AdminService/IssuePass", false, false, true, false},
    {"AdminService/ApplyPolicy", false, false, true, false},
    {"AdminService/GetPolicy", false, true, true, false},
    {"AdminService/ListPolicyVersions", false, true, true, false},
    {"AdminService/RollbackPolicy", false, false, true, false},
    // Replays recorded scans against a draft policy: reads movements.
    {"AdminService/SimulatePolicy", false, false, true, false},
    {"AdminService/SetMode", false, false, true, false},
    {"AdminService/SetHealth", false, false, true, false},
    {"AdminService/GrantLeave", false, false, true, false},
    {"AdminService/RecordDisinfection", false, false, true, false},
    // A copy of everything.
    {"AdminService/Backup", false, false, true, false},
    // The security office reads movements, stays, contacts, occupancy, alerts.
    {"SecurityService/ListMovements", false, true, false, false},
    {"SecurityService/ListPresence", false, true, false, false},
    {"SecurityService/ListStays", false, true, false, false},
    {"SecurityService/TraceContacts", false, true, false, false},
    {"SecurityService/GetOccupancy", false, true, false, false},
    {"SecurityService/WatchEvents", false, true, false, false},
    {"SecurityService/GetDailyReport", false, true, false, false},
    {"SecurityService/ListAlerts", false, true, false, false},
    {"SecurityService/WatchAlerts", false, true, false, false},
    {"SecurityService/AcknowledgeAlert", false, true, false, false},
    // The auditor reads the audit log and nothing else.
    {"AuditService/ListAudit", false, false, false, true},
    {"AuditService/VerifyAudit", false, false, false, true},
}};

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kGate: return "gate";
    case Role::kSecurity: return "security";
    case Role::kAdmin: return "admin";
    case Role::kAuditor: return "auditor";
  }
  return "?";
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role r : {Role::kGate, Role::kSecurity, Role::kAdmin, Role::kAuditor}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string Caller::Describe() const {
  return (insecure ? std::string("insecure") : std::string(RoleName(role))) + ":" + name;
}

absl::StatusOr<Caller> CallerFromSubject(std::string_view subject) {
  // Split on unescaped commas, then each attribute on its first '='.
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string key, value;
  bool in_value = false, escaped = false;
  auto flush = [&] {
    attrs.emplace_back(key, value);
    key.clear();
    value.clear();
    in_value = false;
  };
  for (char c : subject) {
    if (escaped) {
      (in_value ? value : key) += c;
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == ',') {
      flush();
    } else if (c == '=' && !in_value) {
      in_value = true;
    } else {
      (in_value ? value : key) += c;
    }
  }
  if (!key.empty() || in_value) flush();
  std::optional<std::string> cn, ou;
  for (auto& [k, v] : attrs) {
    if (k == "CN") {
      if (cn) return absl::PermissionDeniedError("certificate subject has more than one CN");
      cn = v;
    } else if (k == "OU") {
      if (ou) return absl::PermissionDeniedError("certificate subject has more than one OU");
      ou = v;
    }
  }
  if (!ou) return absl::PermissionDeniedError("certificate subject has no OU (the role)");
  auto role = RoleFromName(*ou);
  if (!role) {
    return absl::PermissionDeniedError("certificate OU '" + *ou +
                                       "' is not a role (gate, security, admin, auditor)");
  }
  if (!cn || cn->empty()) return absl::PermissionDeniedError("certificate subject has no CN");
  return Caller{*role, *cn, false};
}

std::span<const MethodAccess> AccessTable() { return kTable; }

const MethodAccess* FindMethod(std::string_view method) {
  for (const MethodAccess& m : kTable) {
    if (m.method == method) return &m;
  }
  return nullptr;
}

bool MayCall(Role role, const MethodAccess& m) {
  switch (role) {
    case Role::kGate: return m.gate;
    case Role::kSecurity: return m.security;
    case Role::kAdmin: return m.admin;
    case Role::kAuditor: return m.auditor;
  }
  return false;
}

bool MayCall(const Caller& caller, std::string_view method) {
  const MethodAccess* m = FindMethod(method);
  if (!m) return false;
  return caller.insecure || MayCall(caller.role, *m);
}

}  // namespace cordon::auth
