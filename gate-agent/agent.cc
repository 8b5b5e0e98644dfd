#include "gate-agent/agent.h"

#include <google/protobuf/util/time_util.h>

#include <iostream>

#include "core/reason.h"
#include "gate-agent/scan_line.h"

namespace cordon::gate {
namespace {

google::protobuf::Timestamp ToTimestamp(TimePoint t) {
  google::protobuf::Timestamp ts;
  int64_t us = ToUnixMicros(t);
  ts.set_seconds(us / 1'000'000);
  ts.set_nanos(static_cast<int32_t>((us % 1'000'000) * 1000));
  return ts;
}

TimePoint FromTimestamp(const google::protobuf::Timestamp& ts) {
  return FromUnixMicros(ts.seconds() * 1'000'000 + ts.nanos() / 1000);
}

}  // namespace

Agent::Agent(AgentOptions options, Outbox& outbox, Display& display, Turnstile& turnstile,
             AgentMetrics& metrics, const Clock& clock)
    : options_(std::move(options)),
      outbox_(outbox),
      display_(display),
      turnstile_(turnstile),
      metrics_(metrics),
      clock_(clock) {}

absl::Status Agent::Load() {
  auto entries = outbox_.Unacked();
  if (!entries.ok()) return entries.status();
  for (auto& e : *entries) {
    unacked_.emplace(e.seq, Unacked{e.credential, e.direction, e.gate_time, e.decision, std::nullopt});
  }
  auto stored = outbox_.LoadPolicy();
  if (!stored.ok()) return stored.status();
  if (*stored) {
    v1::PolicyUpdate update;
    if (!update.ParseFromString((*stored)->body)) {
      return absl::DataLossError("the stored policy copy is unreadable");
    }
    auto local = ToLocalPolicy(update);
    if (!local.ok()) return local.status();
    policy_.emplace(std::move(*local));
    for (const auto& [pass, progress] : policy_->pass_progress) local_state_.RestorePass(pass, progress);
    for (const auto& [leave, progress] : policy_->leave_progress) {
      local_state_.RestoreLeave(leave, progress);
    }
    policy_confirmed_at_ = (*stored)->confirmed_at;
  }
  state_since_ = clock_.Now();
  connecting_until_ = std::chrono::steady_clock::now() + options_.decision_timeout;
  std::lock_guard lock(hello_mu_);
  last_assigned_seq_ = outbox_.last_assigned_seq();
  policy_version_ = policy_ ? policy_->snapshot.version : 0;
  return absl::OkStatus();
}

v1::Hello Agent::MakeHello() const {
  v1::Hello hello;
  hello.set_gate_id(options_.gate_id);
  hello.set_agent_version(CORDON_VERSION);
  hello.set_incarnation(outbox_.incarnation());
  *hello.mutable_gate_time() = ToTimestamp(clock_.Now());
  std::lock_guard lock(hello_mu_);
  hello.set_last_assigned_seq(last_assigned_seq_);
  hello.set_policy_version(policy_version_);
  return hello;
}

void Agent::Post(Event e) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  wake_.notify_one();
}

void Agent::PostLines(ScanLines lines) { Post(std::move(lines)); }
void Agent::PostInputEnded(std::string source) { Post(InputEnded{std::move(source)}); }
void Agent::PostLinkUp(v1::Welcome welcome, uint64_t generation) {
  Post(LinkUp{std::move(welcome), generation});
}
void Agent::PostMessage(v1::DaemonMessage message) { Post(std::move(message)); }
void Agent::PostLinkDown(grpc::Status status, std::chrono::milliseconds retry_in) {
  Post(LinkDown{std::move(status), retry_in});
}
void Agent::PostRefused(grpc::Status status) { Post(Refused{std::move(status)}); }
void Agent::PostStop() { Post(Stop{}); }

