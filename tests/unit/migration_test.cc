// Schema migrations: a database left at any earlier schema version, holding
// data, opens at the latest version with its data intact; a database newer
// than the binary is refused.
#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "daemon/storage/schema.h"
#include "daemon/storage/sqlite_store.h"
#include "tests/support/process.h"

namespace cordon::storage {
namespace {

// Rows a campus had at each schema version, written with that version's SQL.
void FillAtVersion(Database& db, int version) {
  if (version >= 1) {
    ASSERT_TRUE(db.Exec(R"sql(
      UPDATE meta SET value = 7 WHERE key = 'policy_version';
      INSERT INTO gates(id, gate_id, description, registered_at) VALUES (1, 'north-1', 'North', 1);
      INSERT INTO people(id, external_id, name, category, cohort, active, valid_until, updated_at)
        VALUES (1, 'S1', 'Li Na', 2, 'dorm-3', 1, NULL, 1);
      INSERT INTO credentials(hash, person_id) VALUES (x'00112233445566778899aabbccddeeff', 1);
      INSERT INTO quarantines(person_id, starts_at, ends_at, reason, ordered_at)
        VALUES (1, 1, 2, 'old order', 1);
      INSERT INTO events(gate_id, incarnation, seq, person_id, credential_hash, direction,
                         occurred_at, gate_time, received_at, decided_at, allowed, reason,
                         policy_version, source, pass_id)
        VALUES (1, 42, 1, 1, x'00112233445566778899aabbccddeeff', 1, 10, 10, 10, 10, 1, 2, 7, 1,
                NULL);
      INSERT INTO gate_incarnations(gate_id, incarnation, highest_seq) VALUES (1, 42, 1);
      INSERT INTO alerts(kind, severity, raised_at, person_id, gate_id, event_id, detail)
        VALUES (1, 2, 10, 1, 1, 1, '');
    )sql").ok());
  }
  if (version >= 2) {
    ASSERT_TRUE(db.Exec("INSERT INTO backups(taken_at, size_bytes, highest_event_id) "
                        "VALUES (11, 4096, 1)").ok());
  }
}

class Migrations : public ::testing::TestWithParam<int> {};

TEST_P(Migrations, AnEarlierSchemaOpensAtTheLatestWithItsData) {
  const int from = GetParam();
  std::string dir = testing::MakeTempDir("migrate");
  std::string path = dir + "/cordon.db";
  {
    auto db = Database::Open(path, Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(*db, from).ok());
    ASSERT_EQ(*SchemaVersion(*db), from);
    FillAtVersion(*db, from);
  }
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  spdlog::default_logger()->sinks().push_back(log);
  auto store = SqliteStore::Open(path);
  spdlog::default_logger()->sinks().pop_back();
  ASSERT_TRUE(store.ok()) << store.status();
  {
    auto db = Database::Open(path, Database::Mode::kReadOnly);
    EXPECT_EQ(*SchemaVersion(*db), LatestSchemaVersion());
  }
  // An upgrade is announced before it starts (it may take a while).
  const std::string upgrading = "upgrading the store from schema v" + std::to_string(from) +
                                " to v" + std::to_string(LatestSchemaVersion());
  bool announced = false;
  for (const std::string& line : log->last_formatted()) {
    announced = announced || line.find(upgrading) != std::string::npos;
  }
  EXPECT_EQ(announced, from > 0) << "a new file (v0) is created, not upgraded";
  auto policy = (*store)->LoadPolicy();
  ASSERT_TRUE(policy.ok()) << policy.status();
  if (from >= 1) {
    EXPECT_EQ(policy->version, 7);
    ASSERT_NE(policy->FindByExternalId("S1"), nullptr);
    EXPECT_NE(policy->FindGate("north-1"), nullptr);
    EXPECT_EQ(*(*store)->CountEvents(), 1);
    auto marks = (*store)->LoadIncarnations();
    ASSERT_TRUE(marks.ok());
    ASSERT_EQ(marks->size(), 1u);
    // The stored scan resent is skipped; the gate's next is stored.
    RecordedEvent e;
    e.gate = 1;
    e.incarnation = 42;
    e.seq = 1;
    e.occurred_at = e.gate_time = e.received_at = e.decided_at = FromUnixMicros(20);
    std::vector<RecordedEvent> batch = {e};
    ASSERT_TRUE((*store)->CommitEvents(batch).ok());
    EXPECT_EQ(*(*store)->CountEvents(), 1);
    batch[0].seq = 2;
    ASSERT_TRUE((*store)->CommitEvents(batch).ok());
    EXPECT_EQ(*(*store)->CountEvents(), 2);
  }
  // What the latest schema adds works on the migrated file.
  BackupInfo info;
  info.taken_at = FromUnixMicros(99);
  EXPECT_TRUE((*store)->RecordBackup(info).ok());
  store->reset();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(FromEveryEarlierVersion, Migrations,
                         ::testing::Range(0, LatestSchemaVersion()),
                         [](const auto& p) { return "v" + std::to_string(p.param); });

TEST(MigrationsList, AreNumberedOneByOne) {
  int expected = 1;
  for (const Migration& m : storage::Migrations()) EXPECT_EQ(m.version, expected++) << m.name;
}

TEST(MigrationsList, ADatabaseNewerThanThisBinaryIsRefused) {
  std::string dir = testing::MakeTempDir("migrate");
  std::string path = dir + "/cordon.db";
  {
    auto db = Database::Open(path, Database::Mode::kReadWrite);
    ASSERT_TRUE(Migrate(*db).ok());
    ASSERT_TRUE(db->Exec("PRAGMA user_version = " + std::to_string(LatestSchemaVersion() + 1)).ok());
  }
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer than this cordond understands"),
            std::string::npos)
      << store.status();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cordon::storage
