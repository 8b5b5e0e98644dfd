#include "daemon/rpc/event_watch.h"

#include <deque>

#include "daemon/rpc/convert.h"
#include "daemon/rpc/pool_writer.h"

namespace cordon::rpc {

bool EventFilter::Matches(const storage::MovementRow& m, const ZonePolicy& zones) const {
  if (gate != 0 && m.gate != gate) return false;
  if (person != 0 && m.person != person) return false;
  if (allowed && m.allowed != *allowed) return false;
  if (zone.empty()) return true;
  ZoneIndex want = zones.FindZone(zone);
  auto in = [&](const std::string& z) {
    ZoneIndex got = z.empty() ? kOutside : zones.FindZone(z);
    return got != kOutside && want != kOutside && zones.Within(got, want);
  };
  return in(m.zone) || in(m.at_zone);
}

void EventHub::Add(EventListener* l) {
  std::lock_guard lock(mu_);
  if (closed_) {
    l->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cordond is shutting down"));
    return;
  }
  listeners_.insert(l);
}

void EventHub::Remove(EventListener* l) {
  std::lock_guard lock(mu_);
  listeners_.erase(l);
}

void EventHub::Publish(std::span<const storage::RecordedEvent> batch, const ZonePolicy& zones) {
  std::lock_guard lock(mu_);
  if (listeners_.empty()) return;
  std::vector<storage::MovementRow> rows;
  rows.reserve(batch.size());
  for (const auto& e : batch) rows.push_back(ToMovementRow(e));
  for (EventListener* l : listeners_) l->Committed(rows, zones);
}

void EventHub::CloseAll(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (EventListener* l : listeners_) l->Close(status);
}

size_t EventHub::size() const {
  std::lock_guard lock(mu_);
  return listeners_.size();
}

storage::MovementRow ToMovementRow(const storage::RecordedEvent& e) {
  storage::MovementRow m;
  m.person = e.person;
  m.gate = e.gate;
  m.seq = e.seq;
  m.direction = e.direction;
  m.allowed = e.allowed;
  m.reason = e.reason;
  m.occurred_at = e.occurred_at;
  m.gate_time = e.gate_time;
  m.policy_version = e.policy_version;
  m.source = e.source;
  m.zone = e.allowed ? e.zone : std::string();
  m.at_zone = e.at_zone;
  m.rule = e.rule;
  return m;
}

void FillMovement(const storage::MovementRow& row, const PolicySnapshot& policy, v1::Movement* m) {
  if (const Person* p = policy.FindPerson(row.person)) m->set_person(p->external_id);
  m->set_gate_id(GateName(policy, row.gate));
  m->set_direction(ToProto(row.direction));
  m->set_allowed(row.allowed);
  m->set_reason(ToProto(row.reason));
  ToProto(row.occurred_at, m->mutable_occurred_at());
  ToProto(row.gate_time, m->mutable_gate_time());
  m->set_policy_version(row.policy_version);
  m->set_source(ToProto(row.source));
  m->set_seq(row.seq);
  m->set_zone(row.zone);
  m->set_from_zone(row.at_zone);
  if (row.rule.empty() && row.source == DecisionSource::kGateOffline) {
    m->set_rule("decided offline by the gate under policy v" + std::to_string(row.policy_version));
  } else {
    m->set_rule(row.rule);
  }
  m->set_event_id(row.id);
}

grpc::Status ToEventFilter(const std::string& gate_id, const std::string& zone,
                           v1::DecisionFilter decision, const std::string& person,
                           const PolicySnapshot& policy, EventFilter& filter) {
  if (!gate_id.empty()) {
    const Gate* g = policy.FindGate(gate_id);
    if (!g) return grpc::Status(grpc::StatusCode::NOT_FOUND, "gate_id: '" + gate_id + "' not registered");
    filter.gate = g->id;
  }
  if (!zone.empty()) {
    if (policy.zones->FindZone(zone) == kOutside) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "zone: no zone '" + zone + "' in the policy");
    }
    filter.zone = zone;
  }
  switch (decision) {
    case v1::DECISION_FILTER_ANY: break;
    case v1::DECISION_FILTER_ALLOWED: filter.allowed = true; break;
    case v1::DECISION_FILTER_DENIED: filter.allowed = false; break;
    default: return InvalidArgument("decision: unknown decision filter");
  }
  if (!person.empty()) {
    const Person* p = policy.FindByExternalId(person);
    if (!p) return grpc::Status(grpc::StatusCode::NOT_FOUND, "person: '" + person + "' not found");
    filter.person = p->id;
  }
  return grpc::Status::OK;
}

namespace {

// One watcher (pool_writer.h). Matching scans are queued on the writer
// thread, made into messages and written on the pool.
class EventWatch final : public PoolWriter<v1::WatchEventsResponse>, public EventListener {
 public:
  static constexpr size_t kMaxQueued = 10'000;

  EventWatch(EventHub& hub, PolicyHolder& policy, QueryRunner run_query, EventFilter filter)
      : PoolWriter(std::move(run_query)), hub_(hub), policy_(policy), filter_(std::move(filter)) {}

  void Start() {
    hub_.Add(this);
    Begin();
  }

  void Committed(std::span<const storage::MovementRow> rows, const ZonePolicy& zones) override {
    std::lock_guard lock(mu_);
    if (ClosingLocked()) return;
    bool added = false;
    for (const auto& row : rows) {
      if (!filter_.Matches(row, zones)) continue;
      if (queue_.size() >= kMaxQueued) {
        ++skipped_;
        continue;
      }
      queue_.push_back({row, skipped_});
      skipped_ = 0;
      added = true;
    }
    if (added) KickLocked();
  }

  void Close(const grpc::Status& status) override { PoolWriter::Close(status); }

 private:
  struct Queued {
    storage::MovementRow row;
    int64_t skipped_before = 0;
  };

  void Unregister() override { hub_.Remove(this); }

  bool NextLocked(v1::WatchEventsResponse& out) override {
    if (queue_.empty()) return false;
    out.Clear();
    FillMovement(queue_.front().row, *policy_.Get(), out.mutable_movement());
    out.set_skipped(queue_.front().skipped_before);
    queue_.pop_front();
    return true;
  }

  EventHub& hub_;
  PolicyHolder& policy_;
  const EventFilter filter_;
  std::deque<Queued> queue_;  // guarded by mu_
  int64_t skipped_ = 0;       // guarded by mu_: dropped since the last queued
};

}  // namespace

grpc::ServerWriteReactor<v1::WatchEventsResponse>* StartEventWatch(EventHub& hub,
                                                                   PolicyHolder& policy,
                                                                   QueryRunner run_query,
                                                                   EventFilter filter,
                                                                   AuditFirst audit) {
  auto* watch = new EventWatch(hub, policy, std::move(run_query), std::move(filter));
  StartAfterAudit(watch, audit);
  return watch;
}

}  // namespace cordon::rpc
