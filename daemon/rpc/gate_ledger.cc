#include "daemon/rpc/gate_ledger.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <pthread.h>

#include <cstdlib>

#include <spdlog/spdlog.h>
#include <string>

namespace cordon::rpc {

grpc::ByteBuffer GateConnection::SerializeForGate(const v1::DaemonMessage& message) {
  grpc::ByteBuffer out;
  bool own = false;
  grpc::Status st = grpc::SerializationTraits<v1::DaemonMessage>::Serialize(message, &out, &own);
  // Only a message over 2 GiB fails; ours are capped far below.
  if (!st.ok()) std::abort();
  return out;
}

void GateLedger::Restore(std::span<const storage::IncarnationMark> marks) {
  std::lock_guard lock(mu_);
  for (const auto& m : marks) {
    Incarnation& inc = gates_[m.gate].incarnations[m.incarnation];
    inc.committed = m.highest_seq;
    inc.highest_admitted = m.highest_seq;
  }
}

absl::Status GateLedger::Connect(GateRowId gate, uint64_t incarnation, uint64_t last_assigned_seq,
                                 GateConnection* conn, TimePoint now,
                                 const std::function<void(uint64_t committed)>& greet) {
  std::lock_guard lock(mu_);
  GateEntry& entry = gates_[gate];
  Incarnation& inc = entry.incarnations[incarnation];
  if (last_assigned_seq < inc.highest_admitted) {
    return absl::FailedPreconditionError(
        "hello.last_assigned_seq: the gate's outbox has assigned up to " +
        std::to_string(last_assigned_seq) + " but the daemon already received " +
        std::to_string(inc.highest_admitted) +
        " from this incarnation; the outbox was restored from an older copy. Move it aside "
        "and start the gate with a new outbox");
  }
  if (entry.conn != nullptr && entry.conn != conn) {
    entry.conn->Close(grpc::Status(grpc::StatusCode::ABORTED,
                                   "superseded by a newer connection from the same gate"));
  }
  greet(inc.committed);
  inc.told = inc.committed;  // the Welcome carries it
  entry.conn = conn;
  entry.conn_incarnation = incarnation;
  entry.last_seen = now;
  return absl::OkStatus();
}

void GateLedger::Disconnect(GateRowId gate, GateConnection* conn) {
  std::lock_guard lock(mu_);
  paused_.erase(conn);
  auto it = gates_.find(gate);
  if (it != gates_.end() && it->second.conn == conn) it->second.conn = nullptr;
}

absl::StatusOr<GateLedger::Admission> GateLedger::Admit(GateRowId gate, uint64_t incarnation,
                                                        uint64_t seq, TimePoint now,
                                                        bool answered) {
  std::lock_guard lock(mu_);
  GateEntry& entry = gates_[gate];
  entry.last_seen = now;
  Incarnation& inc = entry.incarnations[incarnation];
  Admission a;
  a.committed_up_to = inc.committed;
  if (seq <= inc.committed) {
    a.kind = Admission::Kind::kCommitted;
    return a;
  }
  if (auto it = inc.pending.find(seq); it != inc.pending.end()) {
    a.kind = Admission::Kind::kPending;
    a.decision = it->second;
    return a;
  }
  if (seq < inc.highest_admitted) {
    // Every received seq above `committed` is pending; this one never came.
    return absl::InvalidArgumentError("scan.seq: " + std::to_string(seq) + " is below " +
                                      std::to_string(inc.highest_admitted) +
                                      " already received; sequence numbers must increase");
  }
  inc.highest_admitted = seq;
  inc.pending.emplace(seq, std::nullopt);
  a.kind = Admission::Kind::kNew;
  if (answered && entry.conn_incarnation == incarnation) inc.told = inc.committed;
  return a;
}

void GateLedger::RecordDecision(GateRowId gate, uint64_t incarnation, uint64_t seq,
                                v1::Decision decision) {
  std::lock_guard lock(mu_);
  auto& pending = gates_[gate].incarnations[incarnation].pending;
  if (auto it = pending.find(seq); it != pending.end()) it->second = std::move(decision);
}

void GateLedger::Touch(GateRowId gate, TimePoint now) {
  std::lock_guard lock(mu_);
  gates_[gate].last_seen = now;
}

std::vector<GateLedger::Key> GateLedger::OnCommitted(
    std::span<const storage::RecordedEvent> batch, Steady now) {
  // Highest committed seq per (gate, incarnation) in this batch. Batches are
  // small maps: a handful of gates each.
  std::map<Key, uint64_t> highest;
  for (const auto& e : batch) {
    auto& h = highest[{e.gate, e.incarnation}];
    h = std::max(h, e.seq);
  }
  std::vector<Key> touched;
  touched.reserve(highest.size());
  std::lock_guard lock(mu_);
  for (const auto& [key, seq] : highest) {
    Incarnation& inc = gates_[key.first].incarnations[key.second];
    if (seq > inc.committed && inc.committed == inc.told) inc.untold_since = now;
    inc.committed = std::max(inc.committed, seq);
    inc.pending.erase(inc.pending.begin(), inc.pending.upper_bound(inc.committed));
    touched.push_back(key);
  }
  return touched;
}

GateLedger::AckRound GateLedger::SendAcks(std::span<const Key> keys, Steady now,
                                          const AckPolicy& policy) {
  AckRound round;
  // One gate at a time: a send may do the TCP write inline, and every scan's
  // Admit waits for mu_. Holding it across a whole round (50 sends at
  // 1,000 scans/s) stalled every gate stream for a millisecond each commit.
  for (const Key& key : keys) {
    std::lock_guard lock(mu_);
    auto gate = gates_.find(key.first);
    if (gate == gates_.end()) continue;
    GateEntry& entry = gate->second;
    // No live stream: its next Welcome tells it.
    if (entry.conn == nullptr || entry.conn_incarnation != key.second) continue;
    Incarnation& inc = entry.incarnations[key.second];
    if (inc.committed <= inc.told) continue;  // a Decision told it
    const Steady due = inc.untold_since + policy.delay;
    if (inc.committed - inc.told < policy.bulk && now < due) {
      round.waiting.push_back(key);
      round.due = round.due ? std::min(*round.due, due) : due;
      continue;
    }
    v1::DaemonMessage ack;
    ack.mutable_persist_ack()->set_up_to_seq(inc.committed);
    inc.told = inc.committed;
    entry.conn->Send(ack);
  }
  return round;
}

AckSender::AckSender(GateLedger& ledger, GateLedger::AckPolicy policy)
    : ledger_(ledger), policy_(policy) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cordon-acks");
    Run();
  });
}

