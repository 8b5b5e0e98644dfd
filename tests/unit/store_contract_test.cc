// The storage contract, run against every backend (today: SQLite on a real
// file). A new backend adds itself to kBackends.
#include <gtest/gtest.h>

#include "policydoc/policy_document.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <tuple>

#include "daemon/storage/schema.h"
#include "daemon/storage/sqlite_store.h"
#include "tests/support/process.h"

namespace cordon::storage {
namespace {

using std::chrono::minutes;
using std::chrono::hours;
const TimePoint kT0 = FromUnixMicros(1'790'000'000'000'000);

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
};

const Backend kBackends[] = {
    {"Sqlite",
     [](const std::string& dir) -> std::unique_ptr<Store> {
       auto s = SqliteStore::Open(dir + "/cordon.db");
       EXPECT_TRUE(s.ok()) << s.status();
       return s.ok() ? std::move(*s) : nullptr;
     }},
};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("store");
    store_ = GetParam().open(dir_);
    ASSERT_NE(store_, nullptr);
    auto gate = store_->RegisterGate(Gate{0, "north-1", "", kT0}, 1);
    ASSERT_TRUE(gate.ok());
    gate_ = gate->id;
    PersonRecord a{Person{0, "S1", "Li Na", PersonCategory::kStudent}, std::vector{hasher_.Hash("c1")}};
    PersonRecord b{Person{0, "V1", "Visitor", PersonCategory::kSingleVisit},
                   std::vector{hasher_.Hash("v1")}};
    std::vector<PersonRecord> people = {a, b};
    auto stored = store_->UpsertPeople(people, 2, kT0);
    ASSERT_TRUE(stored.ok()) << stored.status();
    student_ = (*stored)[0].id;
    visitor_ = (*stored)[1].id;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  RecordedEvent Event(uint64_t seq, PersonId person, Direction d, bool allowed, TimePoint at,
                      uint64_t incarnation = 77) {
    RecordedEvent e;
    e.gate = gate_;
    e.incarnation = incarnation;
    e.seq = seq;
    e.person = person;
    e.credential = hasher_.Hash("c1");
    e.direction = d;
    e.occurred_at = e.gate_time = e.received_at = e.decided_at = at;
    e.allowed = allowed;
    e.reason = allowed ? Reason::kAllowStudent : Reason::kDenyAlreadyOnCampus;
    e.policy_version = 2;
    if (allowed && d == Direction::kIn) e.zone = "campus";
    return e;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  CredentialHasher hasher_{std::string(32, 'k')};
  GateRowId gate_ = 0;
  PersonId student_ = 0, visitor_ = 0;
};

TEST_P(StoreContract, AResentEventIsStoredOnceAndItsAlertOnce) {
  RecordedEvent e = Event(1, student_, Direction::kOut, true, kT0);
  e.reason = Reason::kAllowExitWithoutEntry;
  e.alert = AlertKind::kExitWithoutEntry;
  std::vector<RecordedEvent> batch = {e, e};
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  EXPECT_EQ(*store_->CountEvents(), 1);
  auto alerts = store_->ListAlerts(AlertQuery{FromUnixMicros(0), kT0 + minutes(1)});
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(alerts->size(), 1u);
}

TEST_P(StoreContract, EventsCommittedUnsyncedAreReadAtOnceAndKeptOnceSynced) {
  std::vector<RecordedEvent> batch = {Event(1, student_, Direction::kIn, true, kT0),
                                      Event(2, student_, Direction::kOut, true, kT0 + hours(1))};
  ASSERT_TRUE(store_->CommitEventsUnsynced(batch).ok());
  ASSERT_TRUE(store_->CommitEventsUnsynced(batch).ok()) << "a resend is skipped";
  EXPECT_EQ(*store_->CountEvents(), 2);
  auto stays = store_->StaysOf(student_, kT0, kT0 + hours(2), kT0 + hours(2));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_EQ(stays->size(), 1u);
  EXPECT_EQ(stays->front().end, kT0 + hours(1));
  ASSERT_TRUE(store_->SyncCommitted().ok());
  // Again once the WAL has been copied into the database and truncated.
  ASSERT_TRUE(store_->CompactAndCheckpoint().ok());
  ASSERT_TRUE(store_->SyncCommitted().ok());
  store_.reset();
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(*store_->CountEvents(), 2);
  ASSERT_TRUE(store_->SyncCommitted().ok()) << "nothing committed yet on this connection";
}

TEST_P(StoreContract, SameSequenceInANewIncarnationIsANewEvent) {
  std::vector<RecordedEvent> batch = {Event(1, student_, Direction::kIn, true, kT0, 77),
                                      Event(1, student_, Direction::kOut, true, kT0, 78)};
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  EXPECT_EQ(*store_->CountEvents(), 2);
}

// No index makes (gate, incarnation, seq) unique (schema v11): the store
// itself tells a resend from a scan it has not stored.
TEST_P(StoreContract, AScanCommittedAfterALaterOneIsStoredAndResendsAreNotEvenAfterARestart) {
  std::vector<RecordedEvent> later = {Event(3, 0, Direction::kIn, false, kT0)};
  ASSERT_TRUE(store_->CommitEvents(later).ok());
  // Decided on a stream the gate's new one superseded: committed after 3.
  std::vector<RecordedEvent> earlier = {Event(2, 0, Direction::kIn, false, kT0)};
  ASSERT_TRUE(store_->CommitEvents(earlier).ok());
  EXPECT_EQ(*store_->CountEvents(), 2);
  std::vector<RecordedEvent> both = {Event(2, 0, Direction::kIn, false, kT0),
                                     Event(3, 0, Direction::kIn, false, kT0)};
  ASSERT_TRUE(store_->CommitEvents(both).ok());
  EXPECT_EQ(*store_->CountEvents(), 2);
  store_.reset();
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->CommitEvents(both).ok());
  EXPECT_EQ(*store_->CountEvents(), 2) << "resent to the next start";
  std::vector<RecordedEvent> next = {Event(4, 0, Direction::kIn, false, kT0)};
  ASSERT_TRUE(store_->CommitEvents(next).ok());
  EXPECT_EQ(*store_->CountEvents(), 3);
}

TEST_P(StoreContract, IncarnationsRememberTheHighestCommittedSequence) {
  std::vector<RecordedEvent> batch = {Event(1, student_, Direction::kIn, true, kT0),
                                      Event(2, student_, Direction::kOut, true, kT0),
                                      Event(5, 0, Direction::kIn, false, kT0, 99)};
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  auto marks = store_->LoadIncarnations();
  ASSERT_TRUE(marks.ok());
  ASSERT_EQ(marks->size(), 2u);
  for (const auto& m : *marks) EXPECT_EQ(m.highest_seq, m.incarnation == 77 ? 2u : 5u);
}

TEST_P(StoreContract, CampusStateComesBackFromTheLatestAllowedMovement) {
  std::vector<RecordedEvent> batch = {
      Event(1, student_, Direction::kIn, true, kT0),
      Event(2, student_, Direction::kOut, true, kT0 + minutes(1)),
      Event(3, student_, Direction::kIn, true, kT0 + minutes(2)),
      Event(4, student_, Direction::kIn, false, kT0 + minutes(3)),  // denied: no movement
  };
  RecordedEvent visit = Event(5, visitor_, Direction::kIn, true, kT0 + minutes(4));
  auto pass = store_->AddPass(SingleVisitPass{0, visitor_, "host", kT0, kT0 + minutes(60), kT0}, 3);
  ASSERT_TRUE(pass.ok());
  visit.pass = pass->id;
  visit.pass_step = PassStep::kEntry;
  batch.push_back(visit);
  ASSERT_TRUE(store_->CommitEvents(batch).ok());

  CampusState state;
  ASSERT_TRUE(store_->RestoreCampusState(PolicySnapshot{}, state).ok());
  EXPECT_TRUE(state.IsOnCampus(student_));
  EXPECT_EQ(state.PresenceOf(student_)->since, kT0 + minutes(2));
  EXPECT_TRUE(state.IsOnCampus(visitor_));
  EXPECT_EQ(*state.ProgressOf(pass->id).entered_at, kT0 + minutes(4));
  EXPECT_FALSE(state.ProgressOf(pass->id).exited_at);
}

// A start reads the presence snapshot and then the events committed after
// it, unless the last event it included is gone. To tell which was read,
// the snapshot here says what the journal does not.
TEST_P(StoreContract, APresenceSnapshotAndTheEventsAfterItComeBackAtAStart) {
  std::vector<RecordedEvent> first = {Event(1, student_, Direction::kIn, true, kT0)};
  ASSERT_TRUE(store_->CommitEvents(first).ok());
  // Both outside; the journal says the student is inside.
  const std::vector<PresenceMark> doctored = {{student_, kT0 + minutes(5), gate_, ""},
                                              {visitor_, kT0 + minutes(20), gate_, ""}};
  ASSERT_TRUE(store_->SavePresenceSnapshot(doctored, {}).ok());
  auto restored = [&] {
    CampusState state;
    EXPECT_TRUE(store_->RestoreCampusState(PolicySnapshot{}, state).ok());
    return std::pair{state.IsOnCampus(student_), state.IsOnCampus(visitor_)};
  };
  EXPECT_EQ(restored(), std::pair(false, false)) << "the snapshot is read";
  EXPECT_EQ(restored(), std::pair(false, false)) << "and read again";

  std::vector<RecordedEvent> later = {
      Event(2, visitor_, Direction::kIn, true, kT0 + minutes(9)),   // before its snapshot entry
      Event(3, student_, Direction::kIn, true, kT0 + minutes(10)),  // after it
  };
  ASSERT_TRUE(store_->CommitEvents(later).ok());
  EXPECT_EQ(restored(), std::pair(true, false)) << "the later movement wins, the earlier does not";

  {  // the snapshot's last event purged: the journal is searched instead
    auto db = sqlite::Database::Open(dir_ + "/cordon.db", sqlite::Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("DELETE FROM events WHERE seq = 1").ok());
  }
  EXPECT_EQ(restored(), std::pair(true, true));
}

// A person whose latest movement was decided but not committed when the
// snapshot was taken has no mark in it; a start asks the journal. The
// visitor's doctored mark shows the snapshot itself is read.
TEST_P(StoreContract, PeopleLeftOutOfThePresenceSnapshotComeBackFromTheJournal) {
  std::vector<RecordedEvent> in = {Event(1, student_, Direction::kIn, true, kT0),
                                   Event(2, visitor_, Direction::kIn, true, kT0)};
  ASSERT_TRUE(store_->CommitEvents(in).ok());
  const std::vector<PresenceMark> marks = {{visitor_, kT0 + minutes(20), gate_, ""}};
  const std::vector<PersonId> unsettled = {student_};
  ASSERT_TRUE(store_->SavePresenceSnapshot(marks, unsettled).ok());
  auto restored = [&] {
    CampusState state;
    EXPECT_TRUE(store_->RestoreCampusState(PolicySnapshot{}, state).ok());
    return std::pair{state.IsOnCampus(student_), state.IsOnCampus(visitor_)};
  };
  EXPECT_EQ(restored(), std::pair(true, false)) << "the student from the journal";

  std::vector<RecordedEvent> out = {Event(3, student_, Direction::kOut, true, kT0 + minutes(30))};
  ASSERT_TRUE(store_->CommitEvents(out).ok());
  EXPECT_EQ(restored(), std::pair(false, false)) << "and their movements since";

  // The journal says the student came back; a snapshot that (doctored)
  // neither marks nor leaves them out is believed.
  std::vector<RecordedEvent> back = {Event(4, student_, Direction::kIn, true, kT0 + minutes(40))};
  ASSERT_TRUE(store_->CommitEvents(back).ok());
  ASSERT_TRUE(store_->SavePresenceSnapshot({}, {}).ok());
  EXPECT_EQ(restored(), std::pair(false, false)) << "the next snapshot replaces who was left out";
}

// The writer remembers each person's latest interval; a commit that fails
// half-way must not leave it remembering what was rolled back.
TEST_P(StoreContract, AStayClosedInAFailedCommitIsClosedWhenTheCommitIsRetried) {
  std::vector<RecordedEvent> in = {Event(1, student_, Direction::kIn, true, kT0)};
  ASSERT_TRUE(store_->CommitEvents(in).ok());
  auto raw = sqlite::Database::Open(dir_ + "/cordon.db", sqlite::Database::Mode::kReadWrite);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->Exec("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.seq = 3 "
                        "BEGIN SELECT RAISE(ABORT, 'injected'); END").ok());
  RecordedEvent out = Event(2, student_, Direction::kOut, true, kT0 + minutes(30));
  std::vector<RecordedEvent> batch = {out, Event(3, visitor_, Direction::kIn, true, kT0 + minutes(31))};
  ASSERT_FALSE(store_->CommitEvents(batch).ok()) << "the stay was closed, then rolled back";
  ASSERT_TRUE(raw->Exec("DROP TRIGGER refuse").ok());
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  auto stays = raw->Prepare(
      "SELECT count(*), sum(exited_at IS NULL) FROM presence_intervals WHERE person_id = ?1");
  ASSERT_TRUE(stays.ok());
  stays->Bind(1, student_);
  ASSERT_TRUE(*stays->Step());
  EXPECT_EQ(stays->Int(0), 1);
  EXPECT_EQ(stays->Int(1), 0) << "the student's stay is closed";
}

