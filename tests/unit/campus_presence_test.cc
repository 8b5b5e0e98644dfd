// CampusPresence with a real SQLite store: what its snapshot says after a
// crash must be what was committed, not what was only decided.
#include <gtest/gtest.h>

#include <filesystem>

#include "daemon/presence/campus_presence.h"
#include "daemon/storage/sqlite_store.h"
#include "tests/support/process.h"

namespace cordon::presence {
namespace {

using std::chrono::minutes;
const TimePoint kT0 = FromUnixMicros(1'790'000'000'000'000);

class CampusPresenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("presence");
    auto store = storage::SqliteStore::Open(dir_ + "/cordon.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto gate = store_->RegisterGate(Gate{0, "north-1", "", kT0}, 1);
    ASSERT_TRUE(gate.ok());
    gate_ = gate->id;
    PersonRecord student{Person{0, "S1", "Li Na", PersonCategory::kStudent},
                         std::vector{hasher_.Hash("c1")}};
    std::vector<PersonRecord> people = {student};
    auto stored = store_->UpsertPeople(people, 2, kT0);
    ASSERT_TRUE(stored.ok()) << stored.status();
    student_ = (*stored)[0].id;
    auto policy = store_->LoadPolicy();
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = std::move(*policy);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The student moves through the gate as the daemon records it: applied to
  // presence, then (maybe later) committed.
  storage::RecordedEvent Move(CampusPresence& presence, uint64_t seq, Direction d, TimePoint at) {
    Movement m = presence.ApplyDecided(policy_, student_, d, Reason::kAllowStudent, at,
                                       "north-1", gate_);
    storage::RecordedEvent e;
    e.gate = gate_;
    e.incarnation = 1;
    e.seq = seq;
    e.person = student_;
    e.credential = hasher_.Hash("c1");
    e.direction = d;
    e.occurred_at = e.gate_time = e.received_at = e.decided_at = at;
    e.allowed = true;
    e.reason = Reason::kAllowStudent;
    e.zone = m.to_path.empty() ? std::string() : m.to_path.back();
    return e;
  }
  void Commit(CampusPresence& presence, const storage::RecordedEvent& e) {
    std::vector<storage::RecordedEvent> batch = {e};
    ASSERT_TRUE(store_->CommitEvents(batch).ok());
    presence.Committed(batch);
  }
  bool OnCampusAfterARestart() {
    CampusPresence restarted;
    EXPECT_TRUE(restarted.Restore(*store_, policy_).ok());
    auto p = restarted.PresenceOf(student_);
    return p && p->on_campus;
  }
  int64_t Count(const char* table) {
    auto db = sqlite::Database::Open(dir_ + "/cordon.db", sqlite::Database::Mode::kReadOnly);
    EXPECT_TRUE(db.ok());
    auto s = db->Prepare(std::string("SELECT count(*) FROM ") + table);
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(*s->Step());
    return s->Int(0);
  }

  std::string dir_;
  std::unique_ptr<storage::SqliteStore> store_;
  CredentialHasher hasher_{std::string(32, 'k')};
  PolicySnapshot policy_;
  GateRowId gate_ = 0;
  PersonId student_ = 0;
};

// The exit is decided and in presence, the snapshot is written, and the
// daemon dies before the exit commits: after the restart the student is
// still inside, as the journal says, and the gate's resent exit is decided
// against that.
TEST_F(CampusPresenceTest, ASnapshotLeavesOutAMovementNotYetCommitted) {
  CampusPresence presence;
  Commit(presence, Move(presence, 1, Direction::kIn, kT0));
  storage::RecordedEvent exit = Move(presence, 2, Direction::kOut, kT0 + minutes(5));
  ASSERT_FALSE(presence.PresenceOf(student_)->on_campus);
  ASSERT_TRUE(presence.SaveSnapshot(*store_).ok());
  EXPECT_EQ(Count("presence_snapshot"), 0);
  EXPECT_EQ(Count("presence_snapshot_unsettled"), 1);
  EXPECT_TRUE(OnCampusAfterARestart()) << "the exit never committed";

  Commit(presence, exit);
  ASSERT_TRUE(presence.SaveSnapshot(*store_).ok());
  EXPECT_EQ(Count("presence_snapshot"), 1);
  EXPECT_EQ(Count("presence_snapshot_unsettled"), 0);
  EXPECT_FALSE(OnCampusAfterARestart());
}

// Two movements in flight: the person stays left out until both commit.
TEST_F(CampusPresenceTest, APersonIsLeftOutUntilEveryMovementOfTheirsCommits) {
  CampusPresence presence;
  storage::RecordedEvent in = Move(presence, 1, Direction::kIn, kT0);
  storage::RecordedEvent out = Move(presence, 2, Direction::kOut, kT0 + minutes(1));
  Commit(presence, in);
  ASSERT_TRUE(presence.SaveSnapshot(*store_).ok());
  EXPECT_EQ(Count("presence_snapshot_unsettled"), 1);
  EXPECT_TRUE(OnCampusAfterARestart()) << "only the entry committed";
  Commit(presence, out);
  ASSERT_TRUE(presence.SaveSnapshot(*store_).ok());
  EXPECT_EQ(Count("presence_snapshot_unsettled"), 0);
  EXPECT_FALSE(OnCampusAfterARestart());
}

}  // namespace
}  // namespace cordon::presence
