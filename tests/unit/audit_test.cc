// The access table, certificate subjects and the audit chain (pure parts).
#include <gtest/gtest.h>

#include "daemon/audit/audit_chain.h"
#include "daemon/auth/access.h"

namespace cordon {
namespace {

using audit::ChainVerifier;
using storage::AuditEntry;

TEST(CallerFromSubject, ReadsRoleFromOuAndNameFromCn) {
  auto gate = auth::CallerFromSubject("CN=north-1,OU=gate,O=Cordon");
  ASSERT_TRUE(gate.ok()) << gate.status();
  EXPECT_EQ(gate->role, auth::Role::kGate);
  EXPECT_EQ(gate->name, "north-1");
  EXPECT_EQ(gate->Describe(), "gate:north-1");
  auto escaped = auth::CallerFromSubject("CN=Li\\, Na,OU=security,O=Campus\\, East");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(escaped->name, "Li, Na");
}

TEST(CallerFromSubject, RefusesSubjectsWithoutOneRoleAndOneName) {
  for (const char* subject : {"CN=x,O=Cordon", "CN=x,OU=janitor", "OU=admin,O=Cordon",
                              "CN=,OU=admin", "CN=a,CN=b,OU=admin", "CN=a,OU=admin,OU=gate", ""}) {
    auto c = auth::CallerFromSubject(subject);
    EXPECT_FALSE(c.ok()) << subject;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied) << subject;
  }
}

TEST(AccessTable, EachRoleHasLeastPrivilege) {
  using auth::Role;
  auto may = [](Role r, const char* m) { return auth::MayCall(r, *auth::FindMethod(m)); };
  EXPECT_TRUE(may(Role::kGate, "GateService/Connect"));
  EXPECT_FALSE(may(Role::kSecurity, "GateService/Connect"));
  EXPECT_TRUE(may(Role::kSecurity, "SecurityService/TraceContacts"));
  EXPECT_FALSE(may(Role::kAdmin, "SecurityService/TraceContacts"));
  EXPECT_FALSE(may(Role::kAuditor, "SecurityService/ListMovements"));
  EXPECT_TRUE(may(Role::kAdmin, "AdminService/ApplyPolicy"));
  EXPECT_FALSE(may(Role::kSecurity, "AdminService/ApplyPolicy"));
  EXPECT_TRUE(may(Role::kAuditor, "AuditService/VerifyAudit"));
  EXPECT_FALSE(may(Role::kAdmin, "AuditService/ListAudit"));
  EXPECT_EQ(auth::FindMethod("AdminService/NoSuchCall"), nullptr);
  // Nobody but the gate may stream scans; only the auditor reads the log.
  for (const auto& m : auth::AccessTable()) {
    if (m.gate) {
      EXPECT_EQ(std::string(m.method), "GateService/Connect");
    }
    if (m.auditor) {
      EXPECT_EQ(std::string(m.method).rfind("AuditService/", 0), 0u) << m.method;
    }
  }
}

// A chain of n entries as AuditLog writes it.
struct Chain {
  std::string key = audit::ChainKey(std::string(32, 's'));
  std::vector<AuditEntry> entries;
  storage::AuditChainEnds ends;
  explicit Chain(int n) {
    std::string prev;
    for (int i = 1; i <= n; ++i) {
      AuditEntry e{i, FromUnixMicros(1'700'000'000'000'000 + i), "security:alice",
                   "SecurityService/TraceContacts", "case " + std::to_string(i), "person S1",
                   "ok", 3, prev, ""};
      e.hash = audit::EntryHash(key, prev, e);
      prev = e.hash;
      entries.push_back(e);
    }
    ends.head_id = n;
    ends.head_tag = audit::HeadTag(key, n, prev);
  }
  std::vector<std::string> Problems() const {
    std::vector<std::string> out;
    for (const auto& p : audit::VerifyChain(key, ends, entries)) out.push_back(p.Describe());
    return out;
  }
};

TEST(AuditChain, AnIntactChainHasNoProblems) {
  Chain c(10);
  EXPECT_TRUE(c.Problems().empty());
  // The same log under another campus's key does not verify.
  Chain other = c;
  other.key = audit::ChainKey(std::string(32, 't'));
  EXPECT_FALSE(other.Problems().empty());
}

TEST(AuditChain, NamesAnEditedEntryWhateverField) {
  for (int field = 0; field < 7; ++field) {
    Chain c(10);
    AuditEntry& e = c.entries[4];
    switch (field) {
      case 0: e.actor = "security:mallory"; break;
      case 1: e.purpose += "x"; break;
      case 2: e.subject = ""; break;
      case 3: e.rows = 0; break;
      case 4: e.outcome = "denied: no"; break;
      case 5: e.at += Micros(1); break;
      case 6: e.action = "SecurityService/ListMovements"; break;
    }
    EXPECT_EQ(c.Problems(), std::vector<std::string>{"entry 5 edited (its hash no longer matches)"})
        << field;
  }
}

TEST(AuditChain, NamesDeletedEntriesInTheMiddleAndAtTheEnd) {
  Chain c(10);
  c.entries.erase(c.entries.begin() + 3, c.entries.begin() + 5);  // ids 4 and 5
  EXPECT_EQ(c.Problems(), std::vector<std::string>{"entries 4-5 deleted"});
  Chain tail(10);
  tail.entries.resize(7);
  EXPECT_EQ(tail.Problems(), std::vector<std::string>{"entries 8-10 deleted (cut from the end)"});
  // Cutting the end and moving the head back needs the key to tag it.
  tail.ends.head_id = 7;
  EXPECT_EQ(tail.Problems(),
            std::vector<std::string>{"entry 7 edited (the chain's head no longer matches)"});
}

TEST(AuditChain, AnEditAfterADeletionIsStillNamed) {
  Chain c(6);
  c.entries.erase(c.entries.begin());  // id 1
  c.entries[0].purpose = "nothing to see";  // id 2
  EXPECT_EQ(c.Problems(), (std::vector<std::string>{
                              "entry 1 deleted", "entry 2 edited (its hash no longer matches)"}));
}

TEST(AuditChain, AReplacedEntryWithARecomputedHashStillBreaksTheChain) {
  // Without the key, a forger may only copy hashes around: moving entry 6's
  // content and hash into slot 3 breaks the links on both sides.
  Chain c(8);
  AuditEntry moved = c.entries[5];
  moved.id = 3;
  c.entries[2] = moved;
  EXPECT_FALSE(c.Problems().empty());
}

}  // namespace
}  // namespace cordon
