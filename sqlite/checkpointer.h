// Copies the write-ahead log into the database file, the bulk of it from a
// thread and a connection of its own.
//
// With SQLite's automatic checkpoint, the connection that commits does the
// copying: once the WAL holds wal_autocheckpoint pages (10,000 here: 40 MB
// of pages scattered over the file) the commit that crossed it copies them
// and syncs the file, and the writer's next transaction waits behind it.
// Here that commit only wakes this thread and goes on. A busy writer keeps
// appending while the copy runs, and the WAL starts again from its
// beginning only at a transaction that finds all of it copied; so once a
// pass has copied the bulk, the writer's next commit copies the little that
// is left itself (`finish_pages` at most) and its next transaction starts
// the WAL again. It waits for a pass only when the WAL has grown to
// `wait_pages` (the copying is behind), which bounds the file.
//
// The copying is a PASSIVE checkpoint: it never waits for readers or for the
// writer, and copies what no reader still needs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "sqlite/database.h"

namespace cordon::sqlite {

class Checkpointer {
 public:
  struct Options {
    int start_pages = 10000;  // wake the checkpointer once the WAL holds this many
    int finish_pages = 1000;  // what the writer copies itself after a pass
    int wait_pages = 40000;   // the writer waits for a pass once it holds this many
    // Runs on the checkpointer thread before each pass: tests slow it down
    // (a disk that cannot keep up).
    std::function<void()> before_pass;
  };
  struct Stats {
    uint64_t passes = 0;           // checkpoints run by the checkpointer thread
    uint64_t writer_finishes = 0;  // checkpoints of the rest, run by the writer
    uint64_t writer_waits = 0;     // commits that waited for a pass (the WAL at wait_pages)
    int last_wal_pages = 0;     // the WAL's size in pages after the latest commit
    uint64_t idle_passes = 0;   // passes run at idle priority (storage light)
    std::string last_error;     // of the latest pass that failed (not a busy one)
  };

  // Takes over `writer`'s checkpoints (replacing its automatic checkpoint)
  // and starts a thread with a connection of its own to `path`. `writer`
  // must outlive the Checkpointer.
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(Database& writer,
                                                             const std::string& path,
                                                             Options options);
  // Stops the thread and gives `writer` its automatic checkpoint back. Call
  // while nothing uses `writer`.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  Stats stats() const;

  // Passes run at idle CPU priority (SCHED_IDLE) while `light()` says so:
  // cordond's writer yields the CPU while storage is light, and so does the
  // copying it used to do inside its commits. The process must be allowed
  // to return a thread from SCHED_IDLE (writer_priority.h). A writer that
  // has to wait for a pass raises it to normal priority. Once it returns,
  // the previous `light` is not running and will not run again.
  void RunIdleWhile(std::function<bool()> light);

 private:
  Checkpointer(Database& writer, Database own, Options options)
      : writer_(writer), own_(std::move(own)), options_(std::move(options)) {}
  // SQLite's WAL hook, on the writer's thread after each commit.
  static int AfterCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void Run();

  Database& writer_;
  Database own_;  // used on the checkpointer thread only
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;    // the checkpointer waits for a request
  std::condition_variable passed_;  // a waiting writer waits for the pass to end
  bool requested_ = false;          // guarded by mu_
  bool running_ = false;            // a pass is requested or running; guarded by mu_
  int backfilled_ = 0;              // WAL frames copied, as of the latest pass; guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::mutex light_mu_;             // held while light_ runs; never with mu_
  std::function<bool()> light_;     // guarded by light_mu_
  pid_t tid_ = 0;                   // the checkpointer thread's; guarded by mu_
  bool idle_ = false;               // it runs at SCHED_IDLE; guarded by mu_
  Stats stats_;                     // guarded by mu_
  std::thread thread_;
};

}  // namespace cordon::sqlite
