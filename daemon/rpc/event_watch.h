// The live view (SecurityService.WatchEvents): every scan, as soon as it is
// committed, to each watcher whose filter it matches.
//
// The journal writer publishes each committed batch; matching events are
// queued per watcher (bounded: a watcher that reads too slowly skips events
// and is told how many) and written from the query pool, never from the
// writer thread or under a lock.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "cordon/v1/security.grpc.pb.h"
#include "daemon/rpc/admin_service.h"
#include "daemon/rpc/policy_holder.h"
#include "daemon/storage/records.h"

namespace cordon::rpc {

struct EventFilter {
  GateRowId gate = 0;  // 0: any
  std::string zone;    // "": any; else scans leading into or starting from it (or below)
  std::optional<bool> allowed;
  PersonId person = 0;
  bool Matches(const storage::MovementRow& m, const ZonePolicy& zones) const;
};

class EventListener {
 public:
  virtual ~EventListener() = default;
  virtual void Committed(std::span<const storage::MovementRow> rows, const ZonePolicy& zones) = 0;
  virtual void Close(const grpc::Status& status) = 0;
};

class EventHub {
 public:
  void Add(EventListener* l);
  void Remove(EventListener* l);
  // On the writer thread, after each commit. Cheap when nobody watches.
  void Publish(std::span<const storage::RecordedEvent> batch, const ZonePolicy& zones);
  void CloseAll(const grpc::Status& status);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::set<EventListener*> listeners_;  // guarded by mu_
  bool closed_ = false;                 // guarded by mu_
};

// A stored or live movement as the security office sees it.
void FillMovement(const storage::MovementRow& row, const PolicySnapshot& policy, v1::Movement* m);
storage::MovementRow ToMovementRow(const storage::RecordedEvent& e);

// Builds the filter of ListMovements/WatchEvents fields; an error names the field.
grpc::Status ToEventFilter(const std::string& gate_id, const std::string& zone,
                           v1::DecisionFilter decision, const std::string& person,
                           const PolicySnapshot& policy, EventFilter& filter);

grpc::ServerWriteReactor<v1::WatchEventsResponse>* StartEventWatch(EventHub& hub,
                                                                   PolicyHolder& policy,
                                                                   QueryRunner run_query,
                                                                   EventFilter filter,
                                                                   AuditFirst audit = nullptr);

}  // namespace cordon::rpc
