#include "daemon/storage/journal_writer.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>

#include <spdlog/spdlog.h>

namespace cordon::storage {
namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Events queued this long while the writer yields: it is starved, not idle.
std::chrono::steady_clock::duration StarvedAfter(const JournalWriter::Options& o) {
  return std::max<std::chrono::steady_clock::duration>(4 * o.commit_window,
                                                       std::chrono::milliseconds(200));
}

}  // namespace

JournalWriter::JournalWriter(Store& store, Options options, CommitListener on_commit)
    : store_(store), options_(options), on_commit_(std::move(on_commit)) {}

JournalWriter::~JournalWriter() { Stop(); }

void JournalWriter::Start() {
  priority_.Allow(options_.yield_when_light);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cordon-writer");  // for top -H and perf
    priority_.BindToThisThread();
    period_start_ = std::chrono::steady_clock::now();
    period_cpu_s_ = ThreadCpuSeconds();
    Run();
  });
  if (options_.sync_thread) {
    sync_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "cordon-sync");
      RunSync();
    });
  }
}

void JournalWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The writer has committed what was queued; the sync thread makes it
  // durable and reports it before it ends.
  {
    std::lock_guard lock(mu_);
    sync_stopping_ = true;
  }
  sync_wake_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
}

void JournalWriter::Submit(RecordedEvent event) {
  bool wake, boost = false;
  {
    std::lock_guard lock(mu_);
    // The writer waits for the first event, or for enough to end the
    // window: only those wake it (a wake-up is a syscall; most events need
    // none).
    if (events_.empty()) first_queued_at_ = std::chrono::steady_clock::now();
    events_.push_back(std::move(event));
    ++submitted_;
    uncommitted_.store(static_cast<size_t>(submitted_ - done_), std::memory_order_release);
    wake = events_.size() == 1 || events_.size() == CommitAt();
    if (priority_.background()) {
      boost = events_.size() >= std::max<size_t>(1, options_.max_batch / 4) ||
              std::chrono::steady_clock::now() - first_queued_at_ > StarvedAfter(options_);
    }
  }
  if (boost) {
    // A starved idle commit cannot notice it is behind: raise it from here.
    boosted_.store(true, std::memory_order_release);
    priority_.Set(false);
  }
  if (wake) wake_.notify_one();
}

void JournalWriter::Post(Job job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

bool JournalWriter::WaitUntilCommitted(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  uint64_t target = submitted_;
  return committed_.wait_until(lock, deadline, [&] { return done_ >= target; });
}

JournalWriter::Stats JournalWriter::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queue_depth = events_.size();
  s.batches_unsynced = unsynced_.size();
  s.writer_yields = light_.load(std::memory_order_relaxed);
  s.priority_changes = priority_.changes();
  return s;
}

std::string JournalWriter::PriorityNote() const { return priority_.why_not(); }

void JournalWriter::AdjustPriority(bool behind) {
  if (!priority_.enabled()) return;
  auto now = std::chrono::steady_clock::now();
  double cpu = ThreadCpuSeconds();
  if (behind || boosted_.exchange(false, std::memory_order_acq_rel)) {
    light_.store(false, std::memory_order_relaxed);
    period_start_ = now;  // a whole period at normal priority before yielding again
    period_cpu_s_ = cpu;
    return;
  }
  if (now - period_start_ < options_.priority_period) return;
  double share = (cpu - period_cpu_s_) / std::chrono::duration<double>(now - period_start_).count();
  period_start_ = now;
  period_cpu_s_ = cpu;
  light_.store(share < options_.light_share, std::memory_order_relaxed);
}

size_t JournalWriter::CommitAt() const {
  const size_t full = std::max<size_t>(1, options_.max_batch);
  return options_.commit_at == 0 ? full : std::min(options_.commit_at, full);
}

void JournalWriter::Run() {
  std::vector<RecordedEvent> batch;
  std::deque<Job> jobs;
  for (;;) {
    bool behind = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !events_.empty() || !jobs_.empty(); });
      if (stopping_ && events_.empty() && jobs_.empty()) return;
      if (options_.commit_window.count() > 0) {
        wake_.wait_until(lock, first_queued_at_ + options_.commit_window, [&] {
          return stopping_ || !jobs_.empty() || events_.size() >= CommitAt();
        });
      }
      jobs.swap(jobs_);
      size_t n = std::min(events_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(events_.begin()),
                   std::make_move_iterator(events_.begin() + static_cast<std::ptrdiff_t>(n)));
      events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(n));
      behind = !events_.empty();
    }
    if (!jobs.empty()) WaitSynced();
    for (Job& job : jobs) job(store_);
    jobs.clear();
    if (!batch.empty()) {
      CommitWithRetry(batch);
      batch.clear();
    }
    AdjustPriority(behind);
  }
}

