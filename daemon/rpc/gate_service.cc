#include "daemon/rpc/gate_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "core/identifiers.h"
#include "daemon/cpu/thread_slice.h"
#include "daemon/fault/failpoint.h"
#include "daemon/rpc/convert.h"

namespace cordon::rpc {
namespace {

// Denials that depend on who is where. The daemon's presence when a held
// offline decision arrives is not the campus of that moment, so these do not
// make an offline admission a late violation.
bool DependsOnPresence(Reason r) {
  return r == Reason::kDenyAlreadyOnCampus || r == Reason::kDenyAlreadyInZone ||
         r == Reason::kDenyZoneFull || r == Reason::kDenyCohortSeparation ||
         r == Reason::kDenyPassUsed || r == Reason::kDenyNoLeave;
}

v1::DaemonMessage DisinfectionAnswer(uint64_t request, bool recorded, std::string message) {
  v1::DaemonMessage msg;
  auto* r = msg.mutable_disinfection_recorded();
  r->set_request_id(request);
  r->set_recorded(recorded);
  r->set_message(std::move(message));
  return msg;
}

// One gate's stream. Reactions run on gRPC's threads and never block: the
// decision is computed in memory, the event is handed to the journal writer,
// and replies go through a per-stream queue with one write in flight.
class GateStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                         public GateConnection {
 public:
  GateStream(const GateServiceDeps& deps, GateRateLimits& limits, ReplayLane& replay,
             std::string peer, auth::Caller caller)
      : deps_(deps),
        limits_(limits),
        replay_(replay),
        peer_(std::move(peer)),
        caller_(std::move(caller)) {
    StartRead(&in_bytes_);
  }

  using GateConnection::Send;
  void Send(const grpc::ByteBuffer& message) override {
    {
      std::lock_guard lock(mu_);
      if (close_status_) return;
      if (out_.size() >= deps_.max_outbound_queue) {
        out_.clear();
        close_status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                     "the gate is not reading the daemon's replies");
      } else {
        out_.push_back(message);
      }
    }
    Pump();
  }

  void Close(grpc::Status status) override {
    {
      std::lock_guard lock(mu_);
      if (!close_status_) close_status_ = std::move(status);
    }
    Pump();
  }

  void ResumeReading() override {
    std::lock_guard lock(mu_);
    if (!close_status_) StartRead(&in_bytes_);
  }

