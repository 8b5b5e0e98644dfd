// SQLite's writes on a thread give way while a WriteYield is alive on it
// (sqlite/database.h): every so many writes, the yield runs. Real files;
// the yield is a counter.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "sqlite/database.h"
#include "tests/support/process.h"

namespace cordon::sqlite {
namespace {

// One transaction of `rows` rows of 900 bytes: about one WAL frame (two
// writes) per four rows at the commit.
void InsertRows(Database& db, int rows) {
  ASSERT_TRUE(db.Exec("BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                      "WHERE i < " + std::to_string(rows) + ") "
                      "INSERT INTO t(b) SELECT randomblob(900) FROM n; COMMIT;")
                  .ok());
}

class SqliteWriteYield : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("write-yield");
    auto db = Database::Open(dir_ + "/store.db", Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status();
    db_.emplace(std::move(*db));
    // No checkpoint unless a test asks for one.
    ASSERT_TRUE(db_->Exec("PRAGMA page_size=4096; PRAGMA wal_autocheckpoint=0; "
                          "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB);")
                    .ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::optional<Database> db_;
};

TEST_F(SqliteWriteYield, ACommitGivesWayEverySoManyWrites) {
  int yields = 0;
  std::function<void()> count = [&] { ++yields; };
  {
    WriteYield writes(16, count);
    InsertRows(*db_, 2000);  // about 500 frames: 1,000 writes
    EXPECT_GE(yields, 50);
    EXPECT_EQ(static_cast<size_t>(yields), writes.yields());
  }
  const int during = yields;
  InsertRows(*db_, 2000);
  EXPECT_EQ(yields, during) << "no WriteYield alive: writes run through";
  {
    WriteYield never(0, count);
    InsertRows(*db_, 2000);
    EXPECT_EQ(yields, during) << "0: never";
    EXPECT_EQ(never.yields(), 0u);
  }
}

TEST_F(SqliteWriteYield, ACheckpointGivesWayToo) {
  InsertRows(*db_, 4000);
  int yields = 0;
  std::function<void()> count = [&] { ++yields; };
  WriteYield writes(64, count);
  ASSERT_TRUE(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  // About 1,000 pages copied into the database, one write each.
  EXPECT_GE(yields, 10);
}

TEST_F(SqliteWriteYield, OnlyTheThreadItLivesOnGivesWay) {
  int yields = 0;
  std::function<void()> count = [&] { ++yields; };
  WriteYield writes(16, count);
  std::thread other([&] { InsertRows(*db_, 2000); });
  other.join();
  EXPECT_EQ(yields, 0) << "another thread's writes";
  InsertRows(*db_, 2000);
  EXPECT_GT(yields, 0) << "this thread's";
}

}  // namespace
}  // namespace cordon::sqlite
