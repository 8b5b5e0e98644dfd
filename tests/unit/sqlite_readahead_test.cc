// The connections read only the pages SQLite asks for (sqlite/database.h):
// no readahead through read(), no read-around through the readers' mapping.
// Real files; the page cache is inspected with mincore.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sqlite/database.h"
#include "tests/support/process.h"

namespace cordon::sqlite {
namespace {

constexpr long kPage = 4096;

// Drops the file's clean pages from the page cache; false if it cannot.
bool Evict(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  bool ok = fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  close(fd);
  return ok;
}

// Which of the file's pages are in the page cache (none listed if it
// cannot tell).
std::vector<bool> Resident(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return {};
  struct stat st{};
  size_t len = fstat(fd, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  void* map = len > 0 ? mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  close(fd);
  if (map == MAP_FAILED) return {};
  std::vector<unsigned char> in((len + kPage - 1) / kPage);
  bool ok = mincore(map, len, in.data()) == 0;
  munmap(map, len);
  if (!ok) return {};
  std::vector<bool> out;
  for (unsigned char c : in) out.push_back((c & 1) != 0);
  return out;
}

size_t Count(const std::vector<bool>& pages, size_t from = 0, size_t to = SIZE_MAX) {
  size_t n = 0;
  for (size_t i = from; i < to && i < pages.size(); ++i) n += pages[i] ? 1 : 0;
  return n;
}

TEST(SqliteReadahead, ConnectionsCacheOnlyThePagesTheyRead) {
  const std::string dir = testing::MakeTempDir("readahead");
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } remove_dir{dir};
  const std::string path = dir + "/store.db";
  {
    auto db = Database::Open(path, Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(db->Exec("PRAGMA page_size=4096; CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB);"
                         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                         "WHERE i < 16000) INSERT INTO t SELECT i, randomblob(900) FROM n;"
                         "PRAGMA wal_checkpoint(TRUNCATE);")
                    .ok());
  }
  EXPECT_TRUE(ReadaheadDisabled());
  ASSERT_GT(Resident(path).size(), 3000u);
  ASSERT_TRUE(Evict(path));
  if (Count(Resident(path)) > 0) {
    GTEST_SKIP() << "this file system keeps the file's pages cached (tmpfs?)";
  }

  // read(): opening reads the header and schema on page 1. Readahead would
  // bring the next pages (4 at least) with it.
  {
    auto db = Database::Open(path, Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(db->Exec("PRAGMA user_version").ok());
    ASSERT_TRUE(db->Exec("SELECT count(*) FROM sqlite_schema").ok());
  }
  std::vector<bool> after_open = Resident(path);
  ASSERT_FALSE(after_open.empty());
  EXPECT_TRUE(after_open[0]);
  EXPECT_EQ(Count(after_open, 1, 16), 0u) << "pages 2-16 were read ahead";

  // The readers' mapping: one row by its key reads the root, an interior
  // page or two and a leaf. Read-around would bring 32 pages or more.
  ASSERT_TRUE(Evict(path));
  {
    auto db = Database::Open(path, Database::Mode::kReadOnly);
    ASSERT_TRUE(db.ok()) << db.status();
    auto s = db->Prepare("SELECT length(b) FROM t WHERE id = 8000");
    ASSERT_TRUE(s.ok()) << s.status();
    auto row = s->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(s->Int(0), 900);
  }
  std::vector<bool> after_lookup = Resident(path);
  ASSERT_FALSE(after_lookup.empty());
  EXPECT_LE(Count(after_lookup), 8u);
}

// SQLite's memory statistics are not kept: keeping them takes a global
// mutex on every allocation, and nothing reads them. Kept, this
// connection counts about 100 KiB (checked).
TEST(SqliteProcess, KeepsNoMemoryStatistics) {
  std::string dir = testing::MakeTempDir("memstatus");
  {
    auto db = Database::Open(dir + "/t.db", Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(db->Exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)").ok());
    EXPECT_EQ(sqlite3_memory_used(), 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cordon::sqlite