TEST_P(StoreContract, PolicyRoundTripsWithVersionCredentialsOrdersAndPasses) {
  auto order = store_->AddQuarantine(
      QuarantineOrder{0, student_, kT0, kT0 + minutes(60), "contact", kT0}, 3);
  ASSERT_TRUE(order.ok());
  QuarantineId ids[] = {order->id};
  ASSERT_TRUE(store_->ClearQuarantines(ids, kT0 + minutes(5), 4).ok());
  auto policy = store_->LoadPolicy();
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->version, 4);
  EXPECT_EQ(policy->FindByCredential(hasher_.Hash("c1"))->external_id, "S1");
  ASSERT_EQ(policy->QuarantinesOf(student_).size(), 1u);
  EXPECT_EQ(*policy->QuarantinesOf(student_)[0].cleared_at, kT0 + minutes(5));
  EXPECT_NE(policy->FindGate("north-1"), nullptr);
}

TEST_P(StoreContract, ZonesLeavesAndDisinfectionsComeBackAfterARestart) {
  auto layout = policydoc::ParsePolicyDocument(
      "zones:\n  - id: campus\n    zones:\n      - id: dorms\n        zones: [{id: dorm-a}]\n"
      "modes: [{id: normal}]\n");
  ASSERT_TRUE(layout.ok()) << layout.ErrorText();
  auto leave = store_->AddLeave(
      LeaveApproval{0, student_, kT0, kT0 + minutes(60), kT0 + minutes(600), "home", "tutor"},
      kT0, 3);
  ASSERT_TRUE(leave.ok());
  RecordedEvent out = Event(1, student_, Direction::kOut, true, kT0 + minutes(5));
  out.leave = leave->id;
  out.leave_step = LeaveStep::kExit;
  RecordedEvent into_dorm = Event(2, visitor_, Direction::kIn, true, kT0 + minutes(6));
  into_dorm.zone = "dorm-a";
  std::vector<RecordedEvent> batch = {out, into_dorm};
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  ASSERT_TRUE(store_->RecordDisinfection(visitor_, kT0 + minutes(7), "guard").ok());
  ASSERT_TRUE(store_->RecordHealth(student_, HealthRecord{HealthColour::kYellow, "clinic", kT0}, 4)
                  .ok());

  auto policy = store_->LoadPolicy();
  ASSERT_TRUE(policy.ok());
  policy->SetZones(layout.policy);
  EXPECT_EQ(policy->HealthOf(student_), HealthColour::kYellow);
  ASSERT_EQ(policy->LeavesOf(student_).size(), 1u);
  CampusState state;
  ASSERT_TRUE(store_->RestoreCampusState(*policy, state).ok());
  EXPECT_EQ(*state.ProgressOfLeave(leave->id).exited_at, kT0 + minutes(5));
  EXPECT_EQ(std::vector<std::string>(state.ZonePathOf(visitor_).begin(),
                                     state.ZonePathOf(visitor_).end()),
            (std::vector<std::string>{"campus", "dorms", "dorm-a"}));
  EXPECT_EQ(state.Occupancy("dorms"), 1);
  EXPECT_EQ(*state.LastDisinfection(visitor_), kT0 + minutes(7));

  auto due = store_->PendingDueAlerts();
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].kind, AlertKind::kLeaveOverdue);
  EXPECT_EQ((*due)[0].due_at, kT0 + minutes(600));
  ASSERT_TRUE(store_->RaiseDueAlert((*due)[0], "not back").ok());
  EXPECT_TRUE(store_->PendingDueAlerts()->empty()) << "a due alert is raised once";
  // Asked twice (the scheduler looked again before the first commit): one alert.
  EXPECT_TRUE(absl::IsAlreadyExists(store_->RaiseDueAlert((*due)[0], "not back")));
  EXPECT_EQ(store_->ListAlerts(AlertQuery{FromUnixMicros(0), kT0 + minutes(1000)})->size(), 1u);
}

