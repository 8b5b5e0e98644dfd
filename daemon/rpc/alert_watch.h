// Live alerts for the security office (SecurityService.WatchAlerts).
//
// An alert is stored first and streamed second: a watcher is told "new
// alerts were committed" and reads them from the database by id on the query
// pool, so every streamed alert has its id (to acknowledge it) and a client
// that reconnects resumes from the last id it saw without a gap.
#pragma once

#include <deque>
#include <mutex>
#include <set>

#include "cordon/v1/security.grpc.pb.h"
#include "daemon/rpc/admin_service.h"
#include "daemon/rpc/policy_holder.h"
#include "daemon/storage/store.h"

namespace cordon::rpc {

class AlertListener {
 public:
  virtual ~AlertListener() = default;
  virtual void AlertsCommitted() = 0;
  virtual void Close(const grpc::Status& status) = 0;
};

// Who is watching. Notify() may be called from any thread, as often as
// alerts are committed.
class AlertHub {
 public:
  void Add(AlertListener* l);
  void Remove(AlertListener* l);
  void Notify();
  // Ends every watch (daemon shutdown).
  void CloseAll(const grpc::Status& status);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::set<AlertListener*> listeners_;  // guarded by mu_
  bool closed_ = false;                 // guarded by mu_
};

// Builds the ListAlerts/WatchAlerts filter; an error names the field.
grpc::Status ToAlertQuery(const v1::AlertFilter& filter, const PolicySnapshot& policy,
                          storage::AlertQuery& q);
void FillAlert(const storage::AlertRow& row, const PolicySnapshot& policy, v1::Alert* out);

grpc::ServerWriteReactor<v1::Alert>* StartAlertWatch(AlertHub& hub, storage::Store& store,
                                                     PolicyHolder& policy, QueryRunner run_query,
                                                     storage::AlertQuery query, int64_t since_id,
                                                     AuditFirst audit = nullptr);

}  // namespace cordon::rpc
