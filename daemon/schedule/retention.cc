#include "daemon/schedule/retention.h"

#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace cordon::schedule {
namespace {

std::string Utc(TimePoint t) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(
                                                     ToUnixMicros(t) / 1'000'000)));
}

}  // namespace

Retention::Retention(boost::asio::io_context& io, storage::JournalWriter& journal,
                     const Clock& clock, RetentionPeriods periods)
    : journal_(journal), clock_(clock), periods_(periods), timer_(io) {}

void Retention::Start() { Arm(periods_.first_after); }

void Retention::Stop() {
  stopped_ = true;
  timer_.cancel();
}

void Retention::Arm(std::chrono::minutes after) {
  timer_.expires_after(after);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    RunOnce();
    Arm(periods_.interval);
  });
}

void Retention::RunOnce(std::function<void(const storage::PurgeReport&, bool)> done) {
  TimePoint now = clock_.Now();
  struct Pass {
    TimePoint personal, audit;
    storage::PurgeReport total;
    std::function<void(const storage::PurgeReport&, bool)> done;
  };
  auto pass = std::make_shared<Pass>(Pass{now - periods_.personal, now - periods_.audit, {}, std::move(done)});
  auto slice = std::make_shared<std::function<void(storage::Store&)>>();
  *slice = [this, pass, slice](storage::Store& store) {
    auto r = store.PurgeBefore(pass->personal, pass->audit, periods_.slice_rows);
    if (!r.ok()) {
      spdlog::error("retention: purge failed: {}; the next pass retries", r.status().ToString());
      if (pass->done) pass->done(pass->total, false);
      *slice = nullptr;  // breaks the self-reference
      return;
    }
    auto& t = pass->total;
    t.events += r->events;
    t.intervals += r->intervals;
    t.alerts += r->alerts;
    t.health += r->health;
    t.quarantines += r->quarantines;
    t.passes += r->passes;
    t.leaves += r->leaves;
    t.disinfections += r->disinfections;
    t.audit += r->audit;
    if (r->more && !stopped_) {
      journal_.Post(*slice);  // the gates' events go first
      return;
    }
    bool checkpointed = true;
    int64_t compact_ms = 0;
    if (t.total() > 0) {
      auto started = std::chrono::steady_clock::now();
      absl::Status st = store.CompactAndCheckpoint();
      compact_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started).count();
      checkpointed = st.ok();
      if (!st.ok()) spdlog::warn("retention: {}", std::string(st.message()));
      spdlog::info(
          "retention: deleted {} events, {} stays, {} alerts, {} health records, {} isolation "
          "orders, {} passes, {} leaves, {} disinfections (before {}), {} audit entries (before "
          "{}); file rewritten in {} ms, WAL {}",
          t.events, t.intervals, t.alerts, t.health, t.quarantines, t.passes, t.leaves,
          t.disinfections, Utc(pass->personal), t.audit, Utc(pass->audit), compact_ms,
          checkpointed ? "checkpointed and truncated" : "not yet truncated");
    }
    if (pass->done) pass->done(t, checkpointed);
    *slice = nullptr;
  };
  journal_.Post(*slice);
}

}  // namespace cordon::schedule