TEST_P(StoreContract, PolicyDocumentsKeepEveryVersion) {
  EXPECT_FALSE(store_->GetPolicyDocument(0)->has_value());
  ASSERT_TRUE(store_->SavePolicyDocument({5, "zones: # v5", "closed", kT0, "admin", "apply"}).ok());
  ASSERT_TRUE(store_->SavePolicyDocument({6, "zones: # v5", "normal", kT0, "admin",
                                          "mode closed -> normal"}).ok());
  auto latest = store_->GetPolicyDocument(0);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->mode, "normal");
  EXPECT_EQ(store_->LoadPolicy()->version, 6);
  auto history = store_->ListPolicyDocuments();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version, 6);
  EXPECT_TRUE((*history)[0].document.empty());
  EXPECT_EQ((*store_->GetPolicyDocument(5))->document, "zones: # v5");
  EXPECT_FALSE(store_->GetPolicyDocument(7)->has_value());
}

TEST_P(StoreContract, ACredentialMovesBetweenPeopleInOneChange) {
  std::vector<PersonRecord> change = {
      {Person{student_, "S1", "Li Na", PersonCategory::kStudent}, std::vector{hasher_.Hash("new")}},
      {Person{visitor_, "V1", "Visitor", PersonCategory::kSingleVisit},
       std::vector{hasher_.Hash("c1")}},
  };
  ASSERT_TRUE(store_->UpsertPeople(change, 3, kT0).ok());
  auto policy = store_->LoadPolicy();
  EXPECT_EQ(policy->FindByCredential(hasher_.Hash("c1"))->external_id, "V1");
  EXPECT_EQ(policy->FindByCredential(hasher_.Hash("new"))->external_id, "S1");
}