int Agent::Run(int finite_sources) {
  int open_sources = finite_sources;
  auto next_heartbeat = std::chrono::steady_clock::now() + heartbeat_interval_;
  std::optional<std::chrono::steady_clock::time_point> drain_deadline;
  for (;;) {
    std::deque<Event> batch;
    {
      std::unique_lock lock(mu_);
      // While a replay is pending, only look for new events; don't sleep.
      auto until = SendPending() ? std::chrono::steady_clock::now() : next_heartbeat;
      if (Connecting() && !pending_scans_.empty()) until = std::min(until, connecting_until_);
      wake_.wait_until(lock, until, [&] { return !events_.empty(); });
      batch.swap(events_);
    }
    std::optional<int> exit_code;
    for (Event& event : batch) {
      // Lines are gathered and stored together after the other events, so a
      // decision is shown before the next fsync rather than after it. Order
      // between the two does not matter: new scans are sent only once stored,
      // and a reconnect resends whatever is stored.
      if (auto* lines = std::get_if<ScanLines>(&event)) {
        Handle(*lines);
        continue;
      }
      if (auto* ended = std::get_if<InputEnded>(&event)) {
        (void)ended;
        --open_sources;
      } else if (auto* up = std::get_if<LinkUp>(&event)) {
        Handle(*up);
      } else if (auto* message = std::get_if<v1::DaemonMessage>(&event)) {
        Handle(*message);
      } else if (auto* down = std::get_if<LinkDown>(&event)) {
        link_up_ = false;
        link_failed_ = true;
        replaying_ = false;
        metrics_.CountLinkDown();
        display_.LinkDown(down->status, down->retry_in, unacked_.size());
        if (shown_state_ != GateState::Kind::kOffline) {
          // The copy was current until now; keep that across a restart.
          if (policy_) (void)outbox_.ConfirmPolicy(policy_confirmed_at_);
          state_since_ = clock_.Now();
          ShowState();
        }
      } else if (auto* refused = std::get_if<Refused>(&event)) {
        link_up_ = false;
        display_.Refused(refused->status);
        std::cerr << "cordon-gate: the daemon refused gate '" << options_.gate_id
                  << "': " << refused->status.error_message() << "\n";
        exit_code = kExitRefused;
      } else if (std::holds_alternative<Stop>(event)) {
        exit_code = kExitDone;
      }
    }
    // While the first connection is being made, scans wait here (unstored,
    // undecided) so that they go either to the daemon or to the offline
    // engine, never half to each; on stop they are stored undecided.
    if (!Connecting() || exit_code) FlushScans();
    Pump(kReplayBurst);
    metrics_.SetOutboxDepth(unacked_.size());
    if (auto st = Settle(); !st.ok()) {
      std::cerr << "cordon-gate: outbox write failed: " << st.message() << "\n";
      return kExitError;
    }
    if (exit_code) {
      display_.Finished(unacked_.size(), false);
      if (!unacked_.empty()) {
        std::cerr << "cordon-gate: " << unacked_.size()
                  << " scan(s) await acknowledgement in the outbox; they are sent at next start\n";
      }
      return *exit_code;
    }
    auto now = std::chrono::steady_clock::now();
    if (finite_sources > 0 && open_sources <= 0) {
      if (unacked_.empty() && pending_scans_.empty()) {
        display_.Finished(0, false);
        return kExitDone;
      }
      if (!drain_deadline && options_.drain_timeout.count() > 0) {
        drain_deadline = now + options_.drain_timeout;
      }
      if (drain_deadline && now >= *drain_deadline) {
        display_.Finished(unacked_.size(), true);
        std::cerr << "cordon-gate: " << unacked_.size()
                  << " scan(s) still unacknowledged after the drain timeout; they stay in the "
                     "outbox and are sent at next start\n";
        return kExitUnacked;
      }
    }
    if (now >= next_heartbeat) {
      if (link_up_) {
        v1::GateMessage hb;
        *hb.mutable_heartbeat()->mutable_gate_time() = ToTimestamp(clock_.Now());
        hb.mutable_heartbeat()->set_outbox_depth(unacked_.size());
        send_(hb, link_generation_);
      }
      next_heartbeat = now + heartbeat_interval_;
    }
  }
}

void Agent::Handle(ScanLines& lines) {
  TimePoint now = clock_.Now();
  for (size_t i = 0; i < lines.lines.size(); ++i) {
    auto parsed = ParseScanLine(lines.lines[i]);
    if (auto* bad = std::get_if<BadLine>(&parsed)) {
      metrics_.CountBadLine();
      display_.BadLine(lines.source, lines.first_line_number + static_cast<int64_t>(i),
                       bad->problem);
    } else if (auto* scan = std::get_if<ParsedScan>(&parsed)) {
      pending_scans_.push_back(NewScan{std::move(scan->credential), scan->direction, now});
    } else if (auto* dis = std::get_if<ParsedDisinfection>(&parsed)) {
      SendDisinfection(dis->credential, now);
    }
  }
  if (lines.mark) pending_marks_[lines.mark->source] = *lines.mark;
}

