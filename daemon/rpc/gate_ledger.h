// What the daemon knows about each gate's event stream: per incarnation, the
// highest sequence committed and the decisions made but not yet committed;
// and which stream is the gate's live connection (for PersistAcks).
//
// It is how "never stored twice, never decided twice" holds without touching
// SQLite on a stream thread: a resent scan is recognised here, in memory.
// Restored at start from storage (gate_incarnations).
//
// Lock order: GateLedger::mu_ before a connection's own lock. Connections are
// only called under mu_, so once Disconnect() returns nobody calls them again.
// (Close() may Finish a stream under mu_; gRPC schedules a bidi reactor's
// OnDone, which calls Disconnect(), rather than running it inline.)
#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <condition_variable>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cordon/v1/gate.pb.h"
#include "core/model.h"
#include "core/time.h"
#include "daemon/storage/records.h"

namespace cordon::rpc {

// The ledger's view of a gate stream.
class GateConnection {
 public:
  virtual ~GateConnection() = default;
  // A serialized DaemonMessage. Copies share its slices: the policy copy
  // (megabytes with 100,000 people) is serialized once for every gate.
  virtual void Send(const grpc::ByteBuffer& message) = 0;
  void Send(const v1::DaemonMessage& message) { Send(SerializeForGate(message)); }
  virtual void Close(grpc::Status status) = 0;
  // Reads the next message (after PauseIfBacklogged held the stream).
  virtual void ResumeReading() = 0;

  static grpc::ByteBuffer SerializeForGate(const v1::DaemonMessage& message);
};

class GateLedger {
 public:
  void Restore(std::span<const storage::IncarnationMark> marks);

  // Hello: makes `conn` the gate's live stream (closing a previous one).
  // `greet` gets the highest committed sequence of this incarnation and
  // sends the Welcome; it runs under mu_ before `conn` is published, so no
  // ack, policy update or answer can reach the gate ahead of its Welcome (a
  // gate waits for the Welcome as its first message). Refuses an outbox older
  // than what was already received (restored from a copy).
  absl::Status Connect(GateRowId gate, uint64_t incarnation, uint64_t last_assigned_seq,
                       GateConnection* conn, TimePoint now,
                       const std::function<void(uint64_t committed)>& greet);
  void Disconnect(GateRowId gate, GateConnection* conn);

  struct Admission {
    enum class Kind { kNew, kPending, kCommitted };
    Kind kind = Kind::kNew;
    // kPending: the decision sent for it, if the daemon decided it.
    std::optional<v1::Decision> decision;
    uint64_t committed_up_to = 0;
  };
  // Classifies a scan by its sequence number; a kNew scan is marked pending
  // at once, so a duplicate arriving concurrently is never decided twice.
  // `answered`: the caller sends a new scan's Decision carrying
  // committed_up_to, so that much no longer needs a PersistAck.
  absl::StatusOr<Admission> Admit(GateRowId gate, uint64_t incarnation, uint64_t seq,
                                  TimePoint now, bool answered = false);
  // Keeps the decision sent for a pending scan, to resend it after a
  // reconnect until the scan is committed.
  void RecordDecision(GateRowId gate, uint64_t incarnation, uint64_t seq, v1::Decision decision);
  void Touch(GateRowId gate, TimePoint now);

  using Key = std::pair<GateRowId, uint64_t>;  // a gate incarnation
  using Steady = std::chrono::steady_clock::time_point;
  // Journal writer thread: marks a committed batch; returns the gate
  // incarnations that now have something new to acknowledge.
  std::vector<Key> OnCommitted(std::span<const storage::RecordedEvent> batch, Steady now);

  // When a commit is told in a PersistAck rather than in the next Decision.
  // One PersistAck per scan doubled the messages of a gate scanning a few
  // times a second, and they went out in a burst after each commit (50 at
  // 1,000 scans/s) that held back the decisions behind them (issue 7).
  struct AckPolicy {
    std::chrono::milliseconds delay{500};  // how long a commit may wait for a Decision
    // A commit of this many scans for one gate goes at once (a backlog being
    // replayed). 16, not 8: at 10,000 scans/s a 200 ms commit carries 10
    // per gate, whose next decisions tell them within 20 ms; at 8 each
    // commit sent all 200 gates a PersistAck in one burst.
    uint64_t bulk = 16;
  };
  struct AckRound {
    std::vector<Key> waiting;     // not told yet, not due yet
    std::optional<Steady> due;    // the earliest of them
  };
  // Sends each of these incarnations' live stream a PersistAck up to what is
  // committed now, where the stream has not been told it and `policy` says
  // it is due; returns those still waiting.
  AckRound SendAcks(std::span<const Key> keys, Steady now, const AckPolicy& policy);
  // Sends `message` to the gate's live stream, if it has one (an answer that
  // comes from another thread after the stream may have gone).
  void SendTo(GateRowId gate, const v1::DaemonMessage& message);
  // Sends `message` to every live gate stream (a policy update).
  void Broadcast(const grpc::ByteBuffer& message);
  // Shutdown: closes every live stream (after its queued messages).
  void CloseAll(const grpc::Status& status);

