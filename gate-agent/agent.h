// The gate agent's main loop. One thread owns the outbox and the in-memory
// list of unacknowledged scans; sources and the daemon link post events to
// it. Scans are stored before they are sent; decisions are shown at once and
// acted on only if they arrive within the decision timeout, so a decision
// that arrives after a reconnect never opens the turnstile.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "cordon/v1/gate.pb.h"
#include "core/campus_state.h"
#include "core/offline.h"
#include "core/time.h"
#include "gate-agent/agent_metrics.h"
#include "gate-agent/display.h"
#include "gate-agent/local_policy.h"
#include "gate-agent/outbox.h"
#include "gate-agent/scan_sources.h"
#include "gate-agent/turnstile.h"

namespace cordon::gate {

struct AgentOptions {
  std::string gate_id;
  std::chrono::milliseconds decision_timeout{3000};
  // After the inputs end: how long to wait for the last acks; 0 = forever.
  std::chrono::milliseconds drain_timeout{0};
  // Offline: how old the policy copy may be, per category.
  OfflineLimits offline_limits = OfflineLimits::Defaults();
  // After a reconnect, while more than this many scans await acknowledgement,
  // the gate keeps deciding new scans itself so nobody waits behind the replay.
  size_t replay_threshold = 64;
};

// Exit codes of cordon-gate.
enum ExitCode : int {
  kExitDone = 0,        // inputs ended and every scan is acknowledged, or stopped
  kExitError = 1,       // local failure (outbox, arguments)
  kExitRefused = 2,     // the daemon refused this gate
  kExitUnacked = 3,     // drain timeout with scans left in the outbox
};

class Agent {
 public:
  // Sends on the stream of the given generation (see DaemonLink::Send).
  using Sender = std::function<bool(const v1::GateMessage&, uint64_t generation)>;

  Agent(AgentOptions options, Outbox& outbox, Display& display, Turnstile& turnstile,
        AgentMetrics& metrics, const Clock& clock);

  // Loads unacknowledged scans from the outbox; call before Run().
  absl::Status Load();
  v1::Hello MakeHello() const;  // any thread
  void SetSender(Sender send) { send_ = std::move(send); }

  // Event inputs; any thread.
  void PostLines(ScanLines lines);
  void PostInputEnded(std::string source);
  void PostLinkUp(v1::Welcome welcome, uint64_t generation);
  void PostMessage(v1::DaemonMessage message);
  void PostLinkDown(grpc::Status status, std::chrono::milliseconds retry_in);
  void PostRefused(grpc::Status status);
  void PostStop();

  // Runs until the finite sources have ended and every scan is acknowledged
  // (or the drain timeout passes), the daemon refuses the gate, or Stop.
  int Run(int finite_sources);

 private:
  struct InputEnded { std::string source; };
  struct LinkUp { v1::Welcome welcome; uint64_t generation; };
  struct LinkDown { grpc::Status status; std::chrono::milliseconds retry_in; };
  struct Refused { grpc::Status status; };
  struct Stop {};
  using Event = std::variant<ScanLines, InputEnded, LinkUp, v1::DaemonMessage, LinkDown, Refused,
                             Stop>;

  struct Unacked {
    std::string credential;
    Direction direction = Direction::kIn;
    TimePoint gate_time;
    std::optional<HeldDecision> decision;
    // When this process read the scan; unset for scans from an earlier run,
    // whose decisions must not open the turnstile.
    std::optional<std::chrono::steady_clock::time_point> read_at;
  };

  void Post(Event e);
  // Parses lines into pending_scans_; FlushScans() stores them (one fsync
  // for everything read since the last flush) and sends them.
  void Handle(ScanLines& lines);
  void FlushScans();
  void SendDisinfection(const std::string& credential, TimePoint now);
  void Handle(const LinkUp& up);
  void Handle(const v1::DaemonMessage& message);
  void HandleDecision(const v1::Decision& d);
  void HandlePolicy(const v1::PolicyUpdate& update);
  // Decides a scan here, with the offline copy of the policy.
  HeldDecision DecideHere(const NewScan& scan, std::string* display);
  // Making the first connection: neither up nor failed yet, and not for
  // longer than the decision timeout.
  bool Connecting() const {
    return !link_up_ && !link_failed_ && std::chrono::steady_clock::now() < connecting_until_;
  }
  // Offline (the link failed, or the first connection took too long), or
  // replaying a backlog.
  bool DecidingHere() const { return replaying_ || (!link_up_ && !Connecting()); }
  void ShowState();
  void ApplyLocally(const std::string& credential, Direction direction, Reason reason,
                    TimePoint at);
  void Acknowledge(uint64_t up_to);
  void SendScan(uint64_t seq, const Unacked& scan);
  static void FillScan(uint64_t seq, const Unacked& scan, v1::Scan* out);
  static constexpr int kScansPerBatch = 256;
  // Sends up to `budget` stored scans not yet sent on this link, in order.
  void Pump(size_t budget);
  bool SendPending() const;
  static constexpr size_t kReplayBurst = 1024;
  absl::Status Settle();

  const AgentOptions options_;
  Outbox& outbox_;
  Display& display_;
  Turnstile& turnstile_;
  AgentMetrics& metrics_;
  const Clock& clock_;
  Sender send_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Event> events_;  // guarded by mu_
  mutable std::mutex hello_mu_;
  uint64_t last_assigned_seq_ = 0;  // guarded by hello_mu_ (read by the link thread)
  int64_t policy_version_ = 0;      // guarded by hello_mu_

  // Owned by the Run() thread.
  std::map<uint64_t, Unacked> unacked_;
  std::vector<NewScan> pending_scans_;
  uint64_t next_disinfection_ = 0;
  std::map<uint64_t, std::string> disinfections_sent_;  // request id -> credential
  std::map<std::string, InputMark> pending_marks_;  // latest mark per input
  std::vector<std::pair<uint64_t, HeldDecision>> decisions_to_save_;
  uint64_t acked_up_to_ = 0;
  uint64_t sent_up_to_ = 0;  // every unacked scan up to here was sent on this link
  uint64_t saved_ack_ = 0;
  bool link_up_ = false;
  uint64_t link_generation_ = 0;  // the stream our sends are meant for
  bool replaying_ = false;
  std::optional<GateState::Kind> shown_state_;  // the state last shown
  bool link_failed_ = false;  // a connection attempt failed or a link dropped
  std::chrono::steady_clock::time_point connecting_until_;
  TimePoint state_since_;
  std::chrono::milliseconds heartbeat_interval_{5000};
  // Offline deciding: the policy copy, when it was last known current, and
  // what this gate has seen pass (anti-passback and pass use, locally).
  std::optional<LocalPolicy> policy_;
  TimePoint policy_confirmed_at_;
  CampusState local_state_;
};

}  // namespace cordon::gate