TEST_P(StoreContract, ACredentialHeldByAnotherPersonIsRefusedAndNothingChanges) {
  std::vector<PersonRecord> change = {
      {Person{0, "S9", "New", PersonCategory::kStudent}, std::vector{hasher_.Hash("c1")}}};
  auto st = store_->UpsertPeople(change, 3, kT0);
  EXPECT_TRUE(absl::IsAlreadyExists(st.status())) << st.status();
  auto policy = store_->LoadPolicy();
  EXPECT_EQ(policy->FindByExternalId("S9"), nullptr) << "the transaction rolled back";
  EXPECT_EQ(policy->version, 2);
}

TEST_P(StoreContract, MovementsArePagedInTimeOrder) {
  std::vector<RecordedEvent> batch;
  for (uint64_t i = 1; i <= 25; ++i) {
    batch.push_back(Event(i, student_, i % 2 ? Direction::kIn : Direction::kOut, true,
                          kT0 + minutes(static_cast<int>(26 - i))));  // newest first
  }
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  MovementQuery q;
  q.person = student_;
  q.from = kT0;
  q.to = kT0 + minutes(1000);
  q.limit = 10;
  std::vector<MovementRow> all;
  for (;;) {
    auto page = store_->ListMovements(q);
    ASSERT_TRUE(page.ok());
    all.insert(all.end(), page->begin(), page->end());
    if (static_cast<int>(page->size()) < q.limit) break;
    q.after = std::make_pair(page->back().occurred_at, page->back().id);
  }
  ASSERT_EQ(all.size(), 25u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].occurred_at, all[i].occurred_at);
}

