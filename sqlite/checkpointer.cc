#include "sqlite/checkpointer.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cordon::sqlite {

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(Database& writer,
                                                                  const std::string& path,
                                                                  Options options) {
  auto own = Database::Open(path, Database::Mode::kReadWrite);
  if (!own.ok()) return own.status();
  // It reads no b-tree pages (a checkpoint copies WAL frames): no cache.
  if (auto st = own->Exec("PRAGMA cache_size=16; PRAGMA wal_autocheckpoint=0;"); !st.ok()) return st;
  std::unique_ptr<Checkpointer> c(new Checkpointer(writer, std::move(*own), std::move(options)));
  c->thread_ = std::thread([self = c.get()] {
    pthread_setname_np(pthread_self(), "cordon-ckpt");  // for top -H, perf and cordon-bench
    self->Run();
  });
  // Replaces the writer's automatic checkpoint (one WAL hook per connection).
  sqlite3_wal_hook(writer.raw(), &Checkpointer::AfterCommit, c.get());
  return c;
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_autocheckpoint(writer_.raw(), options_.start_pages);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  passed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

namespace {

bool SetIdle(pid_t tid, bool idle) {
  sched_param param{};
  return sched_setscheduler(tid, idle ? SCHED_IDLE : SCHED_OTHER, &param) == 0;
}

}  // namespace

void Checkpointer::RunIdleWhile(std::function<bool()> light) {
  std::lock_guard lock(light_mu_);
  light_ = std::move(light);
}

Checkpointer::Stats Checkpointer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

int Checkpointer::AfterCommit(void* self_ptr, sqlite3* db, const char*, int wal_pages) {
  auto* self = static_cast<Checkpointer*>(self_ptr);
  std::unique_lock lock(self->mu_);
  Stats& stats = self->stats_;
  if (wal_pages < stats.last_wal_pages) self->backfilled_ = 0;  // the WAL started again
  stats.last_wal_pages = wal_pages;
  if (wal_pages < self->options_.start_pages || self->stopping_) return SQLITE_OK;
  if (self->running_) {
    if (wal_pages < self->options_.wait_pages) return SQLITE_OK;
    ++stats.writer_waits;
    // An idle pass would wait for a free core while the writer waits for it.
    if (self->idle_ && SetIdle(self->tid_, false)) self->idle_ = false;
    self->passed_.wait(lock, [&] { return !self->running_ || self->stopping_; });
    return SQLITE_OK;  // the next commit finishes the copy or asks for more
  }
  if (self->backfilled_ > 0 && wal_pages - self->backfilled_ <= self->options_.finish_pages) {
    // What this writer appended during the pass: copied here, so that its
    // next transaction finds the whole WAL copied and starts it again.
    ++stats.writer_finishes;
    lock.unlock();
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied);
    lock.lock();
    if (rc == SQLITE_OK) self->backfilled_ = copied;
    return SQLITE_OK;  // busy or failed: the next commit asks the checkpointer
  }
  self->running_ = true;
  self->requested_ = true;
  self->wake_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::Run() {
  std::unique_lock lock(mu_);
  tid_ = static_cast<pid_t>(syscall(SYS_gettid));
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || requested_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    bool idle = false;
    {
      std::lock_guard light_lock(light_mu_);  // not mu_: light_ may take the writer's locks
      idle = light_ && light_();
    }
    lock.lock();
    if (idle != idle_) {
      if (SetIdle(tid_, idle)) {
        idle_ = idle;
      } else {
        stats_.last_error = std::string("sched_setscheduler: ") + std::strerror(errno);
      }
    }
    if (idle_) ++stats_.idle_passes;
    lock.unlock();
    if (options_.before_pass) options_.before_pass();
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(own_.raw(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                       &copied);
    lock.lock();
    ++stats_.passes;
    if (rc == SQLITE_OK) {
      backfilled_ = copied;
    } else if (rc != SQLITE_BUSY) {
      // Busy: another checkpoint (retention's TRUNCATE) holds the lock and
      // copies the same pages.
      stats_.last_error = SqliteStatus(own_.raw(), rc, "WAL checkpoint").ToString();
    }
    running_ = false;
    passed_.notify_all();
  }
}

}  // namespace cordon::sqlite
