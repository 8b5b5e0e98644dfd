#include "daemon/storage/journal_writer.h"

#include <pthread.h>

#include <spdlog/spdlog.h>

namespace cordon::storage {

JournalWriter::JournalWriter(Store& store, Options options, CommitListener on_commit)
    : store_(store), options_(options), on_commit_(std::move(on_commit)) {}

JournalWriter::~JournalWriter() { Stop(); }

void JournalWriter::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cordon-writer");  // for top -H and perf
    Run();
  });
}

void JournalWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JournalWriter::Submit(RecordedEvent event) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    // The writer waits for the first event, or for a full batch: only those
    // wake it (a wake-up is a syscall; most events need none).
    if (events_.empty()) first_queued_at_ = std::chrono::steady_clock::now();
    events_.push_back(std::move(event));
    ++submitted_;
    uncommitted_.store(static_cast<size_t>(submitted_ - done_), std::memory_order_release);
    wake = events_.size() == 1 || events_.size() == options_.max_batch;
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
  return s;
}

void JournalWriter::Run() {
  std::vector<RecordedEvent> batch;
  std::deque<Job> jobs;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !events_.empty() || !jobs_.empty(); });
      if (stopping_ && events_.empty() && jobs_.empty()) return;
      if (options_.commit_window.count() > 0) {
        wake_.wait_until(lock, first_queued_at_ + options_.commit_window, [&] {
          return stopping_ || !jobs_.empty() || events_.size() >= options_.max_batch;
        });
      }
      jobs.swap(jobs_);
      size_t n = std::min(events_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(events_.begin()),
                   std::make_move_iterator(events_.begin() + static_cast<std::ptrdiff_t>(n)));
      events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (Job& job : jobs) job(store_);
    jobs.clear();
    if (!batch.empty()) {
      CommitWithRetry(batch);
      batch.clear();
    }
  }
}

void JournalWriter::CommitWithRetry(std::vector<RecordedEvent>& batch) {
  auto delay = options_.retry_initial;
  int failures = 0;
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    absl::Status st = store_.CommitEvents(batch);
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

}  // namespace cordon::storage
