// The one writer thread. Gate streams Submit() recorded events without
// waiting; the writer takes everything queued (up to max_batch), after at
// most the commit window, commits it in one transaction (group commit), then
// tells the listener (which hands the PersistAcks to their own thread).
// Administrative changes are Post()ed as jobs and run on the same thread, so
// the database has exactly one writer.
//
// With `sync_thread`, a second thread makes the commits durable: the writer
// commits a batch without waiting for the disk and goes on to the next one,
// while the sync thread waits for the disk; the listener runs on the sync
// thread once the batch is durable, batches in commit order. "Committed"
// below always means durable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"

#include "daemon/storage/records.h"
#include "daemon/storage/store.h"
#include "daemon/storage/writer_priority.h"

namespace cordon::storage {

class JournalWriter {
 public:
  struct Options {
    size_t max_batch = 4096;
    // Group commit: once an event is queued, wait up to this long for more
    // before committing (a full batch, a job or a stop commits at once).
    // Each commit costs the same WAL writes and fsync however few events it
    // carries; at low rates one per event would cost far more than the
    // events. Acknowledgements come this much later; decisions do not wait.
    std::chrono::microseconds commit_window{0};
    // The window also ends once this many events are queued (0: a full
    // batch). Past a few thousand, a commit's cost per event is near its
    // floor, and waiting on only delays the acknowledgements that a gate
    // sending its backlog waits for.
    size_t commit_at = 0;
    // A failed commit is retried with exponential backoff; the events stay
    // queued (and in the gates' outboxes) until it succeeds.
    std::chrono::milliseconds retry_initial{20};
    std::chrono::milliseconds retry_max{2000};
    // Metrics hooks, called on the writer thread: a committed batch's size
    // and the time its successful attempt took; a failed attempt.
    std::function<void(size_t events, std::chrono::nanoseconds took)> on_commit_timing;
    std::function<void()> on_commit_failure;
    // After the commit listener, once Uncommitted() no longer counts the batch.
    std::function<void()> after_commit;
    // Yield the CPU while storage is light (writer_priority.h): after a
    // period in which the writer used less than `light_share` of a core, its
    // SQLite work runs as SCHED_IDLE. Nothing else does: the queue, the
    // commit listener and jobs take locks the deciding threads take, and a
    // preempted idle thread holding one would stall every gate. It stops
    // yielding as soon as events queue up (a quarter of max_batch, or the
    // oldest waiting four commit windows, at least 200 ms), for a whole
    // period.
    bool yield_when_light = false;
    double light_share = 0.10;
    std::chrono::milliseconds priority_period{1000};
    // Sync commits on a thread of their own (above). A replay's writer
    // waited for the disk 8% of its time; that wait now overlaps the next
    // commit. Jobs first wait until every commit is durable, so they see
    // what the listener has been told.
    bool sync_thread = false;
    // On the sync thread: the time one sync took, and a failed sync. After a
    // failure no batch is reported committed again (Store::SyncCommitted:
    // only a restart knows what the disk holds); the hook should stop the
    // process.
    std::function<void(std::chrono::nanoseconds took)> on_sync_timing;
    std::function<void(const absl::Status&)> on_sync_failure;
  };
  // Runs on the writer thread after a batch is committed.
  using CommitListener = std::function<void(std::span<const RecordedEvent> batch)>;
  using Job = std::function<void(Store&)>;

  struct Stats {
    uint64_t events_committed = 0;
    uint64_t batches_committed = 0;
    uint64_t commit_failures = 0;
    size_t queue_depth = 0;
    bool writer_yields = false;      // commits run at idle priority (storage is light)
    uint64_t priority_changes = 0;
    uint64_t syncs = 0;              // with sync_thread: each covers every batch handed over before it
    size_t batches_unsynced = 0;     // committed, waiting for the next sync to start
  };

  JournalWriter(Store& store, Options options, CommitListener on_commit);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  void Start();
  // Commits what is queued, then stops the thread. Idempotent.
  void Stop();

  // Any thread; takes a short lock, never waits for the disk.
  void Submit(RecordedEvent event);
  void Post(Job job);

  // Waits until every event submitted before the call is committed; false on
  // timeout.
  bool WaitUntilCommitted(std::chrono::steady_clock::time_point deadline);
  // Events submitted and not yet committed (queued or in the batch being
  // committed). Lock-free.
  size_t Uncommitted() const { return uncommitted_.load(std::memory_order_acquire); }
  Stats stats() const;
  // Why the writer never yields the CPU; empty when it may.
  std::string PriorityNote() const;

 private:
  void Run();
  // Queued events that end the commit window.
  size_t CommitAt() const;
  void CommitWithRetry(std::vector<RecordedEvent>& batch);
  // The batch is durable: tell the listener, count it, wake the waiters.
  void Report(std::span<const RecordedEvent> batch);
  void RunSync();
  // Writer thread, before jobs: until the sync thread has reported every
  // batch handed to it (or has failed).
  void WaitSynced();
  // On the writer thread after each round; `behind`: events were left queued.
  void AdjustPriority(bool behind);

  Store& store_;
  const Options options_;
  const CommitListener on_commit_;

  mutable std::mutex mu_;
  std::condition_variable wake_;       // writer waits for work
  std::condition_variable committed_;  // WaitUntilCommitted waits here
  std::deque<RecordedEvent> events_;   // guarded by mu_
  std::chrono::steady_clock::time_point first_queued_at_;  // of events_.front(); guarded by mu_
  std::deque<Job> jobs_;               // guarded by mu_
  uint64_t submitted_ = 0;             // guarded by mu_
  uint64_t done_ = 0;                  // committed or abandoned; guarded by mu_
  // submitted_ - done_, readable without mu_: every gate message asks.
  std::atomic<size_t> uncommitted_{0};
  bool stopping_ = false;              // guarded by mu_
  Stats stats_;                        // guarded by mu_
  WriterPriority priority_;
  std::atomic<bool> boosted_{false};   // a submitter made the writer normal again
  std::atomic<bool> light_{false};     // set by the writer thread after each period
  std::chrono::steady_clock::time_point period_start_;  // writer thread only
  double period_cpu_s_ = 0;                             // writer thread only
  std::thread thread_;
  // The sync stage (sync_thread): batches committed and not yet durable.
  std::condition_variable sync_wake_;    // the sync thread waits for batches
  std::condition_variable synced_;       // WaitSynced waits here
  std::deque<std::vector<RecordedEvent>> unsynced_;  // guarded by mu_
  uint64_t handed_ = 0;                  // batches handed over; guarded by mu_
  uint64_t reported_ = 0;                // of those, reported; guarded by mu_
  bool sync_stopping_ = false;           // the writer has stopped; guarded by mu_
  bool sync_failed_ = false;             // guarded by mu_
  std::thread sync_thread_;
};

}  // namespace cordon::storage
