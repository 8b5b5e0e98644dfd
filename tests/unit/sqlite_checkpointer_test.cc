// The WAL is copied into the database file by the checkpointer's thread,
// not by the connection that commits (sqlite/checkpointer.h). Real files.
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "sqlite/checkpointer.h"
#include "sqlite/database.h"
#include "tests/support/process.h"

namespace cordon::sqlite {
namespace {

constexpr uintmax_t kFrame = 4096 + 24;  // a WAL frame: page and header

struct TempDir {
  std::string path = testing::MakeTempDir("checkpointer");
  ~TempDir() { std::filesystem::remove_all(path); }
};

Database OpenWriter(const std::string& path) {
  auto db = Database::Open(path, Database::Mode::kReadWrite);
  EXPECT_TRUE(db.ok()) << db.status();
  EXPECT_TRUE(db->Exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, body TEXT)").ok());
  return std::move(*db);
}

// One row of about two pages per transaction.
void CommitRow(Database& db, int i) {
  auto insert = db.Prepare("INSERT INTO t(id, body) VALUES (?1, ?2)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  ASSERT_TRUE(insert->Bind(1, int64_t{i}).Bind(2, std::string(6000, 'x')).Run().ok());
}

uintmax_t WalBytes(const std::string& db_path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(db_path + "-wal", ec);
  return ec ? 0 : n;
}

int64_t CountRows(const std::string& path) {
  auto db = Database::Open(path, Database::Mode::kReadOnly);
  EXPECT_TRUE(db.ok()) << db.status();
  auto count = db->Prepare("SELECT count(*) FROM t");
  EXPECT_TRUE(count.ok());
  auto row = count->Step();
  EXPECT_TRUE(row.ok() && *row);
  return count->Int(0);
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// A writer that commits without a pause: the checkpointer copies the bulk,
// the writer the rest, and the WAL starts again.
TEST(Checkpointer, CopiesTheWalOnItsOwnThreadAndTheWalStartsAgain) {
  TempDir dir;
  const std::string path = dir.path + "/c.db";
  Database writer = OpenWriter(path);
  std::atomic<bool> on_writer_thread{false};
  const auto writer_thread = std::this_thread::get_id();
  Checkpointer::Options options;
  options.start_pages = 64;
  options.finish_pages = 32;
  options.wait_pages = 1 << 20;  // never: this test is about who copies
  options.before_pass = [&] {
    if (std::this_thread::get_id() == writer_thread) on_writer_thread = true;
  };
  auto ckpt = Checkpointer::Start(writer, path, options);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();

  for (int i = 0; i < 200; ++i) CommitRow(writer, i);  // ~400 pages
  // A pass copies the WAL; the first commit after a whole copy starts the
  // WAL again, so its size in pages drops below the threshold.
  int i = 200;
  ASSERT_TRUE(WaitFor([&] {
    CommitRow(writer, i++);
    return (*ckpt)->stats().passes > 0 && (*ckpt)->stats().last_wal_pages < options.start_pages;
  })) << "passes " << (*ckpt)->stats().passes << ", WAL pages " << (*ckpt)->stats().last_wal_pages;
  EXPECT_FALSE(on_writer_thread);
  EXPECT_GT((*ckpt)->stats().writer_finishes, 0u);
  EXPECT_EQ((*ckpt)->stats().writer_waits, 0u);
  EXPECT_EQ((*ckpt)->stats().last_error, "");
  EXPECT_EQ(CountRows(path), i);
}

// Storage is light throughout: passes run at idle priority, and the writer
// that has to wait raises the stalled one.
TEST(Checkpointer, TheWriterWaitsOnceTheWalOutgrowsItsLimitAndRaisesAnIdlePass) {
  TempDir dir;
  const std::string path = dir.path + "/c.db";
  Database writer = OpenWriter(path);
  std::promise<void> disk_back;  // the first pass stalls until then (a slow disk)
  std::shared_future<void> disk = disk_back.get_future().share();
  std::atomic<bool> first{true};
  Checkpointer::Options options;
  options.start_pages = 32;
  options.finish_pages = 16;
  options.wait_pages = 128;
  std::atomic<int> policy_before_stall{-1}, policy_after_stall{-1};
  options.before_pass = [&] {
    if (!first.exchange(false)) return;
    policy_before_stall = sched_getscheduler(0);
    disk.wait();
    policy_after_stall = sched_getscheduler(0);
  };
  auto ckpt = Checkpointer::Start(writer, path, options);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  (*ckpt)->RunIdleWhile([] { return true; });

  constexpr int kRows = 1000;  // ~2,000 pages: 16 x the limit
  std::atomic<int> committed{0};
  uintmax_t largest_wal = 0;
  std::thread writing([&] {
    for (int i = 0; i < kRows; ++i) {
      CommitRow(writer, i);
      committed = i + 1;
      largest_wal = std::max(largest_wal, WalBytes(path));
    }
  });
  ASSERT_TRUE(WaitFor([&] { return (*ckpt)->stats().writer_waits > 0; }))
      << "the writer never waited; " << committed << " rows committed";
  int while_stalled = committed;
  EXPECT_LT(while_stalled, kRows);
  disk_back.set_value();
  writing.join();

  EXPECT_EQ(CountRows(path), kRows);
  // The limit, one transaction over it, and the WAL header.
  EXPECT_LE(largest_wal, (options.wait_pages + 8) * kFrame + 32)
      << "the WAL grew while the checkpointer stalled";
  std::string error = (*ckpt)->stats().last_error;
  if (error.rfind("sched_setscheduler", 0) == 0) {
    GTEST_SKIP() << "this process may not return a thread from SCHED_IDLE: " << error;
  }
  EXPECT_EQ(error, "");
  EXPECT_EQ(policy_before_stall, SCHED_IDLE);
  EXPECT_EQ(policy_after_stall, SCHED_OTHER) << "the waiting writer left the pass idle";
  EXPECT_GT((*ckpt)->stats().idle_passes, 0u);
}

TEST(Checkpointer, GivesTheWriterItsAutomaticCheckpointBack) {
  TempDir dir;
  const std::string path = dir.path + "/c.db";
  Database writer = OpenWriter(path);
  {
    Checkpointer::Options options;
    options.start_pages = 77;
    auto ckpt = Checkpointer::Start(writer, path, options);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    CommitRow(writer, 1);
  }
  auto pragma = writer.Prepare("PRAGMA wal_autocheckpoint");
  ASSERT_TRUE(pragma.ok());
  auto row = pragma->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(pragma->Int(0), 77);
}

TEST(Checkpointer, AWrongPathIsAnError) {
  TempDir dir;
  Database writer = OpenWriter(dir.path + "/c.db");
  auto ckpt = Checkpointer::Start(writer, dir.path + "/no-such-dir/c.db", {});
  EXPECT_FALSE(ckpt.ok());
}

}  // namespace
}  // namespace cordon::sqlite
