// SecurityService: movement logs, who is on campus now, alerts (listed,
// watched live, acknowledged). Queries run
// on the query pool (read-only connections), never on gRPC's threads.
#pragma once

#include "cordon/v1/security.grpc.pb.h"
#include "core/time.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/rpc/admin_service.h"
#include "daemon/rpc/alert_watch.h"
#include "daemon/rpc/event_watch.h"
#include "daemon/rpc/policy_holder.h"
#include "daemon/storage/store.h"

namespace cordon::rpc {

struct SecurityServiceDeps {
  PolicyHolder& policy;
  presence::CampusPresence& presence;
  storage::Store& store;
  const Clock& clock;
  const Lifecycle& lifecycle;
  Guard& guard;
  QueryRunner run_query;
  AlertHub& alerts;
  storage::JournalWriter& journal;  // acknowledgements are written on its thread
  EventHub& events;
};

class SecurityService final : public v1::SecurityService::CallbackService {
 public:
  explicit SecurityService(SecurityServiceDeps deps) : deps_(std::move(deps)) {}

  grpc::ServerUnaryReactor* ListMovements(grpc::CallbackServerContext* ctx,
                                          const v1::ListMovementsRequest* req,
                                          v1::ListMovementsResponse* resp) override;
  grpc::ServerUnaryReactor* ListPresence(grpc::CallbackServerContext* ctx,
                                         const v1::ListPresenceRequest* req,
                                         v1::ListPresenceResponse* resp) override;
  grpc::ServerUnaryReactor* ListStays(grpc::CallbackServerContext* ctx,
                                      const v1::ListStaysRequest* req,
                                      v1::ListStaysResponse* resp) override;
  grpc::ServerUnaryReactor* TraceContacts(grpc::CallbackServerContext* ctx,
                                          const v1::TraceContactsRequest* req,
                                          v1::TraceContactsResponse* resp) override;
  grpc::ServerUnaryReactor* GetOccupancy(grpc::CallbackServerContext* ctx,
                                         const v1::GetOccupancyRequest* req,
                                         v1::GetOccupancyResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* ctx, const v1::WatchEventsRequest* req) override;
  grpc::ServerUnaryReactor* GetDailyReport(grpc::CallbackServerContext* ctx,
                                           const v1::GetDailyReportRequest* req,
                                           v1::DailyReport* resp) override;
  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* ctx,
                                       const v1::ListAlertsRequest* req,
                                       v1::ListAlertsResponse* resp) override;
  grpc::ServerWriteReactor<v1::Alert>* WatchAlerts(grpc::CallbackServerContext* ctx,
                                                   const v1::WatchAlertsRequest* req) override;
  grpc::ServerUnaryReactor* AcknowledgeAlert(grpc::CallbackServerContext* ctx,
                                             const v1::AcknowledgeAlertRequest* req,
                                             v1::AcknowledgeAlertResponse* resp) override;

 private:
  SecurityServiceDeps deps_;
};

}  // namespace cordon::rpc