// The per-person indexes are keyed by day (schema v10): what a person did
// days apart must still be found, by every reader of those indexes.
TEST_P(StoreContract, APersonsRecordsAreFoundAcrossDays) {
  auto day = [](int n) { return kT0 + std::chrono::hours(24 * n); };
  auto in = [&](uint64_t seq, PersonId p, int d) { return Event(seq, p, Direction::kIn, true, day(d)); };
  auto out = [&](uint64_t seq, PersonId p, int d) {
    RecordedEvent e = Event(seq, p, Direction::kOut, true, day(d));
    e.at_zone = "campus";
    return e;
  };
  std::vector<RecordedEvent> batch = {in(1, student_, 0), out(3, student_, 3), in(4, student_, 10),
                                      in(2, visitor_, 20)};
  ASSERT_TRUE(store_->CommitEvents(batch).ok());
  // A new store forgets each person's latest stay: the exit 30 days on must
  // find the stay it closes, entered 10 days before the latest one held.
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
  std::vector<RecordedEvent> exit = {out(5, student_, 40)};
  ASSERT_TRUE(store_->CommitEvents(exit).ok());

  auto stays = store_->StaysOf(student_, day(2), day(12), day(50));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_EQ(stays->size(), 2u) << "the stay entered 2 days before the window, and the next";
  EXPECT_EQ((*stays)[0].begin, day(0));
  EXPECT_EQ((*stays)[0].end, day(3));
  EXPECT_EQ((*stays)[1].begin, day(10));
  EXPECT_EQ((*stays)[1].end, day(40)) << "closed by the exit, not inferred";
  EXPECT_FALSE((*stays)[1].inferred);

  MovementQuery q;
  q.person = student_;
  q.from = day(-1);
  q.to = day(60);
  auto moves = store_->ListMovements(q);
  ASSERT_TRUE(moves.ok()) << moves.status();
  ASSERT_EQ(moves->size(), 4u);
  EXPECT_EQ(moves->front().occurred_at, day(0));
  EXPECT_EQ(moves->back().occurred_at, day(40));

  CampusState state;  // no presence snapshot: each person's latest movement is sought
  ASSERT_TRUE(store_->RestoreCampusState(PolicySnapshot{}, state).ok());
  EXPECT_FALSE(state.IsOnCampus(student_));
  EXPECT_TRUE(state.IsOnCampus(visitor_)) << "entered 20 days before the latest event";

  // Before day 30: the student's three go (each has a later movement); the
  // visitor's entry is their latest and stays.
  auto purged = store_->PurgeBefore(day(30), FromUnixMicros(0), 1000);
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(purged->events, 3);
  EXPECT_EQ(*store_->CountEvents(), 2);
}

// An event older than the person's latest stay, days before it (a gate
// replaying its outbox), rebuilds their stays from the one it falls in.
TEST_P(StoreContract, ALateMovementDaysOldRebuildsThePersonsStays) {
  auto day = [](int n) { return kT0 + std::chrono::hours(24 * n); };
  std::vector<RecordedEvent> seen = {Event(1, student_, Direction::kIn, true, day(0)),
                                     Event(2, student_, Direction::kIn, true, day(10))};
  seen[1].at_zone = "";  // seen outside: the first stay's exit was missed
  ASSERT_TRUE(store_->CommitEvents(seen).ok());
  RecordedEvent late = Event(3, student_, Direction::kOut, true, day(5));
  late.at_zone = "campus";
  std::vector<RecordedEvent> replayed = {late};
  ASSERT_TRUE(store_->CommitEvents(replayed).ok());
  auto stays = store_->StaysOf(student_, day(-1), day(11), day(11));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_EQ(stays->size(), 2u);
  EXPECT_EQ((*stays)[0].end, day(5)) << "the replayed exit closes the first stay";
  EXPECT_FALSE((*stays)[0].inferred);
  EXPECT_EQ((*stays)[1].begin, day(10));
}