void Agent::SendDisinfection(const std::string& credential, TimePoint now) {
  // Only the daemon can make it durable; offline, the guard is told so.
  if (!link_up_) {
    display_.Disinfection(credential, false,
                          "gate offline; record it with 'cordonctl disinfect' or scan it again later");
    return;
  }
  v1::GateMessage msg;
  v1::Disinfection* d = msg.mutable_disinfection();
  d->set_request_id(++next_disinfection_);
  d->set_credential(credential);
  *d->mutable_gate_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(ToUnixMicros(now));
  if (!send_(msg, link_generation_)) {
    display_.Disinfection(credential, false, "the link dropped; scan it again");
    return;
  }
  disinfections_sent_[next_disinfection_] = credential;
}

void Agent::FlushScans() {
  if (pending_scans_.empty() && pending_marks_.empty()) return;
  std::vector<InputMark> marks;
  for (auto& [source, mark] : pending_marks_) marks.push_back(std::move(mark));
  std::vector<std::string> displays(pending_scans_.size());
  if (DecidingHere()) {
    for (size_t i = 0; i < pending_scans_.size(); ++i) {
      NewScan& scan = pending_scans_[i];
      scan.decision = DecideHere(scan, &displays[i]);
      // Applied at once: the next scan in this batch is decided against it.
      if (scan.decision->allowed) {
        ApplyLocally(scan.credential, scan.direction, scan.decision->reason,
                     scan.decision->decided_at);
      }
    }
  }
  // Stored (and fsync'd) before anything is sent: one transaction for every
  // line read since the last flush, so a fast lane costs one fsync per cycle.
  auto entries = outbox_.Append(pending_scans_, marks);
  pending_scans_.clear();
  pending_marks_.clear();
  if (!entries.ok()) {
    std::cerr << "cordon-gate: cannot store scans in the outbox: " << entries.status().message()
              << "\n";
    std::exit(kExitError);  // without the outbox nothing can be promised
  }
  {
    std::lock_guard lock(hello_mu_);
    last_assigned_seq_ = outbox_.last_assigned_seq();
  }
  auto read_at = std::chrono::steady_clock::now();
  for (size_t i = 0; i < entries->size(); ++i) {
    const OutboxEntry& e = (*entries)[i];
    unacked_.emplace(e.seq, Unacked{e.credential, e.direction, e.gate_time, e.decision, read_at});
    if (e.decision) {  // decided here: stored, so act on it now
      const HeldDecision& d = *e.decision;
      if (d.allowed) {
        turnstile_.Open({{"CORDON_GATE", options_.gate_id},
                         {"CORDON_SEQ", std::to_string(e.seq)},
                         {"CORDON_DIRECTION", std::string(DirectionName(e.direction))},
                         {"CORDON_REASON", std::string(ReasonName(d.reason))}});
      }
      metrics_.CountDecision(d.reason, false);
      display_.Decision(ShownDecision{e.seq, e.credential, e.direction, e.gate_time, d.allowed,
                                      std::string(ReasonName(d.reason)), displays[i],
                                      d.policy_version, d.allowed, false, true});
    }
  }
}

bool Agent::SendPending() const {
  return link_up_ && unacked_.upper_bound(sent_up_to_) != unacked_.end();
}

void Agent::Pump(size_t budget) {
  // In sequence order, always: the daemon's ledger relies on it. A lone new
  // scan goes as itself; a backlog goes in batches.
  auto it = unacked_.upper_bound(sent_up_to_);
  if (it != unacked_.end() && std::next(it) == unacked_.end()) {
    SendScan(it->first, it->second);
    sent_up_to_ = it->first;
    return;
  }
  while (it != unacked_.end() && budget > 0 && link_up_) {
    v1::GateMessage msg;
    v1::ScanBatch* batch = msg.mutable_scan_batch();
    uint64_t last = 0;
    for (; it != unacked_.end() && budget > 0 && batch->scans_size() < kScansPerBatch;
         ++it, --budget) {
      FillScan(it->first, it->second, batch->add_scans());
      last = it->first;
    }
    if (!send_(msg, link_generation_)) {
      link_up_ = false;  // the link thread reports the break
      return;
    }
    sent_up_to_ = last;
  }
}

