#include "daemon/schedule/due_alerts.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace cordon::schedule {

DueAlerts::DueAlerts(DueAlertsDeps deps)
    : deps_(deps),
      strand_(boost::asio::make_strand(deps.io)),
      due_timer_(strand_),
      gate_timer_(strand_) {}

void DueAlerts::Start() {
  Reschedule();
  boost::asio::post(strand_, [this] { CheckGates(); });
}

void DueAlerts::Reschedule() {
  if (stopped_ || check_posted_.exchange(true)) return;
  boost::asio::post(strand_, [this] {
    check_posted_ = false;  // a commit from now on asks again
    CheckDue();
  });
}

void DueAlerts::Stop() {
  stopped_ = true;
  boost::asio::post(strand_, [this] {
    due_timer_.cancel();
    gate_timer_.cancel();
  });
}

void DueAlerts::CheckDue() {
  if (stopped_) return;
  auto pending = deps_.store.PendingDueAlerts();
  if (!pending.ok()) {
    spdlog::error("due alerts: {}", pending.status().ToString());
    return;
  }
  TimePoint now = deps_.clock.Now();
  std::optional<TimePoint> next;
  auto policy = deps_.policy.Get();
  for (const storage::DueAlert& due : *pending) {
    if (due.due_at > now) {
      if (!next || due.due_at < *next) next = due.due_at;
      continue;
    }
    const Person* person = policy->FindPerson(due.person);
    std::string who = person ? person->external_id : "#" + std::to_string(due.person);
    std::string detail =
        due.kind == AlertKind::kLeaveOverdue
            ? who + " is not back from leave " + std::to_string(due.subject) + " (return by passed)"
            : who + " is still inside after the window of pass " + std::to_string(due.subject);
    deps_.journal.Post([this, due, detail](storage::Store& store) {
      if (auto st = store.RaiseDueAlert(due, detail); !st.ok()) {
        if (!absl::IsAlreadyExists(st)) spdlog::error("due alerts: {}", st.ToString());
        return;
      }
      spdlog::warn("alert {}: {}", AlertKindName(due.kind), detail);
      deps_.hub.Notify();
    });
  }
  due_timer_.cancel();
  if (next) {
    due_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        *next - now));
    due_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) CheckDue();
    });
  }
}

void DueAlerts::CheckGates() {
  if (stopped_) return;
  auto interval = std::chrono::milliseconds(deps_.heartbeat_interval_ms.load());
  TimePoint now = deps_.clock.Now();
  auto policy = deps_.policy.Get();
  for (const auto& [id, gate] : *policy->gates) {
    rpc::GateLedger::GateStatus st = deps_.ledger.StatusOf(gate.id);
    // Silent: connected, but nothing for three heartbeat intervals (not
    // while cordond itself has stopped reading it).
    bool silent = st.connected && !st.paused && st.last_seen && now - *st.last_seen > 3 * interval;
    if (!silent) {
      silent_since_.erase(gate.id);
      continue;
    }
    if (silent_since_.count(gate.id) && silent_since_[gate.id] == *st.last_seen) continue;
    silent_since_[gate.id] = *st.last_seen;
    auto quiet_s = std::chrono::duration_cast<std::chrono::seconds>(now - *st.last_seen).count();
    std::string detail = "gate " + gate.gate_id + " is connected but sent nothing for " +
                         std::to_string(quiet_s) + " s (heartbeat every " +
                         std::to_string(interval.count()) + " ms)";
    GateRowId row = gate.id;
    deps_.journal.Post([this, row, now, detail](storage::Store& store) {
      if (auto s = store.RaiseAlert(AlertKind::kGateSilent, now, row, detail); !s.ok()) {
        spdlog::error("gate silence alert: {}", s.ToString());
        return;
      }
      spdlog::warn("alert gate_silent: {}", detail);
      deps_.hub.Notify();
    });
  }
  gate_timer_.expires_after(std::max(interval, std::chrono::milliseconds(100)));
  gate_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) CheckGates();
  });
}

}  // namespace cordon::schedule