 private:
  void OnReadDone(bool ok) override {
    cpu::MarkDecidingThread(deps_.decision_slice);
    if (!ok) {  // the gate finished sending, or the stream broke
      Close(grpc::Status::OK);
      return;
    }
    {
      // Closing: a decision could no longer reach the gate. Leave the scan
      // in the gate's outbox, to be resent to the next connection.
      std::lock_guard lock(mu_);
      if (close_status_) return;
    }
    // Draining: the same. What was being handled when the drain began is
    // finished, committed and acknowledged before the streams close.
    if (!deps_.lifecycle.EnterReaction()) return;
    struct Leave {
      Lifecycle* lifecycle;  // null once the replay lane has taken the message
      ~Leave() {
        if (lifecycle) lifecycle->LeaveReaction();
      }
    } leave{&deps_.lifecycle};
    // A flooding gate is cut off before its message costs anything more.
    if (hello_done_ && !limits_.Take(gate_, deps_.max_messages_per_second, deps_.message_burst,
                                     deps_.clock.Now())) {
      grpc::Status throttled(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             "gate " + gate_id_ + " sends more than " +
                                 std::to_string(static_cast<int>(deps_.max_messages_per_second)) +
                                 " messages a second; reconnect after a pause (scans stay in "
                                 "the outbox)");
      spdlog::warn("gate stream {} ({}): throttled: {}", gate_id_, peer_, throttled.error_message());
      Close(throttled);
      return;
    }
    grpc::Status st = grpc::SerializationTraits<v1::GateMessage>::Deserialize(&in_bytes_, &in_);
    if (!st.ok()) st = InvalidArgument("message: not a cordon.v1.GateMessage");
    if (st.ok() && hello_done_ && in_.kind_case() == v1::GateMessage::kScanBatch &&
        in_.scan_batch().scans_size() <= kMaxBatch) {
      // A backlog goes to the replay lane; the next read starts when it is
      // stored. The reaction counts as running until then (a drain waits).
      {
        // A close may have come since the check above, and finished the
        // stream: then it is deleted once this reaction returns.
        std::lock_guard lock(mu_);
        if (close_status_) return;  // the gate resends the batch to the next stream
        ++batches_in_lane_;
      }
      leave.lifecycle = nullptr;
      replay_.Post([this] {
        fault::Failpoint("REPLAY_BATCH");  // tests: a drain while a batch is being stored
        grpc::Status batch_st;
        for (const v1::Scan& scan : in_.scan_batch().scans()) {
          batch_st = HandleScan(scan);
          if (!batch_st.ok()) break;
        }
        Continue(batch_st);
        deps_.lifecycle.LeaveReaction();
        Pump(/*batch_done=*/true);  // the last use of `this`: it may finish the stream
      });
      return;
    }
    switch (st.ok() ? in_.kind_case() : v1::GateMessage::KIND_NOT_SET) {
      case v1::GateMessage::kHello:
        st = hello_done_ ? InvalidArgument("hello: sent twice on one stream")
                         : HandleHello(in_.hello());
        break;
      case v1::GateMessage::kScan:
        st = hello_done_ ? HandleScan(in_.scan())
                         : InvalidArgument("scan: the first message must be a hello");
        break;
      case v1::GateMessage::kScanBatch:
        if (!hello_done_) {
          st = InvalidArgument("scan_batch: the first message must be a hello");
        } else {
          st = InvalidArgument("scan_batch.scans: more than " + std::to_string(kMaxBatch));
        }
        break;
      case v1::GateMessage::kDisinfection:
        st = hello_done_ ? HandleDisinfection(in_.disinfection())
                         : InvalidArgument("disinfection: the first message must be a hello");
        break;
      case v1::GateMessage::kHeartbeat:
        if (hello_done_) {
          deps_.ledger.Touch(gate_, deps_.clock.Now());
        } else {
          st = InvalidArgument("heartbeat: the first message must be a hello");
        }
        break;
      default:
        if (st.ok()) st = InvalidArgument("message: empty, or of a kind this daemon does not know");
    }
    Continue(st);
  }

  // After a message is handled: close on an error; else read the next one,
  // unless draining or the journal writer is too far behind.
  void Continue(const grpc::Status& st) {
    if (!st.ok()) {
      spdlog::warn("gate stream {} ({}): closing: {}", gate_id_.empty() ? "?" : gate_id_, peer_,
                   st.error_message());
      Close(st);
      return;
    }
    // Draining: stop reading; the drain closes the stream after the acks.
    if (deps_.lifecycle.phase() == Lifecycle::Phase::kDraining) return;
    // Too much decided and not yet committed: wait for the writer.
    const bool bulk = in_.kind_case() == v1::GateMessage::kScanBatch;
    if (hello_done_ && deps_.ledger.PauseIfBacklogged(this, bulk)) {
      deps_.metrics.CountStreamPause();
      return;
    }
    // Under mu_ so that a Finish from another thread cannot slip in between
    // the check and the read.
    std::lock_guard lock(mu_);
    if (!close_status_) StartRead(&in_bytes_);
  }

  void OnWriteDone(bool ok) override {
    cpu::MarkDecidingThread(deps_.decision_slice);
    {
      std::lock_guard lock(mu_);
      write_in_flight_ = false;
      if (!ok) {  // the stream is broken: nothing more can be delivered
        out_.clear();
        if (!close_status_) {
          close_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write to gate failed");
        }
      }
    }
    Pump();
  }