HeldDecision Agent::DecideHere(const NewScan& scan, std::string* display) {
  TimePoint now = clock_.Now();
  static const PolicySnapshot kNoPolicy;
  const PolicySnapshot& policy = policy_ ? policy_->snapshot : kNoPolicy;
  CredentialHash hash = policy_ ? policy_->lookup.Hash(scan.credential) : CredentialHash{};
  Decision d = DecideOffline(policy, local_state_, ScanInput{hash, scan.direction, options_.gate_id}, now,
                             policy_confirmed_at_, options_.offline_limits);
  *display = d.display;
  return HeldDecision{d.allowed, d.reason, d.policy_version, DecisionSource::kGateOffline, now};
}

void Agent::ApplyLocally(const std::string& credential, Direction direction, Reason reason,
                         TimePoint at) {
  if (!policy_) return;
  const Person* person = policy_->snapshot.FindByCredential(policy_->lookup.Hash(credential));
  if (!person) return;
  local_state_.Apply(HeldMovement(policy_->snapshot, local_state_, person->id, direction, reason,
                                  options_.gate_id, at, 0));
}

void Agent::HandlePolicy(const v1::PolicyUpdate& update) {
  auto local = ToLocalPolicy(update);
  if (!local.ok()) {
    std::cerr << "cordon-gate: ignoring a malformed policy update: " << local.status().message()
              << "\n";
    return;
  }
  std::string body;
  update.SerializeToString(&body);
  TimePoint now = clock_.Now();
  if (auto st = outbox_.SavePolicy(StoredPolicy{update.policy_version(), now, body}); !st.ok()) {
    std::cerr << "cordon-gate: cannot store the policy copy: " << st.message() << "\n";
  }
  // Pass use as the daemon knows it; who is inside stays as this gate saw it.
  for (const auto& [pass, progress] : local->pass_progress) local_state_.RestorePass(pass, progress);
  for (const auto& [leave, progress] : local->leave_progress) local_state_.RestoreLeave(leave, progress);
  display_.PolicyStored(update.policy_version(), local->snapshot.people->size());
  policy_.emplace(std::move(*local));
  policy_confirmed_at_ = now;
  std::lock_guard lock(hello_mu_);
  policy_version_ = update.policy_version();
}

void Agent::ShowState() {
  GateState st;
  st.kind = !link_up_ ? GateState::Kind::kOffline
            : replaying_ ? GateState::Kind::kReplaying
                         : GateState::Kind::kOnline;
  st.since = state_since_;
  st.policy_version = policy_ ? policy_->snapshot.version : 0;
  if (policy_) st.policy_age = clock_.Now() - policy_confirmed_at_;
  st.left = unacked_.size();
  shown_state_ = st.kind;
  display_.State(st);
}

void Agent::Handle(const LinkUp& up) {
  heartbeat_interval_ = std::chrono::milliseconds(
      up.welcome.heartbeat_interval_ms() > 0 ? up.welcome.heartbeat_interval_ms() : 5000);
  Acknowledge(up.welcome.committed_up_to_seq());
  display_.LinkUp(up.welcome, unacked_.size());
  link_up_ = true;
  link_generation_ = up.generation;
  metrics_.CountLinkUp();
  policy_confirmed_at_ = clock_.Now();
  replaying_ = unacked_.size() > options_.replay_threshold;
  state_since_ = clock_.Now();
  ShowState();
  // Resend what is unacknowledged, oldest first, before anything new; Pump()
  // sends it in bursts between other events so the gate stays responsive.
  sent_up_to_ = acked_up_to_;
}

void Agent::Handle(const v1::DaemonMessage& message) {
  switch (message.kind_case()) {
    case v1::DaemonMessage::kDecision:
      HandleDecision(message.decision());
      // What the daemon has committed so far (earlier scans, not this one).
      Acknowledge(message.decision().committed_up_to_seq());
      break;
    case v1::DaemonMessage::kPersistAck:
      Acknowledge(message.persist_ack().up_to_seq());
      break;
    case v1::DaemonMessage::kPolicyUpdate:
      HandlePolicy(message.policy_update());
      break;
    case v1::DaemonMessage::kDisinfectionRecorded: {
      const auto& r = message.disinfection_recorded();
      auto it = disinfections_sent_.find(r.request_id());
      if (it == disinfections_sent_.end()) break;
      if (r.recorded() && policy_) {
        // Known here too, so an offline decision admits the vehicle.
        const Person* p = policy_->snapshot.FindByCredential(policy_->lookup.Hash(it->second));
        if (p) local_state_.RecordDisinfection(p->id, clock_.Now());
      }
      display_.Disinfection(it->second, r.recorded(), r.message());
      disinfections_sent_.erase(it);
      break;
    }
    default:
      break;
  }
  if (link_up_) policy_confirmed_at_ = clock_.Now();  // the daemon is there: the copy is current
}

