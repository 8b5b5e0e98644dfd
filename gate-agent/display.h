// What the gate operator sees: one readable line per decision and per link
// change, or JSON lines (--json) for programs. Used from the agent's thread
// only.
#pragma once

#include <grpcpp/support/status.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "cordon/v1/gate.pb.h"
#include "core/model.h"
#include "core/time.h"

namespace cordon::gate {

struct ShownDecision {
  uint64_t seq = 0;
  std::string credential;
  Direction direction = Direction::kIn;
  TimePoint gate_time;
  bool allowed = false;
  std::string reason;  // e.g. "ALLOW_STUDENT"
  std::string message;
  int64_t policy_version = 0;
  bool actuated = false;  // the turnstile was opened
  bool late = false;      // arrived after the decision timeout: not acted on
  bool offline = false;   // decided by this gate, without the daemon
};

// The gate's state as the operator sees it.
struct GateState {
  enum class Kind { kOnline, kOffline, kReplaying };
  Kind kind = Kind::kOffline;
  TimePoint since;                // when this state began (gate clock)
  int64_t policy_version = 0;     // the offline copy held; 0: none
  std::optional<Micros> policy_age;  // since it was last known current
  size_t left = 0;                // replaying: scans still to be acknowledged
};

class Display {
 public:
  Display(std::ostream& out, std::string gate_id, bool json)
      : out_(out), gate_id_(std::move(gate_id)), json_(json) {}

  void Decision(const ShownDecision& d);
  void LinkUp(const v1::Welcome& welcome, size_t resending);
  void LinkDown(const grpc::Status& status, std::chrono::milliseconds retry_in, size_t unacked);
  void Refused(const grpc::Status& status);
  void State(const GateState& state);
  // A policy copy for offline use was received and stored.
  void PolicyStored(int64_t version, size_t people);
  // A scan the daemon recorded whose decision never reached this gate.
  void Unanswered(uint64_t seq, const std::string& credential);
  // A disinfection the guard entered: recorded by cordond, or why not.
  void Disinfection(const std::string& credential, bool recorded, const std::string& message);
  void BadLine(const std::string& source, int64_t line_number, const std::string& problem);
  void Finished(size_t unacked, bool timed_out);

 private:
  std::ostream& out_;
  const std::string gate_id_;
  const bool json_;
  bool link_down_shown_ = false;  // readable mode: the outage was already announced
};

}  // namespace cordon::gate
