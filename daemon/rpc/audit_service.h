// AuditService: the auditor reads and verifies the audit log. Reads run on
// the query pool.
#pragma once

#include "cordon/v1/audit.grpc.pb.h"
#include "daemon/audit/audit_log.h"
#include "daemon/rpc/admin_service.h"
#include "daemon/rpc/guard.h"

namespace cordon::rpc {

struct AuditServiceDeps {
  Guard& guard;
  audit::AuditLog& log;
  storage::Store& store;
  const Clock& clock;
  QueryRunner run_query;
};

class AuditService final : public v1::AuditService::CallbackService {
 public:
  explicit AuditService(AuditServiceDeps deps) : deps_(std::move(deps)) {}

  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* ctx,
                                      const v1::ListAuditRequest* req,
                                      v1::ListAuditResponse* resp) override;
  grpc::ServerUnaryReactor* VerifyAudit(grpc::CallbackServerContext* ctx,
                                        const v1::VerifyAuditRequest* req,
                                        v1::VerifyAuditResponse* resp) override;

 private:
  AuditServiceDeps deps_;
};

}  // namespace cordon::rpc