void JournalWriter::CommitWithRetry(std::vector<RecordedEvent>& batch) {
  auto delay = options_.retry_initial;
  int failures = 0;
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    // Not on a retry after a submitter raised the writer: it is behind.
    if (light_.load(std::memory_order_relaxed) && !boosted_.load(std::memory_order_acquire)) {
      priority_.Set(true);
    }
    absl::Status st =
        options_.sync_thread ? store_.CommitEventsUnsynced(batch) : store_.CommitEvents(batch);
    priority_.Set(false);
    if (st.ok()) {
      if (options_.on_commit_timing) {
        options_.on_commit_timing(batch.size(), std::chrono::steady_clock::now() - started);
      }
      break;
    }
    ++failures;
    if (options_.on_commit_failure) options_.on_commit_failure();
    {
      std::lock_guard lock(mu_);
      ++stats_.commit_failures;
      // When stopping, give up after a few attempts: nothing is lost, the
      // gates keep unacknowledged scans and resend them to the next daemon.
      if (stopping_ && failures >= 3) {
        spdlog::error("journal: giving up on {} uncommitted events at shutdown: {}", batch.size(),
                      st.ToString());
        done_ += batch.size();
        uncommitted_.store(static_cast<size_t>(submitted_ - done_), std::memory_order_release);
        committed_.notify_all();
        return;
      }
    }
    if (failures == 1) spdlog::error("journal: commit failed, retrying: {}", st.ToString());
    std::this_thread::sleep_for(delay);  // the writer's own thread: nobody else waits on it
    delay = std::min(delay * 2, options_.retry_max);
  }
  if (failures > 0) spdlog::info("journal: commit succeeded after {} failures", failures);
  if (options_.sync_thread) {
    {
      std::lock_guard lock(mu_);
      unsynced_.push_back(std::move(batch));
      ++handed_;
    }
    batch = {};
    sync_wake_.notify_one();
    return;
  }
  Report(batch);
}

void JournalWriter::Report(std::span<const RecordedEvent> batch) {
  on_commit_(batch);
  {
    std::lock_guard lock(mu_);
    stats_.events_committed += batch.size();
    ++stats_.batches_committed;
    done_ += batch.size();
    uncommitted_.store(static_cast<size_t>(submitted_ - done_), std::memory_order_release);
  }
  committed_.notify_all();
  if (options_.after_commit) options_.after_commit();
}

void JournalWriter::WaitSynced() {
  std::unique_lock lock(mu_);
  synced_.wait(lock, [&] { return reported_ == handed_ || sync_failed_; });
}

void JournalWriter::RunSync() {
  std::deque<std::vector<RecordedEvent>> todo;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      sync_wake_.wait(lock, [&] { return !unsynced_.empty() || sync_stopping_; });
      if (unsynced_.empty()) return;  // stopping, everything reported
      todo.swap(unsynced_);
    }
    // One sync covers every batch taken: those committed while the last
    // sync ran share this one (group commit across commits).
    auto started = std::chrono::steady_clock::now();
    absl::Status st = store_.SyncCommitted();
    if (!st.ok()) {
      spdlog::critical("journal: syncing {} committed batches failed; none is acknowledged: {}",
                       todo.size(), st.ToString());
      {
        std::lock_guard lock(mu_);
        sync_failed_ = true;
      }
      synced_.notify_all();
      if (options_.on_sync_failure) options_.on_sync_failure(st);
      // Nothing is reported committed again; the events stay in the gates'
      // outboxes for the next start.
      std::unique_lock lock(mu_);
      sync_wake_.wait(lock, [&] { return sync_stopping_; });
      return;
    }
    if (options_.on_sync_timing) options_.on_sync_timing(std::chrono::steady_clock::now() - started);
    for (const std::vector<RecordedEvent>& batch : todo) Report(batch);
    {
      std::lock_guard lock(mu_);
      reported_ += todo.size();
      ++stats_.syncs;
    }
    synced_.notify_all();
    todo.clear();
  }
}

}  // namespace cordon::storage
