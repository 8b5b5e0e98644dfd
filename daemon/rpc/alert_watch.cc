#include "daemon/rpc/alert_watch.h"

#include "daemon/rpc/convert.h"
#include "daemon/rpc/pool_writer.h"

namespace cordon::rpc {

void AlertHub::Add(AlertListener* l) {
  std::lock_guard lock(mu_);
  if (closed_) {
    l->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cordond is shutting down"));
    return;
  }
  listeners_.insert(l);
}

void AlertHub::Remove(AlertListener* l) {
  std::lock_guard lock(mu_);
  listeners_.erase(l);
}

void AlertHub::Notify() {
  std::lock_guard lock(mu_);
  for (AlertListener* l : listeners_) l->AlertsCommitted();
}

void AlertHub::CloseAll(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (AlertListener* l : listeners_) l->Close(status);
}

size_t AlertHub::size() const {
  std::lock_guard lock(mu_);
  return listeners_.size();
}

grpc::Status ToAlertQuery(const v1::AlertFilter& filter, const PolicySnapshot& policy,
                          storage::AlertQuery& q) {
  for (int k : filter.kinds()) {
    auto kind = AlertKindFromNumber(k);
    if (!kind) return InvalidArgument("filter.kinds: unknown alert kind " + std::to_string(k));
    q.kinds.push_back(*kind);
  }
  if (filter.min_severity() < 0 || filter.min_severity() > v1::SEVERITY_CRITICAL) {
    return InvalidArgument("filter.min_severity: unknown severity");
  }
  if (filter.min_severity() > 0) q.min_severity = static_cast<Severity>(filter.min_severity());
  if (!filter.person().empty()) {
    const Person* p = policy.FindByExternalId(filter.person());
    if (!p) return grpc::Status(grpc::StatusCode::NOT_FOUND, "filter.person: '" + filter.person() + "' not found");
    q.person = p->id;
  }
  if (!filter.gate_id().empty()) {
    const Gate* g = policy.FindGate(filter.gate_id());
    if (!g) return grpc::Status(grpc::StatusCode::NOT_FOUND, "filter.gate_id: '" + filter.gate_id() + "' not registered");
    q.gate = g->id;
  }
  q.unacknowledged_only = filter.unacknowledged_only();
  return grpc::Status::OK;
}

void FillAlert(const storage::AlertRow& row, const PolicySnapshot& policy, v1::Alert* a) {
  a->set_id(row.id);
  a->set_kind(ToProto(row.kind));
  a->set_severity(ToProto(row.severity));
  ToProto(row.raised_at, a->mutable_raised_at());
  if (const Person* p = policy.FindPerson(row.person)) a->set_person(p->external_id);
  if (row.gate) a->set_gate_id(GateName(policy, row.gate));
  a->set_detail(row.detail.empty() && row.kind == AlertKind::kExitWithoutEntry
                    ? "exit with no entry on record: a wall climbed or a gate tailgated"
                    : row.detail);
  a->set_acknowledged_by(row.acknowledged_by);
  if (row.acknowledged_at) ToProto(*row.acknowledged_at, a->mutable_acknowledged_at());
}

namespace {

// One watcher (pool_writer.h): reads new alerts on the pool, a batch at a
// time, and writes them one by one.
class AlertWatch final : public PoolWriter<v1::Alert>, public AlertListener {
 public:
  static constexpr int kBatch = 500;

  AlertWatch(AlertHub& hub, storage::Store& store, PolicyHolder& policy, QueryRunner run_query,
             storage::AlertQuery query, int64_t since_id)
      : PoolWriter(std::move(run_query)), hub_(hub), store_(store), policy_(policy),
        query_(std::move(query)) {
    query_.limit = kBatch;
    if (since_id > 0) query_.after_id = since_id;
    pending_ = true;
  }

  void Start() {
    hub_.Add(this);
    Begin();
  }

  void AlertsCommitted() override {
    std::lock_guard lock(mu_);
    if (ClosingLocked()) return;
    pending_ = true;
    KickLocked();
  }

  void Close(const grpc::Status& status) override { PoolWriter::Close(status); }

 private:
  void Unregister() override { hub_.Remove(this); }

  void Fetch() override {
    std::optional<storage::AlertQuery> q;
    {
      std::lock_guard lock(mu_);
      if (!pending_ || !queue_.empty() || !IdleLocked()) return;
      pending_ = false;
      q = query_;
    }
    absl::StatusOr<std::vector<storage::AlertRow>> rows = std::vector<storage::AlertRow>{};
    if (!q->after_id) {
      // A new watch: everything after the newest alert stored is news.
      auto latest = store_.LatestAlertId();
      if (latest.ok()) {
        q->after_id = *latest;
      } else {
        rows = latest.status();  // rather than replay every alert ever raised
      }
    }
    if (rows.ok()) rows = store_.ListAlerts(*q);
    auto policy = policy_.Get();
    std::lock_guard lock(mu_);
    query_.after_id = q->after_id;
    if (!rows.ok()) {
      FailLocked(ToGrpc(rows.status()));
      return;
    }
    for (const auto& row : *rows) {
      FillAlert(row, *policy, &queue_.emplace_back());
      query_.after_id = row.id;
    }
    if (static_cast<int>(rows->size()) == kBatch) pending_ = true;  // more to read
  }

  bool NextLocked(v1::Alert& out) override {
    if (queue_.empty()) return false;
    out = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }
  // Another batch, or news that came during the query.
  bool MoreLocked() const override { return pending_; }

  AlertHub& hub_;
  storage::Store& store_;
  PolicyHolder& policy_;
  storage::AlertQuery query_;    // guarded by mu_
  std::deque<v1::Alert> queue_;  // guarded by mu_
  bool pending_ = false;         // guarded by mu_: alerts to read
};

}  // namespace

grpc::ServerWriteReactor<v1::Alert>* StartAlertWatch(AlertHub& hub, storage::Store& store,
                                                     PolicyHolder& policy, QueryRunner run_query,
                                                     storage::AlertQuery query, int64_t since_id,
                                                     AuditFirst audit) {
  auto* watch = new AlertWatch(hub, store, policy, std::move(run_query), std::move(query), since_id);
  StartAfterAudit(watch, audit);
  return watch;
}

}  // namespace cordon::rpc
