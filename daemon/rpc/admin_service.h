// AdminService: gates, people, roster import, quarantine orders, passes,
// the campus policy document and mode, health codes, leaves, disinfections.
//
// A change is checked for shape in the reaction, then runs as a job on the
// journal writer thread: checked against the current policy, written in one
// transaction with the next policy version, and only then published as the
// new snapshot. Changes are therefore serialised and never race each other.
#pragma once

#include <functional>
#include <string>

#include "cordon/v1/admin.grpc.pb.h"
#include "core/credential.h"
#include "core/time.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/rpc/gate_ledger.h"
#include "daemon/rpc/guard.h"
#include "daemon/rpc/lifecycle.h"
#include "daemon/rpc/policy_holder.h"
#include "daemon/storage/journal_writer.h"

namespace cordon::rpc {

// Runs a read that may take a while (sorting, SQL) off the gRPC threads.
using QueryRunner = std::function<void(std::function<void()>)>;
// Writes a stream's audit entry and calls back with the result; the stream
// sends nothing before an OK (PoolWriter::Hold).
using AuditFirst = std::function<void(std::function<void(absl::Status)>)>;

struct AdminServiceDeps {
  PolicyHolder& policy;
  presence::CampusPresence& presence;
  storage::JournalWriter& journal;
  GateLedger& ledger;
  const CredentialHasher& hasher;
  const Clock& clock;
  const Lifecycle& lifecycle;
  Guard& guard;
  QueryRunner run_query;
  storage::Store& store;     // backups read through it (query threads)
  std::string scratch_dir;   // where a backup copy is staged while it streams
};

class AdminService final : public v1::AdminService::CallbackService {
 public:
  explicit AdminService(AdminServiceDeps deps) : deps_(std::move(deps)) {}

  grpc::ServerUnaryReactor* RegisterGate(grpc::CallbackServerContext* ctx,
                                         const v1::RegisterGateRequest* req,
                                         v1::Gate* resp) override;
  grpc::ServerUnaryReactor* ListGates(grpc::CallbackServerContext* ctx,
                                      const v1::ListGatesRequest* req,
                                      v1::ListGatesResponse* resp) override;
  grpc::ServerUnaryReactor* AddPerson(grpc::CallbackServerContext* ctx,
                                      const v1::AddPersonRequest* req,
                                      v1::Person* resp) override;
  grpc::ServerUnaryReactor* SetPersonActive(grpc::CallbackServerContext* ctx,
                                            const v1::SetPersonActiveRequest* req,
                                            v1::Person* resp) override;
  grpc::ServerUnaryReactor* ListPeople(grpc::CallbackServerContext* ctx,
                                       const v1::ListPeopleRequest* req,
                                       v1::ListPeopleResponse* resp) override;
  grpc::ServerUnaryReactor* GetPerson(grpc::CallbackServerContext* ctx,
                                      const v1::GetPersonRequest* req,
                                      v1::PersonDetail* resp) override;
  grpc::ServerReadReactor<v1::ImportRosterChunk>* ImportRoster(
      grpc::CallbackServerContext* ctx, v1::ImportRosterReport* resp) override;
  grpc::ServerUnaryReactor* SetQuarantine(grpc::CallbackServerContext* ctx,
                                          const v1::SetQuarantineRequest* req,
                                          v1::QuarantineOrder* resp) override;
  grpc::ServerUnaryReactor* ClearQuarantine(grpc::CallbackServerContext* ctx,
                                            const v1::ClearQuarantineRequest* req,
                                            v1::ClearQuarantineResponse* resp) override;
  grpc::ServerUnaryReactor* IssuePass(grpc::CallbackServerContext* ctx,
                                      const v1::IssuePassRequest* req,
                                      v1::SingleVisitPass* resp) override;

  grpc::ServerUnaryReactor* ApplyPolicy(grpc::CallbackServerContext* ctx,
                                        const v1::ApplyPolicyRequest* req,
                                        v1::ApplyPolicyResponse* resp) override;
  grpc::ServerUnaryReactor* GetPolicy(grpc::CallbackServerContext* ctx,
                                      const v1::GetPolicyRequest* req,
                                      v1::PolicyDocument* resp) override;
  grpc::ServerUnaryReactor* ListPolicyVersions(grpc::CallbackServerContext* ctx,
                                               const v1::ListPolicyVersionsRequest* req,
                                               v1::ListPolicyVersionsResponse* resp) override;
  grpc::ServerUnaryReactor* RollbackPolicy(grpc::CallbackServerContext* ctx,
                                           const v1::RollbackPolicyRequest* req,
                                           v1::ApplyPolicyResponse* resp) override;
  grpc::ServerUnaryReactor* SimulatePolicy(grpc::CallbackServerContext* ctx,
                                           const v1::SimulatePolicyRequest* req,
                                           v1::SimulatePolicyResponse* resp) override;
  grpc::ServerUnaryReactor* SetMode(grpc::CallbackServerContext* ctx,
                                    const v1::SetModeRequest* req,
                                    v1::ApplyPolicyResponse* resp) override;
  grpc::ServerUnaryReactor* SetHealth(grpc::CallbackServerContext* ctx,
                                      const v1::SetHealthRequest* req,
                                      v1::SetHealthResponse* resp) override;
  grpc::ServerUnaryReactor* GrantLeave(grpc::CallbackServerContext* ctx,
                                       const v1::GrantLeaveRequest* req,
                                       v1::Leave* resp) override;
  grpc::ServerUnaryReactor* RecordDisinfection(grpc::CallbackServerContext* ctx,
                                               const v1::RecordDisinfectionRequest* req,
                                               v1::RecordDisinfectionResponse* resp) override;

  grpc::ServerWriteReactor<v1::BackupChunk>* Backup(grpc::CallbackServerContext* ctx,
                                                    const v1::BackupRequest* req) override;

  const AdminServiceDeps& deps() const { return deps_; }

 private:
  // Runs `change` on the writer thread and finishes the call with its status.
  // `change` gets the store, the current snapshot and the next version.
  using Change = std::function<grpc::Status(storage::Store&, const PolicySnapshot& current,
                                            int64_t next_version)>;
  grpc::ServerUnaryReactor* RunChange(grpc::CallbackServerContext* ctx, const auth::Caller& caller,
                                      std::string_view method, std::string subject,
                                      const char* what, Change change);
  // Copies `current` as the next snapshot to edit.
  static std::shared_ptr<PolicySnapshot> NextSnapshot(const PolicySnapshot& current,
                                                      int64_t version);

  // Installs a new layout (a document applied or rolled back) as `version`.
  grpc::Status InstallLayout(storage::Store& store, const PolicySnapshot& current, int64_t version,
                             std::shared_ptr<const ZonePolicy> layout, const std::string& change,
                             const std::string& by, bool dry_run, v1::ApplyPolicyResponse* resp);

  AdminServiceDeps deps_;
};

}  // namespace cordon::rpc