// A stay past the longest believable one (16 h) is closed, inferred, at
// that length by the next sighting elsewhere. An exit scanned before that
// sighting but replayed after it closes the stay itself, even though it
// lies after the inferred end.
TEST_P(StoreContract, AReplayedExitAfterAnInferredEndClosesTheStay) {
  std::vector<RecordedEvent> seen = {Event(1, student_, Direction::kIn, true, kT0),
                                     Event(2, student_, Direction::kIn, true, kT0 + hours(20))};
  seen[1].at_zone = "";  // seen outside: the exit was missed
  ASSERT_TRUE(store_->CommitEvents(seen).ok());
  RecordedEvent out = Event(3, student_, Direction::kOut, true, kT0 + hours(18));
  out.at_zone = "campus";
  std::vector<RecordedEvent> replayed = {out};
  ASSERT_TRUE(store_->CommitEvents(replayed).ok());
  auto stays = store_->StaysOf(student_, kT0 - hours(1), kT0 + hours(21), kT0 + hours(21));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_EQ(stays->size(), 2u);
  EXPECT_EQ((*stays)[0].end, kT0 + hours(18)) << "the scanned exit, not the inferred one";
  EXPECT_FALSE((*stays)[0].inferred);
  EXPECT_EQ((*stays)[1].begin, kT0 + hours(20));
}

// A rebuild writes only the rows that differ from the stays the events
// make; a stored stay that no event makes (left by a fault or a hand edit)
// is removed, not kept beside them.
TEST_P(StoreContract, ARebuildRemovesStoredStaysThatNoEventMakes) {
  std::vector<RecordedEvent> live = {Event(1, student_, Direction::kIn, true, kT0 + minutes(60))};
  ASSERT_TRUE(store_->CommitEvents(live).ok());
  auto raw = sqlite::Database::Open(dir_ + "/cordon.db", sqlite::Database::Mode::kReadWrite);
  ASSERT_TRUE(raw.ok());
  auto stray = raw->Prepare(
      "INSERT INTO presence_intervals(person_id, zone, entered_at, exited_at, span_class, "
      "enter_event) VALUES (?1, 'campus', ?2, ?3, 5, 999)");
  ASSERT_TRUE(stray.ok());
  for (int at : {70, 100}) {  // two: the rebuild's new stay may take one's row
    ASSERT_TRUE(stray->Bind(1, student_)
                    .Bind(2, ToUnixMicros(kT0 + minutes(at)))
                    .Bind(3, ToUnixMicros(kT0 + minutes(at + 20)))
                    .Run()
                    .ok());
  }
  RecordedEvent out = Event(2, student_, Direction::kOut, true, kT0 + minutes(30));
  out.at_zone = "campus";
  std::vector<RecordedEvent> replayed = {Event(3, student_, Direction::kIn, true, kT0), out};
  ASSERT_TRUE(store_->CommitEvents(replayed).ok());
  auto stays = store_->StaysOf(student_, kT0 - minutes(1), kT0 + minutes(120), kT0 + minutes(120));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_EQ(stays->size(), 2u);
  EXPECT_EQ((*stays)[0].begin, kT0);
  EXPECT_EQ((*stays)[0].end, kT0 + minutes(30)) << "the replayed exit closes the replayed stay";
  EXPECT_EQ((*stays)[1].begin, kT0 + minutes(60)) << "the live stay stands; the stray ones are gone";
}

// Late events of a person, as a replaying gate sends them (in time order),
// around a live one that is later than all of them: each rebuild derives
// with the live event, here the live exit closing the late entry's stay.
TEST_P(StoreContract, ALateMovementAfterALiveOneIsDerivedWithIt) {
  auto at = [](int m) { return kT0 + minutes(m); };
  auto out = [&](uint64_t seq, int m) {
    RecordedEvent e = Event(seq, student_, Direction::kOut, true, at(m));
    e.at_zone = "campus";
    return std::vector<RecordedEvent>{e};
  };
  ASSERT_TRUE(store_->CommitEvents(std::vector{Event(1, student_, Direction::kIn, true, at(100))}).ok());
  ASSERT_TRUE(store_->CommitEvents(out(2, 200)).ok());
  ASSERT_TRUE(store_->CommitEvents(out(3, 150)).ok());  // late: rebuilt, kept
  ASSERT_TRUE(store_->CommitEvents(out(4, 400)).ok());  // live: closes nothing yet
  ASSERT_TRUE(store_->CommitEvents(std::vector{Event(5, student_, Direction::kIn, true, at(300))}).ok());
  auto stays = store_->StaysOf(student_, at(0), at(500), at(500));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_EQ(stays->size(), 2u);
  EXPECT_EQ((*stays)[0].begin, at(100));
  EXPECT_EQ((*stays)[0].end, at(150));
  EXPECT_EQ((*stays)[1].begin, at(300));
  EXPECT_EQ((*stays)[1].end, at(400)) << "the live exit at 400 closes the late entry's stay";
}