  void OnCancel() override { Close(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled")); }

  void OnDone() override {
    if (hello_done_) {
      deps_.ledger.Disconnect(gate_, this);
      spdlog::info("gate {} disconnected", gate_id_);
    }
    delete this;
  }

  // Starts the next write, or Finish once the queue is empty, a close was
  // asked for and no batch is in the replay lane. Called without mu_ held: a
  // reaction may run inline. `batch_done`: the lane has finished a batch;
  // counted here, under the same lock as the decision to finish, so that no
  // other thread can finish (and delete) the stream in between.
  void Pump(bool batch_done = false) {
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mu_);
      if (batch_done) --batches_in_lane_;
      if (write_in_flight_ || finished_) return;
      if (!out_.empty()) {
        writing_.Swap(&out_.front());
        out_.pop_front();
        write_in_flight_ = true;
      } else if (close_status_ && batches_in_lane_ == 0) {
        finished_ = true;
        finish = *close_status_;
      } else {
        return;
      }
    }
    if (finish) {
      deps_.metrics.CountStreamEnd(
          absl::StatusCodeToString(static_cast<absl::StatusCode>(finish->error_code())));
      Finish(*finish);
    } else {
      StartWrite(&writing_);
    }
  }

  grpc::Status HandleHello(const v1::Hello& hello) {
    if (auto problem = CheckGateId(hello.gate_id()); !problem.empty()) {
      return InvalidArgument("hello.gate_id: " + problem);
    }
    if (hello.incarnation() == 0) return InvalidArgument("hello.incarnation: must be nonzero");
    if (hello.has_gate_time()) {
      if (auto st = CheckTime("hello.gate_time", hello.gate_time()); !st.ok()) return st;
    }
    if (auto st = deps_.lifecycle.Admission(); !st.ok()) return st;
    if (!caller_.insecure && hello.gate_id() != caller_.name) {
      grpc::Status denied(grpc::StatusCode::PERMISSION_DENIED,
                          "hello.gate_id: this certificate is for gate '" + caller_.name +
                              "'; it cannot speak as gate '" + hello.gate_id() + "'");
      deps_.guard.Record(caller_, "GateService/Connect", {"hello as gate " + hello.gate_id(), ""},
                         0, denied, nullptr);
      return denied;
    }
    auto policy = deps_.policy.Get();
    const Gate* gate = policy->FindGate(hello.gate_id());
    if (gate == nullptr) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "gate '" + hello.gate_id() +
                              "' is not registered; an administrator can register it with: "
                              "cordonctl gate add " + hello.gate_id());
    }
    TimePoint now = deps_.clock.Now();
    // A gate cut off for flooding that reconnects at once is refused here,
    // before the welcome and the policy copy cost anything.
    if (!limits_.Take(gate->id, deps_.max_messages_per_second, deps_.message_burst, now)) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "gate " + hello.gate_id() + " sends more than " +
                              std::to_string(static_cast<int>(deps_.max_messages_per_second)) +
                              " messages a second; reconnect after a pause (scans stay in the "
                              "outbox)");
    }
    // The Welcome goes out before the ledger lets anything else reach this
    // stream: a gate reads it as the first message.
    uint64_t committed = 0;
    auto connected = deps_.ledger.Connect(
        gate->id, hello.incarnation(), hello.last_assigned_seq(), this, now,
        [&](uint64_t committed_up_to) {
          fault::Failpoint("WELCOME");  // tests: a slow welcome
          committed = committed_up_to;
          v1::DaemonMessage msg;
          v1::Welcome* welcome = msg.mutable_welcome();
          welcome->set_daemon_version(CORDON_VERSION);
          welcome->set_policy_version(policy->version);
          ToProto(now, welcome->mutable_daemon_time());
          welcome->set_committed_up_to_seq(committed_up_to);
          welcome->set_heartbeat_interval_ms(deps_.heartbeat_interval_ms.load());
          Send(std::move(msg));
        });
    if (!connected.ok()) return ToGrpc(connected);
    hello_done_ = true;
    gate_ = gate->id;
    gate_id_ = gate->gate_id;
    incarnation_ = hello.incarnation();
    if (auto update = deps_.policy_feed.Current();
        update && update->version != hello.policy_version()) {
      Send(update->bytes);
    }
    MeasureClock(hello, now);
    spdlog::info("gate {} connected from {} (agent {}, incarnation {:016x}, committed up to {})",
                 gate_id_, peer_, hello.agent_version(), incarnation_, committed);
    return grpc::Status::OK;
  }

  // A refusal (unknown card, not a vehicle) is an answer, not a stream error.
  grpc::Status HandleDisinfection(const v1::Disinfection& d) {
    if (auto p = CheckCredential(d.credential()); !p.empty()) {
      return InvalidArgument("disinfection.credential: " + p);
    }
    auto policy = deps_.policy.Get();
    const Person* person = policy->FindByCredential(deps_.hasher.Hash(d.credential()));
    std::string refusal;
    if (person == nullptr) {
      refusal = "card not recognised";
    } else if (!NeedsDisinfection(person->category)) {
      refusal = std::string(CategoryName(person->category)) +
                ": disinfection is recorded for vehicles and deliveries";
    }
    if (!refusal.empty()) {
      Send(DisinfectionAnswer(d.request_id(), false, std::move(refusal)));
      return grpc::Status::OK;
    }
    // Answered once committed, through the ledger: this stream may be gone by then.
    deps_.journal.Post([&presence = deps_.presence, &ledger = deps_.ledger, gate = gate_,
                        request = d.request_id(), id = person->id, now = deps_.clock.Now(),
                        by = "gate " + gate_id_](storage::Store& store) {
      absl::Status st = store.RecordDisinfection(id, now, by);
      if (st.ok()) presence.RecordDisinfection(id, now);
      ledger.SendTo(gate, DisinfectionAnswer(request, st.ok(), std::string(st.message())));
    });
    return grpc::Status::OK;
  }

  grpc::Status HandleScan(const v1::Scan& scan) {
    auto started = std::chrono::steady_clock::now();
    TimePoint now = deps_.clock.Now();
    if (scan.seq() == 0) return InvalidArgument("scan.seq: must be at least 1");
    if (auto problem = CheckCredential(scan.credential()); !problem.empty()) {
      return InvalidArgument("scan.credential: " + problem);
    }
    std::optional<Direction> direction = FromProto(scan.direction());
    if (!direction) return InvalidArgument("scan.direction: must be DIRECTION_IN or DIRECTION_OUT");
    if (!scan.has_gate_time()) return InvalidArgument("scan.gate_time: required");
    if (auto st = CheckTime("scan.gate_time", scan.gate_time()); !st.ok()) return st;
    if (scan.has_gate_decision()) {
      if (auto st = CheckHeldDecision(scan.gate_decision()); !st.ok()) return st;
    }

    auto admission = deps_.ledger.Admit(gate_, incarnation_, scan.seq(), now,
                                        /*answered=*/!scan.has_gate_decision());
    if (!admission.ok()) return ToGrpc(admission.status());
    using Kind = GateLedger::Admission::Kind;
    if (admission->kind != Kind::kNew) deps_.metrics.CountResend();
    if (admission->kind == Kind::kCommitted) {  // a resend of something already stored
      v1::DaemonMessage ack;
      ack.mutable_persist_ack()->set_up_to_seq(admission->committed_up_to);
      Send(std::move(ack));
      return grpc::Status::OK;
    }
    if (admission->kind == Kind::kPending) {  // decided, not yet committed: the ack will follow
      if (!scan.has_gate_decision() && admission->decision) {
        v1::DaemonMessage again;
        *again.mutable_decision() = *admission->decision;
        Send(std::move(again));
      }
      return grpc::Status::OK;
    }

    auto policy = deps_.policy.Get();
    storage::RecordedEvent ev;
    ev.gate = gate_;
    ev.incarnation = incarnation_;
    ev.seq = scan.seq();
    ev.credential = deps_.hasher.Hash(scan.credential());
    ev.direction = *direction;
    ev.gate_time = FromProto(scan.gate_time());
    ev.received_at = now;
    ev.at_zone = StandingZone(*policy->zones, gate_id_, *direction);

    if (scan.has_gate_decision()) {
      RecordHeldDecision(*policy, scan.gate_decision(), ev);
    } else {
      Decision d = deps_.presence.DecideAndApply(
          *policy, ScanInput{ev.credential, *direction, gate_id_}, now, gate_);
      ev.person = d.person;
      ev.allowed = d.allowed;
      ev.reason = d.reason;
      ev.policy_version = d.policy_version;
      ev.source = DecisionSource::kDaemon;
      ev.decided_at = now;
      ev.occurred_at = now;
      ev.pass = d.pass;
      ev.pass_step = d.pass_step;
      ev.leave = d.leave;
      ev.leave_step = d.leave_step;
      ev.zone = d.allowed ? (d.to_path.empty() ? std::string() : d.to_path.back()) : std::string();
      ev.rule = std::move(d.rule);
      ev.alert = d.alert;

      v1::DaemonMessage msg;
      v1::Decision* out = msg.mutable_decision();
      out->set_seq(scan.seq());
      out->set_allowed(d.allowed);
      out->set_reason(ToProto(d.reason));
      out->set_message(d.display);
      out->set_policy_version(d.policy_version);
      ToProto(now, out->mutable_decided_at());
      out->set_committed_up_to_seq(admission->committed_up_to);
      deps_.ledger.RecordDecision(gate_, incarnation_, scan.seq(), *out);
      Send(std::move(msg));
      deps_.metrics.ObserveDecision(std::chrono::steady_clock::now() - started);
    }
    deps_.metrics.CountScan(ev.reason, ev.source);
    if (ev.alert) deps_.metrics.CountAlert(*ev.alert);
    deps_.journal.Submit(std::move(ev));
    return grpc::Status::OK;
  }

  // The gate's clock against ours, measured at Hello (network delay is far
  // below the threshold). Offline events are dated gate_time + skew_.
  void MeasureClock(const v1::Hello& hello, TimePoint now) {
    if (!hello.has_gate_time()) return;
    skew_ = now - FromProto(hello.gate_time());
    auto off = std::chrono::duration_cast<std::chrono::milliseconds>(
        skew_ < Micros(0) ? -skew_ : skew_);
    if (off <= deps_.clock_skew_alert) return;
    std::string detail = fmt::format("gate clock is {:.1f} s ", static_cast<double>(off.count()) / 1000) +
                         (skew_ < Micros(0) ? "ahead of" : "behind") +
                         " the daemon's; its offline events are dated with this correction";
    spdlog::warn("gate {}: {}", gate_id_, detail);
    deps_.metrics.CountAlert(AlertKind::kClockSkew);
    GateRowId gate = gate_;
    deps_.journal.Post([this, gate, now, detail](storage::Store& store) {
      if (auto st = store.RaiseAlert(AlertKind::kClockSkew, now, gate, detail); st.ok()) {
        deps_.on_alert_stored();
      } else {
        spdlog::error("cannot record clock skew alert: {}", st.ToString());
      }
    });
  }

  static grpc::Status CheckHeldDecision(const v1::GateDecision& held) {
    auto reason = ReasonFromNumber(held.reason());
    if (!reason) return InvalidArgument("scan.gate_decision.reason: unknown reason code");
    if (held.allowed() != IsAllow(*reason)) {
      return InvalidArgument("scan.gate_decision.allowed: contradicts reason " +
                             std::string(ReasonName(*reason)));
    }
    if (held.source() != v1::DECISION_SOURCE_DAEMON &&
        held.source() != v1::DECISION_SOURCE_GATE_OFFLINE) {
      return InvalidArgument("scan.gate_decision.source: must be DAEMON or GATE_OFFLINE");
    }
    if (!held.has_decided_at()) return InvalidArgument("scan.gate_decision.decided_at: required");
    if (auto st = CheckTime("scan.gate_decision.decided_at", held.decided_at()); !st.ok()) {
      return st;
    }
    return grpc::Status::OK;
  }

  // Records what the gate did with a decision it already held, instead of
  // deciding again: the turnstile opened (or not) on that decision.
  void RecordHeldDecision(const PolicySnapshot& policy, const v1::GateDecision& held,
                          storage::RecordedEvent& ev) {
    const Person* person = policy.FindByCredential(ev.credential);
    ev.person = person ? person->id : 0;
    ev.allowed = held.allowed();
    ev.reason = *ReasonFromNumber(held.reason());
    ev.policy_version = held.policy_version();
    ev.source = static_cast<DecisionSource>(held.source());
    ev.decided_at = FromProto(held.decided_at());
    // The gate holds the verdict and reason code, not the rule text. An
    // offline decision's rule is told from its source and policy version
    // when read (FillMovement), not stored: 44 bytes on every replayed row.
    if (ev.source == DecisionSource::kDaemon) {
      ev.rule = "decided online, resent by the gate after a reconnect";
    }
    // The daemon's clock dated an online decision; an offline one has only
    // the gate's, corrected by the skew measured at this connection's Hello.
    ev.occurred_at =
        ev.source == DecisionSource::kDaemon ? ev.decided_at : ev.gate_time + skew_;
    if (ev.reason == Reason::kAllowExitWithoutEntry) {
      // An offline gate only knows whom it saw enter; the daemon knows the
      // campus. No alert when the daemon saw them come in.
      auto presence = ev.person ? deps_.presence.PresenceOf(ev.person) : std::nullopt;
      bool known_inside = ev.source == DecisionSource::kGateOffline && presence &&
                          presence->on_campus;
      if (!known_inside) ev.alert = AlertKind::kExitWithoutEntry;
    }
    if (ev.source == DecisionSource::kGateOffline && ev.allowed &&
        ev.direction == Direction::kIn) {
      // Would the policy in force now have admitted them? Presence is not
      // the campus of that moment, so anti-passback is left out.
      Decision now = deps_.presence.Evaluate(
          policy, ScanInput{ev.credential, ev.direction, gate_id_}, ev.occurred_at);
      if (!now.allowed && !DependsOnPresence(now.reason)) {
        ev.alert = AlertKind::kLateViolation;
        ev.alert_detail = "admitted offline by " + gate_id_ + " under policy v" +
                          std::to_string(ev.policy_version) + "; policy v" +
                          std::to_string(policy.version) + " denies it: " +
                          std::string(ReasonName(now.reason));
      }
    }
    if (ev.allowed && ev.person != 0) {
      Movement m = deps_.presence.ApplyDecided(policy, ev.person, ev.direction, ev.reason,
                                               ev.occurred_at, gate_id_, gate_);
      ev.pass = m.pass;
      ev.pass_step = m.pass_step;
      ev.leave = m.leave;
      ev.leave_step = m.leave_step;
      ev.zone = m.to_path.empty() ? std::string() : m.to_path.back();
    }
  }

  static constexpr int kMaxBatch = 1024;

  const GateServiceDeps& deps_;
  GateRateLimits& limits_;
  ReplayLane& replay_;
  const std::string peer_;
  const auth::Caller caller_;  // from the certificate: the gate it may speak as

  // Touched only by reactions, which gRPC runs one at a time per stream, and
  // by the replay lane while it holds a batch (no read is in flight then).
  grpc::ByteBuffer in_bytes_;
  v1::GateMessage in_;
  bool hello_done_ = false;
  GateRowId gate_ = 0;
  std::string gate_id_;
  uint64_t incarnation_ = 0;
  Micros skew_{0};  // daemon clock minus gate clock, measured at Hello

  std::mutex mu_;
  std::deque<grpc::ByteBuffer> out_;  // guarded by mu_
  grpc::ByteBuffer writing_;          // the write in flight
  bool write_in_flight_ = false;             // guarded by mu_
  std::optional<grpc::Status> close_status_;  // guarded by mu_
  bool finished_ = false;                    // guarded by mu_
  int batches_in_lane_ = 0;                  // guarded by mu_
};

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* GateService::Connect(
    grpc::CallbackServerContext* context) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*context, "GateService/Connect", &caller); !st.ok()) {
    struct Refused final : grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
      explicit Refused(grpc::Status st) { Finish(std::move(st)); }
      void OnDone() override { delete this; }
    };
    return new Refused(std::move(st));
  }
  return new GateStream(deps_, limits_, replay_, context->peer(), std::move(caller));
}

}  // namespace cordon::rpc
