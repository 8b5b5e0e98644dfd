// Retention: movement, presence and health records older than the configured
// period (default 28 days) are deleted, audit entries older than theirs (at
// least 180 days), soon after start and then every interval (a day).
// Deletion runs on the journal writer's thread in slices, so gates' events
// are committed between slices; then the file is rewritten and the WAL
// truncated (commits wait meanwhile). Each pass is logged.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/time.h"
#include "daemon/storage/journal_writer.h"

namespace cordon::schedule {

struct RetentionPeriods {
  std::chrono::days personal{28};
  std::chrono::days audit{180};
  std::chrono::minutes interval{24 * 60};
  std::chrono::minutes first_after{5};  // not in the middle of a restart
  int64_t slice_rows = 5000;  // rows per table per writer job
};

class Retention {
 public:
  Retention(boost::asio::io_context& io, storage::JournalWriter& journal, const Clock& clock,
            RetentionPeriods periods);
  void Start();  // a pass `first_after` from now, then every interval
  void Stop();
  // One pass as of the clock's now; `done` (on the writer thread) gets what
  // was deleted and whether the WAL was truncated.
  void RunOnce(std::function<void(const storage::PurgeReport&, bool checkpointed)> done = nullptr);

 private:
  void Arm(std::chrono::minutes after);

  storage::JournalWriter& journal_;
  const Clock& clock_;
  const RetentionPeriods periods_;
  boost::asio::steady_timer timer_;
  std::atomic<bool> stopped_{false};
};

}  // namespace cordon::schedule