void AckSender::Post(std::vector<GateLedger::Key> keys) {
  if (keys.empty()) return;
  {
    std::lock_guard lock(mu_);
    pending_.insert(keys.begin(), keys.end());
    ++posted_;
  }
  cv_.notify_all();
}

bool AckSender::Flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  flushing_ = true;
  cv_.notify_all();
  // One more round, so that what was waiting goes at once.
  const uint64_t target = ++posted_;
  return cv_.wait_until(lock, deadline,
                        [&] { return (sent_ >= target && waiting_ == 0) || stop_; });
}

void AckSender::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AckSender::Run() {
  // Incarnations not yet due stay in pending_ and are looked at again each
  // round: a Decision may tell them first.
  std::optional<GateLedger::Steady> due;
  // Acks falling due within this much of each other go in one round.
  constexpr auto kGather = std::chrono::milliseconds(10);
  std::unique_lock lock(mu_);
  for (;;) {
    auto work = [&] { return stop_ || sent_ < posted_; };
    if (due) {
      cv_.wait_until(lock, *due + kGather, work);
    } else {
      cv_.wait(lock, work);
    }
    if (stop_) return;
    std::vector<GateLedger::Key> keys(pending_.begin(), pending_.end());
    pending_.clear();
    const uint64_t round = posted_;
    GateLedger::AckPolicy policy = policy_;
    if (flushing_) policy = {std::chrono::milliseconds(0), 0};
    lock.unlock();
    GateLedger::AckRound left = ledger_.SendAcks(keys, std::chrono::steady_clock::now(), policy);
    lock.lock();
    pending_.insert(left.waiting.begin(), left.waiting.end());
    due = left.due;
    sent_ = round;
    waiting_ = left.waiting.size();
    cv_.notify_all();
  }
}