void Agent::HandleDecision(const v1::Decision& d) {
  auto it = unacked_.find(d.seq());
  if (it == unacked_.end() || it->second.decision) return;  // acked already, or a repeat
  Unacked& scan = it->second;
  auto reason = ReasonFromNumber(d.reason());
  HeldDecision held{d.allowed(), reason.value_or(Reason::kDenyUnknownCredential),
                    d.policy_version(), DecisionSource::kDaemon, FromTimestamp(d.decided_at())};
  scan.decision = held;
  decisions_to_save_.emplace_back(d.seq(), held);

  bool late = !scan.read_at ||
              std::chrono::steady_clock::now() - *scan.read_at > options_.decision_timeout;
  bool actuate = d.allowed() && !late;
  metrics_.CountDecision(held.reason, late);
  if (scan.read_at) metrics_.ObserveRoundTrip(std::chrono::steady_clock::now() - *scan.read_at);
  if (d.allowed()) ApplyLocally(scan.credential, scan.direction, held.reason, held.decided_at);
  if (actuate) {
    turnstile_.Open({{"CORDON_GATE", options_.gate_id},
                     {"CORDON_SEQ", std::to_string(d.seq())},
                     {"CORDON_DIRECTION", std::string(DirectionName(scan.direction))},
                     {"CORDON_REASON", std::string(reason ? ReasonName(*reason) : "UNKNOWN")}});
  }
  // A scan from an earlier run of this gate: nobody is waiting for it, and
  // that run may have shown this very decision (decisions are shown before
  // they are stored) just before it died. Stored, applied, not shown twice.
  if (!scan.read_at) return;
  display_.Decision(ShownDecision{d.seq(), scan.credential, scan.direction, scan.gate_time,
                                  d.allowed(),
                                  std::string(reason ? ReasonName(*reason) : "REASON_UNKNOWN"),
                                  d.message(), d.policy_version(), actuate, late, false});
}

void Agent::Acknowledge(uint64_t up_to) {
  if (up_to <= acked_up_to_) return;
  acked_up_to_ = up_to;
  auto end = unacked_.upper_bound(up_to);
  for (auto it = unacked_.begin(); it != end; ++it) {
    // Recorded by the daemon, but its decision was lost with a connection:
    // say so, rather than leave the guard waiting for a line that never comes.
    if (!it->second.decision) display_.Unanswered(it->first, it->second.credential);
  }
  unacked_.erase(unacked_.begin(), end);
  if (replaying_ && unacked_.size() <= options_.replay_threshold) {
    replaying_ = false;
    state_since_ = clock_.Now();
    ShowState();
  }
}

void Agent::SendScan(uint64_t seq, const Unacked& scan) {
  v1::GateMessage msg;
  FillScan(seq, scan, msg.mutable_scan());
  if (!send_(msg, link_generation_)) link_up_ = false;  // the link thread reports the break
}

void Agent::FillScan(uint64_t seq, const Unacked& scan, v1::Scan* s) {
  s->set_seq(seq);
  s->set_credential(scan.credential);
  s->set_direction(scan.direction == Direction::kIn ? v1::DIRECTION_IN : v1::DIRECTION_OUT);
  *s->mutable_gate_time() = ToTimestamp(scan.gate_time);
  if (scan.decision) {
    v1::GateDecision* held = s->mutable_gate_decision();
    held->set_allowed(scan.decision->allowed);
    held->set_reason(static_cast<v1::Reason>(scan.decision->reason));
    held->set_policy_version(scan.decision->policy_version);
    held->set_source(static_cast<v1::DecisionSource>(scan.decision->source));
    *held->mutable_decided_at() = ToTimestamp(scan.decision->decided_at);
  }
}

absl::Status Agent::Settle() {
  uint64_t ack = acked_up_to_ > saved_ack_ ? acked_up_to_ : 0;
  if (decisions_to_save_.empty() && ack == 0) return absl::OkStatus();
  auto st = outbox_.Settle(decisions_to_save_, ack);
  if (!st.ok()) return st;
  decisions_to_save_.clear();
  saved_ack_ = acked_up_to_;
  return absl::OkStatus();
}

}  // namespace cordon::gate
