#include "gate-agent/display.h"

#include <cstdio>

#include "console/text.h"
#include "console/time_text.h"

namespace cordon::gate {

using console::FormatLocal;
using console::FormatUtc;
using console::JsonString;

void Display::Decision(const ShownDecision& d) {
  if (json_) {
    out_ << "{\"event\":\"decision\",\"gate\":" << JsonString(gate_id_) << ",\"seq\":" << d.seq
         << ",\"credential\":" << JsonString(d.credential) << ",\"direction\":\""
         << DirectionName(d.direction) << "\",\"allowed\":" << (d.allowed ? "true" : "false")
         << ",\"reason\":" << JsonString(d.reason) << ",\"message\":" << JsonString(d.message)
         << ",\"policy_version\":" << d.policy_version << ",\"gate_time\":\""
         << FormatUtc(d.gate_time) << "\",\"actuated\":" << (d.actuated ? "true" : "false")
         << ",\"late\":" << (d.late ? "true" : "false")
         << ",\"source\":" << (d.offline ? "\"gate_offline\"" : "\"daemon\"") << "}" << std::endl;
    return;
  }
  char line[256];
  std::snprintf(line, sizeof line, "%s  %-10s %-14s %-3s  %-5s %-26s %s%s",
                FormatLocal(d.gate_time).c_str(), gate_id_.c_str(), d.credential.c_str(),
                std::string(DirectionName(d.direction)).c_str(), d.allowed ? "ALLOW" : "DENY",
                d.reason.c_str(), d.message.c_str(),
                d.late ? "  (late: turnstile not opened)" : d.offline ? "  (offline)" : "");
  out_ << line << std::endl;
}

void Display::LinkUp(const v1::Welcome& welcome, size_t resending) {
  if (json_) {
    out_ << "{\"event\":\"link\",\"gate\":" << JsonString(gate_id_)
         << ",\"state\":\"online\",\"daemon_version\":" << JsonString(welcome.daemon_version())
         << ",\"policy_version\":" << welcome.policy_version() << ",\"resending\":" << resending
         << "}" << std::endl;
    return;
  }
  link_down_shown_ = false;
  out_ << "[" << gate_id_ << "] online: cordond " << welcome.daemon_version() << ", policy v"
       << welcome.policy_version();
  if (resending > 0) out_ << ", sending " << resending << " stored scan(s) not yet acknowledged";
  out_ << std::endl;
}

void Display::LinkDown(const grpc::Status& status, std::chrono::milliseconds retry_in,
                       size_t unacked) {
  if (json_) {
    out_ << "{\"event\":\"link\",\"gate\":" << JsonString(gate_id_)
         << ",\"state\":\"offline\",\"error\":" << JsonString(status.error_message())
         << ",\"retry_in_ms\":" << retry_in.count() << ",\"unacked\":" << unacked << "}"
         << std::endl;
    return;
  }
  // Readable mode: one line per outage, not one per reconnect attempt.
  if (link_down_shown_) return;
  link_down_shown_ = true;
  out_ << "[" << gate_id_ << "] offline: "
       << (status.error_message().empty() ? "connection lost" : status.error_message())
       << "; reconnecting (first retry in " << retry_in.count() << " ms); " << unacked
       << " scan(s) kept in the outbox" << std::endl;
}

void Display::Refused(const grpc::Status& status) {
  if (json_) {
    out_ << "{\"event\":\"refused\",\"gate\":" << JsonString(gate_id_)
         << ",\"code\":" << static_cast<int>(status.error_code())
         << ",\"error\":" << JsonString(status.error_message()) << "}" << std::endl;
  }
}

void Display::State(const GateState& st) {
  const char* kind = st.kind == GateState::Kind::kOnline    ? "online"
                     : st.kind == GateState::Kind::kOffline ? "offline"
                                                           : "replaying";
  int64_t age_s = st.policy_age ? st.policy_age->count() / 1'000'000 : -1;
  if (json_) {
    out_ << "{\"event\":\"state\",\"gate\":" << JsonString(gate_id_) << ",\"state\":\"" << kind
         << "\",\"since\":\"" << FormatUtc(st.since) << "\",\"policy_version\":"
         << st.policy_version << ",\"policy_age_s\":" << age_s << ",\"left\":" << st.left << "}"
         << std::endl;
    return;
  }
  out_ << "[" << gate_id_ << "] " << kind;
  switch (st.kind) {
    case GateState::Kind::kOffline:
      out_ << " since " << FormatLocal(st.since) << ": deciding alone with policy v"
           << st.policy_version;
      if (age_s >= 0) out_ << " (known current " << age_s / 60 << " min ago)";
      break;
    case GateState::Kind::kReplaying:
      out_ << ": sending " << st.left << " scan(s) decided offline; new scans decided here meanwhile";
      break;
    case GateState::Kind::kOnline:
      out_ << ": decisions from cordond";
      break;
  }
  out_ << std::endl;
}

void Display::PolicyStored(int64_t version, size_t people) {
  if (json_) {
    out_ << "{\"event\":\"policy\",\"gate\":" << JsonString(gate_id_)
         << ",\"policy_version\":" << version << ",\"people\":" << people << "}" << std::endl;
    return;
  }
  out_ << "[" << gate_id_ << "] policy v" << version << " stored for offline use (" << people
       << " people)" << std::endl;
}

void Display::Unanswered(uint64_t seq, const std::string& credential) {
  if (json_) {
    out_ << "{\"event\":\"unanswered\",\"gate\":" << JsonString(gate_id_) << ",\"seq\":" << seq
         << ",\"credential\":" << JsonString(credential) << "}" << std::endl;
    return;
  }
  out_ << "[" << gate_id_ << "] scan #" << seq << " (" << credential
       << ") was recorded, but its decision was lost with the connection: ask to scan again"
       << std::endl;
}

void Display::Disinfection(const std::string& credential, bool recorded,
                           const std::string& message) {
  if (json_) {
    out_ << "{\"event\":\"disinfection\",\"gate\":" << JsonString(gate_id_)
         << ",\"credential\":" << JsonString(credential)
         << ",\"recorded\":" << (recorded ? "true" : "false")
         << ",\"message\":" << JsonString(message) << "}" << std::endl;
    return;
  }
  out_ << "[" << gate_id_ << "] disinfection of " << credential
       << (recorded ? " recorded" : " NOT recorded: " + message) << std::endl;
}

void Display::BadLine(const std::string& source, int64_t line_number, const std::string& problem) {
  if (json_) {
    out_ << "{\"event\":\"bad_line\",\"gate\":" << JsonString(gate_id_)
         << ",\"source\":" << JsonString(source) << ",\"line\":" << line_number
         << ",\"error\":" << JsonString(problem) << "}" << std::endl;
    return;
  }
  out_ << "[" << gate_id_ << "] " << source << " line " << line_number << " ignored: " << problem
       << std::endl;
}

void Display::Finished(size_t unacked, bool timed_out) {
  if (json_) {
    out_ << "{\"event\":\"finished\",\"gate\":" << JsonString(gate_id_)
         << ",\"unacked\":" << unacked << ",\"timed_out\":" << (timed_out ? "true" : "false")
         << "}" << std::endl;
  }
}

}  // namespace cordon::gate
