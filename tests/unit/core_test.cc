// Campus state, identifier checks, credential hashing, name masking and roster planning.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/campus_state.h"
#include "core/credential.h"
#include "core/identifiers.h"
#include "core/policy_snapshot.h"
#include "core/roster.h"

namespace cordon {
namespace {

const TimePoint kT0 = FromUnixMicros(1'790'000'000'000'000);
using std::chrono::minutes;

Movement In(PersonId person, TimePoint at, GateRowId gate, std::vector<std::string> path = {"campus"},
            std::vector<std::string> cohorts = {}) {
  Movement m{person, Direction::kIn, at, gate};
  m.to_path = std::move(path);
  m.cohorts = std::move(cohorts);
  return m;
}
Movement Out(PersonId person, TimePoint at, GateRowId gate, std::vector<std::string> path = {},
             std::vector<std::string> cohorts = {}) {
  Movement m{person, Direction::kOut, at, gate};
  m.to_path = std::move(path);
  m.cohorts = std::move(cohorts);
  return m;
}

TEST(CampusState, InAndOutMovePresenceAndCount) {
  CampusState s;
  s.Apply(In(1, kT0, 3));
  s.Apply(In(2, kT0, 3));
  EXPECT_TRUE(s.IsOnCampus(1));
  EXPECT_EQ(s.OnCampusCount(), 2u);
  s.Apply(Out(1, kT0 + minutes(5), 4));
  EXPECT_FALSE(s.IsOnCampus(1));
  EXPECT_EQ(s.OnCampusCount(), 1u);
  EXPECT_EQ(s.PresenceOf(1)->gate, 4);
}

TEST(CampusState, ALateOlderMovementDoesNotUndoANewerOne) {
  CampusState s;
  s.Apply(Out(1, kT0 + minutes(10), 1));
  s.Apply(In(1, kT0, 1));  // replayed late
  EXPECT_FALSE(s.IsOnCampus(1));
  EXPECT_EQ(s.OnCampusCount(), 0u);
}

TEST(CampusState, PassProgressIsRecordedOnce) {
  CampusState s;
  s.Apply(Movement{1, Direction::kIn, kT0, 1, 9, PassStep::kEntry});
  s.Apply(Movement{1, Direction::kOut, kT0 + minutes(1), 1, 9, PassStep::kExit});
  s.Apply(Movement{1, Direction::kIn, kT0 + minutes(2), 1, 9, PassStep::kEntry});
  EXPECT_EQ(*s.ProgressOf(9).entered_at, kT0);
  EXPECT_EQ(*s.ProgressOf(9).exited_at, kT0 + minutes(1));
}

TEST(CampusState, ZoneOccupancyAndCohortCountsFollowThePath) {
  CampusState s;
  s.Apply(In(1, kT0, 1, {"campus"}, {"dorm-a"}));
  s.Apply(In(1, kT0 + minutes(1), 2, {"campus", "canteen"}, {"dorm-a"}));
  s.Apply(In(2, kT0 + minutes(1), 2, {"campus", "canteen"}, {"staff"}));
  EXPECT_EQ(s.Occupancy("campus"), 2);
  EXPECT_EQ(s.Occupancy("canteen"), 2);
  EXPECT_EQ(s.CohortCount("canteen", "dorm-a"), 1);
  EXPECT_EQ(s.CohortCount("canteen", "staff"), 1);
  // Leaving the campus from inside the canteen (a missed exit scan) leaves both.
  s.Apply(Out(1, kT0 + minutes(30), 1, {}, {"dorm-a"}));
  EXPECT_EQ(s.Occupancy("canteen"), 1);
  EXPECT_EQ(s.Occupancy("campus"), 1);
  EXPECT_EQ(s.CohortCount("canteen", "dorm-a"), 0);
  EXPECT_EQ(*s.CohortLastLeft("canteen", "dorm-a"), kT0 + minutes(30));
  EXPECT_FALSE(s.CohortLastLeft("canteen", "staff").has_value());
  EXPECT_TRUE(s.ZonePathOf(1).empty());
  EXPECT_EQ(s.ZonePathOf(2).size(), 2u);
}

TEST(CampusState, LeaveProgressIsRecordedOnce) {
  CampusState s;
  Movement out = Out(1, kT0, 1);
  out.leave = 4;
  out.leave_step = LeaveStep::kExit;
  s.Apply(out);
  Movement back = In(1, kT0 + minutes(60), 1);
  back.leave = 4;
  back.leave_step = LeaveStep::kReturn;
  s.Apply(back);
  out.at = kT0 + minutes(90);
  s.Apply(out);
  EXPECT_EQ(*s.ProgressOfLeave(4).exited_at, kT0);
  EXPECT_EQ(*s.ProgressOfLeave(4).returned_at, kT0 + minutes(60));
}

// The next snapshot shares what it does not change: a gate registration
// copies the gates, not the roster, and the published snapshot never moves.
TEST(PolicySnapshot, ANextSnapshotCopiesOnlyTheTablesItEdits) {
  PolicySnapshot current;
  current.PutPerson(Person{1, "S1", "Li Na", PersonCategory::kStudent});
  current.PutGate(Gate{1, "north-1", "", kT0});
  PolicySnapshot next = current;
  next.PutGate(Gate{2, "south-1", "", kT0});
  EXPECT_TRUE(next.people.SharedWith(current.people));
  EXPECT_TRUE(next.people_by_external_id.SharedWith(current.people_by_external_id));
  EXPECT_FALSE(next.gates.SharedWith(current.gates));
  EXPECT_EQ(current.gates->size(), 1u);
  EXPECT_EQ(next.gates->size(), 2u);

  next.PutPerson(Person{1, "S1", "Li Na", PersonCategory::kStudent, "", {}, false});
  EXPECT_FALSE(next.people.SharedWith(current.people));
  EXPECT_TRUE(current.FindPerson(1)->active) << "the published snapshot is untouched";
  EXPECT_FALSE(next.FindPerson(1)->active);
  PolicySnapshot after = next;
  after.PutQuarantine(QuarantineOrder{1, 1, kT0, kT0 + minutes(60), "contact", kT0});
  EXPECT_TRUE(next.QuarantinesOf(1).empty());
  EXPECT_EQ(after.QuarantinesOf(1).size(), 1u);
  EXPECT_TRUE(after.people.SharedWith(next.people));
}

// HMAC-SHA256 as OpenSSL computes it in one call, truncated to 16 bytes, hex.
std::string OneShotHmac(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return HexOf(std::string_view(reinterpret_cast<const char*>(mac), 16));
}

// RFC 4231's HMAC-SHA256 vectors, truncated to the 16 bytes kept: the
// prepared states must give exactly what a one-shot HMAC gives, including for
// a key longer than a SHA-256 block (hashed first).
TEST(CredentialHasher, MatchesRfc4231TestVectors) {
  CredentialHasher twenty_bytes(std::string(20, '\x0b'));
  EXPECT_EQ(twenty_bytes.Hash("Hi There").Hex(), "b0344c61d8db38535ca8afceaf0bf12b");
  CredentialHasher long_key(std::string(131, '\xaa'));
  EXPECT_EQ(long_key.Hash("Test Using Larger Than Block-Size Key - Hash Key First").Hex(),
            "60e431591ee0b67f0d8a26aacbf5b77f");
  EXPECT_EQ(long_key.Hash("").Hex(), OneShotHmac(std::string(131, '\xaa'), ""));
  // Keys either side of the 64-byte block, against OpenSSL's one-shot HMAC.
  for (size_t key_size : {16u, 63u, 64u, 65u, 200u}) {
    const std::string key(key_size, 'k');
    CredentialHasher hasher(key);
    for (const std::string& credential : {std::string(), std::string("CARD-1"), std::string(300, 'c')}) {
      EXPECT_EQ(hasher.Hash(credential).Hex(), OneShotHmac(key, credential))
          << "key of " << key_size << " bytes, credential of " << credential.size();
    }
  }
}

TEST(CredentialHasher, GivesTheSameHashOnEveryThreadAndCopy) {
  const CredentialHasher hasher(std::string(32, 'k'));
  const CredentialHasher copy = hasher;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) expected.push_back(hasher.Hash("CARD-" + std::to_string(i)).Hex());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const CredentialHasher& h = t % 2 ? copy : hasher;
      for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 200; ++i) {
          if (h.Hash("CARD-" + std::to_string(i)).Hex() != expected[static_cast<size_t>(i)]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_NE(hasher.Hash("CARD-1"), hasher.Hash("CARD-2"));
}

TEST(Identifiers, CredentialMustBePrintableWithoutSpaces) {
  EXPECT_EQ(CheckCredential("CARD-0001"), "");
  EXPECT_NE(CheckCredential(""), "");
  EXPECT_NE(CheckCredential("two words"), "");
  EXPECT_NE(CheckCredential("tab\there"), "");
  EXPECT_NE(CheckCredential(std::string(129, 'x')), "");
  EXPECT_EQ(CheckCredential(std::string(128, 'x')), "");
}

TEST(Identifiers, GateIdAllowsLettersDigitsDotDashUnderscore) {
  EXPECT_EQ(CheckGateId("north-1.lane_2"), "");
  EXPECT_NE(CheckGateId("north gate"), "");
  EXPECT_NE(CheckGateId("北门"), "");
  EXPECT_NE(CheckGateId(""), "");
}

TEST(Identifiers, NamesMustBeUtf8WithoutControls) {
  EXPECT_EQ(CheckName("王芳"), "");
  EXPECT_NE(CheckName("bad\xff"), "");
  EXPECT_NE(CheckName("line\nbreak"), "");
  EXPECT_NE(CheckName("\xc0\xaf"), "") << "overlong encodings are not UTF-8";
}

TEST(Identifiers, MaskNameKeepsTheFirstCharacterOfEachWord) {
  EXPECT_EQ(MaskName("Zhang Wei"), "Z**** W**");
  EXPECT_EQ(MaskName("欧阳娜娜"), "欧***");
  EXPECT_EQ(MaskName(""), "");
}

class RosterPlanTest : public ::testing::Test {
 protected:
  RosterPlanTest() {
    Person p;
    p.id = 1;
    p.external_id = "S1";
    p.name = "Existing";
    policy_.PutPerson(p);
    policy_.SetCredentials(1, {hasher_.Hash("CARD-1")});
  }
  RosterRow Row(int line, std::string id, std::vector<std::string> creds = {},
                std::string category = "student") {
    RosterRow r;
    r.line = line;
    r.external_id = std::move(id);
    r.name = "Name " + r.external_id;
    r.category = std::move(category);
    r.credentials = std::move(creds);
    return r;
  }
  CredentialHasher hasher_{std::string(32, 'k')};
  PolicySnapshot policy_;
};

TEST_F(RosterPlanTest, AddsNewAndUpdatesExisting) {
  std::vector<RosterRow> rows = {Row(2, "S1"), Row(3, "S2", {"CARD-2"})};
  RosterPlan plan = PlanRosterImport(policy_, rows, hasher_);
  EXPECT_TRUE(plan.problems.empty());
  EXPECT_EQ(plan.added, 1);
  EXPECT_EQ(plan.updated, 1);
  EXPECT_EQ(plan.people[0].person.id, 1) << "existing people keep their id";
  EXPECT_FALSE(plan.people[0].credentials) << "no credential column: keep the stored ones";
}

TEST_F(RosterPlanTest, ReportsEveryBadRowWithLineAndField) {
  std::vector<RosterRow> rows = {Row(2, "S2", {}, "studnet"), Row(3, "S3", {"CARD-1"}),
                                 Row(4, "S4", {"CARD-4"}), Row(5, "S4", {"CARD-5"}),
                                 Row(6, "S6", {"CARD-4"}), Row(7, "", {})};
  RosterPlan plan = PlanRosterImport(policy_, rows, hasher_);
  ASSERT_EQ(plan.problems.size(), 5u);
  EXPECT_EQ(plan.problems[0].line, 2);
  EXPECT_EQ(plan.problems[0].field, "category");
  EXPECT_EQ(plan.problems[1].line, 3);
  EXPECT_EQ(plan.problems[1].message, "already belongs to S1");
  EXPECT_EQ(plan.problems[2].line, 5);
  EXPECT_EQ(plan.problems[2].message, "'S4' is also on line 4");
  EXPECT_EQ(plan.problems[3].line, 6);
  EXPECT_EQ(plan.problems[3].message, "also on line 4");
  EXPECT_EQ(plan.problems[4].field, "external_id");
  EXPECT_EQ(plan.people.size(), 1u) << "only line 4 is good";
}

TEST_F(RosterPlanTest, ACardMayMoveToAnotherPersonInTheSameImport) {
  std::vector<RosterRow> rows = {Row(2, "S2", {"CARD-1"}), Row(3, "S1", {"CARD-NEW"})};
  RosterPlan plan = PlanRosterImport(policy_, rows, hasher_);
  EXPECT_TRUE(plan.problems.empty()) << plan.problems[0].message;
}

}  // namespace
}  // namespace cordon