// After a start the writer knows the open stays only. A late event for
// someone with none is checked against their latest stay, sought days back.
TEST_P(StoreContract, ALateMovementAfterAStartFindsTheLatestStayDaysBack) {
  auto day = [](int n) { return kT0 + std::chrono::hours(24 * n); };
  RecordedEvent out = Event(2, student_, Direction::kOut, true, day(3));
  out.at_zone = "campus";
  std::vector<RecordedEvent> seen = {Event(1, student_, Direction::kIn, true, day(0)), out,
                                     Event(3, visitor_, Direction::kIn, true, day(20))};
  ASSERT_TRUE(store_->CommitEvents(seen).ok());
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
  RecordedEvent late = Event(4, student_, Direction::kOut, true, day(2));
  late.at_zone = "campus";
  std::vector<RecordedEvent> replayed = {late};
  ASSERT_TRUE(store_->CommitEvents(replayed).ok());
  auto stays = store_->StaysOf(student_, day(-1), day(21), day(21));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_EQ(stays->size(), 1u);
  EXPECT_EQ(stays->front().end, day(2)) << "the earlier exit ends the stay";
}

// Stays kept up to date as events arrive, in any order (live, late, in
// batches), are the stays derived from all the events at once. The events:
// entries and exits of two people over three days, some denied, some seen
// where the records do not put them; committed shuffled, in batches of 1-8,
// half of them after a restart.
// (SQLite: the derivation from scratch is asked for through its meta table.)
TEST_P(StoreContract, StaysKeptAsEventsArriveInAnyOrderAreTheStaysDerivedFromAllOfThem) {
  using Row = std::tuple<int64_t, std::string, int64_t, std::optional<int64_t>, int64_t, int64_t,
                         std::optional<int64_t>, std::optional<int64_t>>;
  auto read_stays = [&] {
    const std::string db_path = dir_ + "/cordon.db";
    std::vector<Row> rows;
    auto db = sqlite::Database::Open(db_path, sqlite::Database::Mode::kReadOnly);
    EXPECT_TRUE(db.ok()) << db.status();
    auto q = db->Prepare(
        "SELECT person_id, zone, entered_at, exited_at, inferred, span_class, enter_event, "
        "exit_event FROM presence_intervals ORDER BY person_id, entered_at, id");
    EXPECT_TRUE(q.ok()) << q.status();
    for (;;) {
      auto row = q->Step();
      EXPECT_TRUE(row.ok()) << row.status();
      if (!row.ok() || !*row) break;
      rows.emplace_back(q->Int(0), q->Text(1), q->Int(2), q->OptInt(3), q->Int(4), q->Int(5),
                        q->OptInt(6), q->OptInt(7));
    }
    return rows;
  };
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
    const char* zones[] = {"campus", "library"};
    // Over 3 days most gaps are shorter than the longest stay (16 h); over
    // 12, some stays end at it, inferred.
    const int64_t days = seed % 2 ? 3 : 12;
    std::vector<RecordedEvent> events;
    for (PersonId person : {student_, visitor_}) {
      for (int i = 0; i < 40; ++i) {
        TimePoint at = kT0 + std::chrono::seconds(
            std::uniform_int_distribution<int64_t>(0, days * 24 * 3600)(rng)) +
            std::chrono::microseconds(events.size());
        // Some at the same moment as the person's previous event (two gates'
        // clocks agreeing to the µs): ordered by arrival.
        if (i > 0 && chance(0.1)) at = events.back().occurred_at;
        Direction d = chance(0.5) ? Direction::kIn : Direction::kOut;
        RecordedEvent e = Event(seed * 1000 + events.size() + 1, person, d, chance(0.85), at);
        const char* zone = zones[chance(0.3) ? 1 : 0];
        if (d == Direction::kIn) {
          e.at_zone = chance(0.8) ? "" : "campus";
          if (e.allowed) e.zone = zone;
        } else {
          e.at_zone = chance(0.8) ? zone : "";
        }
        events.push_back(std::move(e));
      }
    }
    std::shuffle(events.begin(), events.end(), rng);
    bool restarted = false;
    for (size_t i = 0; i < events.size();) {
      size_t n = std::min(events.size() - i,
                          static_cast<size_t>(std::uniform_int_distribution<int>(1, 8)(rng)));
      ASSERT_TRUE(store_->CommitEvents(std::span(events.data() + i, n)).ok());
      i += n;
      if (!restarted && i >= events.size() / 2) {  // the rest arrive after a restart
        restarted = true;
        store_ = GetParam().open(dir_);
        ASSERT_NE(store_, nullptr);
      }
    }
    std::vector<Row> kept = read_stays();
    ASSERT_FALSE(kept.empty());

    store_.reset();
    {
      auto db = sqlite::Database::Open(dir_ + "/cordon.db", sqlite::Database::Mode::kReadWrite);
      ASSERT_TRUE(db.ok()) << db.status();
      ASSERT_TRUE(db->Exec("UPDATE meta SET value = 0 WHERE key = 'intervals_built'").ok());
    }
    store_ = GetParam().open(dir_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(*store_->StaysNeedDeriving());
    ASSERT_TRUE(store_->DeriveStays([](std::string_view) -> Micros { return std::chrono::hours(16); }).ok());
    EXPECT_FALSE(*store_->StaysNeedDeriving());
    std::vector<Row> derived = read_stays();
    ASSERT_EQ(kept.size(), derived.size());
    for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(kept[i], derived[i]) << "stay " << i;
    if (HasFailure()) return;
    // The next seed starts from a new store.
    store_.reset();
    std::filesystem::remove_all(dir_);
    SetUp();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::ValuesIn(kBackends),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(Schema, RefusesADatabaseNewerThanThisBinary) {
  std::string dir = testing::MakeTempDir("schema");
  {
    auto db = sqlite::Database::Open(dir + "/c.db", sqlite::Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 999").ok());
  }
  auto store = SqliteStore::Open(dir + "/c.db");
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  std::filesystem::remove_all(dir);
}

TEST(SqliteStore, OnlyUnsyncedEventCommitsSkipTheWaitForTheDisk) {
  std::string dir = testing::MakeTempDir("sync");
  auto store = SqliteStore::Open(dir + "/cordon.db");
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->WriterSyncsEachCommit());
  RecordedEvent e;
  e.gate = 1;
  e.incarnation = 1;
  e.seq = 1;
  e.occurred_at = e.gate_time = e.received_at = e.decided_at = kT0;
  std::vector<RecordedEvent> batch = {e};
  ASSERT_TRUE((*store)->CommitEventsUnsynced(batch).ok());
  EXPECT_TRUE((*store)->WriterSyncsEachCommit()) << "administrative changes still wait for the disk";
  EXPECT_TRUE(std::filesystem::exists(dir + "/cordon.db-wal"));
  ASSERT_TRUE((*store)->SyncCommitted().ok());
  store->reset();
  std::filesystem::remove_all(dir);
}

// Gate 1's scans `first` to `last` of no one, a second apart.
std::vector<RecordedEvent> GateScans(uint64_t first, uint64_t last) {
  std::vector<RecordedEvent> out;
  for (uint64_t seq = first; seq <= last; ++seq) {
    RecordedEvent e;
    e.gate = 1;
    e.incarnation = 1;
    e.seq = seq;
    e.occurred_at = e.gate_time = e.received_at = e.decided_at =
        kT0 + std::chrono::seconds(seq);
    out.push_back(e);
  }
  return out;
}

TEST(SqliteStore, AnEventCommitOffersTheCpuEverySoManyEvents) {
  std::string dir = testing::MakeTempDir("yield");
  auto store = SqliteStore::Open(dir + "/cordon.db");
  ASSERT_TRUE(store.ok());
  int yields = 0;
  (*store)->YieldEvery(32, [&] { ++yields; });
  std::vector<RecordedEvent> batch = GateScans(1, 100);
  ASSERT_TRUE((*store)->CommitEvents(std::span(batch).first(32)).ok());
  EXPECT_EQ(yields, 0) << "a commit of 32 events runs through";
  ASSERT_TRUE((*store)->CommitEvents(batch).ok());
  EXPECT_EQ(yields, 3) << "before the 33rd, 65th and 97th of 100";
  (*store)->YieldEvery(0);
  ASSERT_TRUE((*store)->CommitEventsUnsynced(batch).ok());
  EXPECT_EQ(yields, 3) << "0: never";
  EXPECT_EQ(*(*store)->CountEvents(), 100);

  // 3,000 events: 93 yields between events, and more while the commit
  // writes its WAL frames (every 64 writes).
  (*store)->YieldEvery(32, [&] { ++yields; });
  std::vector<RecordedEvent> many = GateScans(101, 3100);
  yields = 0;
  ASSERT_TRUE((*store)->CommitEvents(many).ok());
  EXPECT_GT(yields, 93) << "the commit's writes gave way too";
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST(Schema, EveryEarlierVersionMigratesToTheLatest) {
  for (int from = 0; from < LatestSchemaVersion(); ++from) {
    std::string dir = testing::MakeTempDir("migrate");
    {
      auto db = sqlite::Database::Open(dir + "/c.db", sqlite::Database::Mode::kReadWrite);
      ASSERT_TRUE(db.ok());
      ASSERT_TRUE(Migrate(*db, from).ok());
      EXPECT_EQ(*SchemaVersion(*db), from);
    }
    auto store = SqliteStore::Open(dir + "/c.db");
    ASSERT_TRUE(store.ok()) << "from version " << from << ": " << store.status();
    auto db = sqlite::Database::Open(dir + "/c.db", sqlite::Database::Mode::kReadOnly);
    EXPECT_EQ(*SchemaVersion(*db), LatestSchemaVersion());
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace cordon::storage
