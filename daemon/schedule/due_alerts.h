// Alerts that fall due with no scan to trigger them, raised at their time by
// Asio timers: a leave whose return-by passed with the person still out, a
// visitor still inside after the pass window, a connected gate that stopped
// sending heartbeats.
//
// Rules that only compare a time (an isolation order ending, a pass window
// closing, a separation buffer running out) need no timer: the engine takes
// the time as an argument, so they apply at their exact microsecond, online
// and offline alike.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "core/time.h"
#include "daemon/rpc/alert_watch.h"
#include "daemon/rpc/gate_ledger.h"
#include "daemon/rpc/policy_holder.h"
#include "daemon/storage/journal_writer.h"
#include "daemon/storage/store.h"

namespace cordon::schedule {

struct DueAlertsDeps {
  boost::asio::io_context& io;
  storage::Store& store;            // reads on the io threads (read connections)
  storage::JournalWriter& journal;  // alerts are written on its thread
  rpc::PolicyHolder& policy;
  rpc::GateLedger& ledger;
  rpc::AlertHub& hub;
  const Clock& clock;
  const std::atomic<uint32_t>& heartbeat_interval_ms;
};

class DueAlerts {
 public:
  explicit DueAlerts(DueAlertsDeps deps);
  void Start();
  // Something new may fall due (a leave used, a visitor entered): look again.
  void Reschedule();
  void Stop();

 private:
  void CheckDue();
  void CheckGates();

  DueAlertsDeps deps_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer due_timer_;
  boost::asio::steady_timer gate_timer_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> check_posted_{false};  // one look pending at most, however many commits ask
  std::map<GateRowId, TimePoint> silent_since_;  // on the strand: alerted once per silence
};

}  // namespace cordon::schedule