void GateLedger::LimitBacklog(size_t high, std::function<size_t()> uncommitted) {
  std::lock_guard lock(mu_);
  backlog_high_ = high;
  uncommitted_ = std::move(uncommitted);
}

bool GateLedger::PauseIfBacklogged(GateConnection* conn, bool bulk) {
  // Live gates send one scan at a time and keep flowing while a replay waits.
  // The limit is set before serving; the common case reads on without mu_.
  const size_t limit = bulk ? backlog_high_ : 4 * backlog_high_;
  if (backlog_high_ == 0 || uncommitted_() < limit) return false;
  std::lock_guard lock(mu_);
  if (uncommitted_() < limit) return false;  // again under mu_: see ResumeIfRoom
  if (paused_.empty()) paused_since_ = std::chrono::steady_clock::now();
  paused_.insert(conn);
  return true;
}

void GateLedger::ResumeIfRoom() {
  std::lock_guard lock(mu_);
  if (paused_.empty()) return;
  const size_t waiting = uncommitted_();
  if (waiting > backlog_high_ / 2) return;
  auto paused_for = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - paused_since_);
  // A replay pauses for a moment many times; only a long pause is news.
  if (paused_for >= std::chrono::seconds(1)) {
    spdlog::info("ingest: {} gate streams read again after {} ms paused: more than {} events "
                 "were waiting to be committed, {} now",
                 paused_.size(), paused_for.count(), backlog_high_, waiting);
  }
  for (GateConnection* conn : paused_) conn->ResumeReading();
  paused_.clear();
}

size_t GateLedger::PausedCount() const {
  std::lock_guard lock(mu_);
  return paused_.size();
}

void GateLedger::CloseAll(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  for (auto& [gate, entry] : gates_) {
    if (entry.conn != nullptr) entry.conn->Close(status);
  }
}

GateLedger::GateStatus GateLedger::StatusOf(GateRowId gate) const {
  std::lock_guard lock(mu_);
  auto it = gates_.find(gate);
  if (it == gates_.end()) return {};
  GateConnection* conn = it->second.conn;
  return GateStatus{conn != nullptr, it->second.last_seen, conn != nullptr && paused_.contains(conn)};
}

size_t GateLedger::ConnectedCount() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [gate, entry] : gates_) n += entry.conn != nullptr;
  return n;
}

void GateLedger::SendTo(GateRowId gate, const v1::DaemonMessage& message) {
  grpc::ByteBuffer bytes = GateConnection::SerializeForGate(message);
  std::lock_guard lock(mu_);
  auto it = gates_.find(gate);
  if (it != gates_.end() && it->second.conn != nullptr) it->second.conn->Send(bytes);
}

void GateLedger::Broadcast(const grpc::ByteBuffer& message) {
  std::vector<GateRowId> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& [gate, entry] : gates_) {
      if (entry.conn != nullptr) live.push_back(gate);
    }
  }
  for (GateRowId gate : live) {  // one gate at a time, as SendAcks
    std::lock_guard lock(mu_);
    auto it = gates_.find(gate);
    if (it != gates_.end() && it->second.conn != nullptr) it->second.conn->Send(message);
  }
}

}  // namespace cordon::rpc