  // Bounds the events decided but not yet committed (set before serving).
  // Past `high`, a stream that has handled a batch (a gate sending its
  // backlog) stops reading: gRPC flow control then holds the gate's sends.
  // Past 4 x `high` (storage stalled) every stream stops, and a gate waiting
  // for a decision decides offline and keeps the scan in its outbox.
  // Streams read again once the writer is down to half of `high`. Without it
  // a replay of 1,000,000 buffered scans queued faster than they committed
  // (341 MB), and a disk that refuses writes grew the queue without end.
  void LimitBacklog(size_t high, std::function<size_t()> uncommitted);
  // A stream that has handled a message (`bulk`: a batch of scans): true if
  // it must wait (ResumeReading is called once there is room), false to
  // read on.
  bool PauseIfBacklogged(GateConnection* conn, bool bulk);
  // Journal writer thread, after each commit.
  void ResumeIfRoom();
  size_t PausedCount() const;

  struct GateStatus {
    bool connected = false;
    std::optional<TimePoint> last_seen;
    bool paused = false;  // not being read (PauseIfBacklogged): its silence is ours
  };
  GateStatus StatusOf(GateRowId gate) const;
  size_t ConnectedCount() const;

 private:
  struct Incarnation {
    uint64_t committed = 0;         // every seq <= committed is in the database
    uint64_t told = 0;              // committed as last told to its live stream
    Steady untold_since;            // when committed last moved past told
    uint64_t highest_admitted = 0;  // highest seq received
    std::map<uint64_t, std::optional<v1::Decision>> pending;  // admitted, not committed
  };
  struct GateEntry {
    std::unordered_map<uint64_t, Incarnation> incarnations;
    GateConnection* conn = nullptr;
    uint64_t conn_incarnation = 0;
    std::optional<TimePoint> last_seen;
  };

  mutable std::mutex mu_;
  std::unordered_map<GateRowId, GateEntry> gates_;  // guarded by mu_
  // Backlog: a pause is decided, and the writer's resume checked, under mu_,
  // so a stream that pauses always sees a later commit resume it. Set
  // before serving, then only read.
  size_t backlog_high_ = 0;                  // 0: no limit
  std::function<size_t()> uncommitted_;
  std::set<GateConnection*> paused_;         // guarded by mu_
  std::chrono::steady_clock::time_point paused_since_;  // guarded by mu_
};

// Sends PersistAcks from a thread of its own ("cordon-acks"). A gRPC write
// runs the TCP send inline; on the journal writer's thread that was a
// quarter of its time at 5,000 scans/s (perf) and held back the next commit.
// Incarnations posted while a round is being sent are coalesced; those not
// yet due (GateLedger::AckPolicy) are looked at again when they are.
class AckSender {
 public:
  AckSender(GateLedger& ledger, GateLedger::AckPolicy policy);
  ~AckSender() { Stop(); }
  void Post(std::vector<GateLedger::Key> keys);
  // Sends everything committed, due or not, and from then on sends every
  // ack at once. True once everything posted before the call has been sent
  // (the drain closes the streams after it); false at the deadline.
  bool Flush(std::chrono::steady_clock::time_point deadline);
  void Stop();

 private:
  void Run();

  GateLedger& ledger_;
  const GateLedger::AckPolicy policy_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<GateLedger::Key> pending_;  // posted, or not yet due; guarded by mu_
  uint64_t posted_ = 0;                // rounds posted; guarded by mu_
  uint64_t sent_ = 0;                  // rounds sent; guarded by mu_
  size_t waiting_ = 0;                 // incarnations not yet due; guarded by mu_
  bool flushing_ = false;              // guarded by mu_
  bool stop_ = false;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace cordon::rpc
