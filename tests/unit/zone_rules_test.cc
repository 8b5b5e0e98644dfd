// Zones, cohorts, modes, health codes, leaves, vehicles and separation: the
// engine rule by rule against a parsed campus policy, at stated instants in
// campus local time (+08:00). Every allowed decision is applied to the
// state, as the daemon does, so a case can build up presence.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "policydoc/policy_document.h"

namespace cordon {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// Monday 2026-09-21 00:00 at +08:00.
const TimePoint kMonday = FromUnixMicros(int64_t{1'789'920'000} * 1'000'000);
TimePoint At(int day, int hour, int minute = 0) {  // day 0 = Monday
  return kMonday + hours(24 * day + hour) + minutes(minute);
}

constexpr char kPolicy[] = R"yaml(
campus:
  utc_offset: "+08:00"
  disinfection_valid_minutes: 30
  initial_mode: closed_management
zones:
  - id: campus
    zones:
      - id: dorms
        zones:
          - id: dorm-a
            capacity: 2
      - id: teaching
        zones:
          - id: lab-chem
      - id: library
      - id: canteen
cohorts:
  - id: dorm-a
    permissions:
      - zone: dorm-a
      - zone: canteen
        windows: ["daily 11:00-12:30"]
  - id: canteen-staff
    permissions:
      - zone: canteen
  - id: chem
  - id: night-shift
    permissions:
      - zone: canteen
        windows: ["mon-fri 22:00-02:00"]
separation:
  - cohorts: [dorm-a, canteen-staff]
    zone: canteen
    buffer_minutes: 30
gates:
  - {id: north, inner: campus}
  - {id: dorms-gate, inner: dorms}
  - {id: dorm-a-door, inner: dorm-a}
  - {id: teaching-gate, inner: teaching}
  - {id: lab-door, inner: lab-chem}
  - {id: library-door, inner: library}
  - {id: canteen-door, inner: canteen}
modes:
  - id: closed_management
    health_admitted: [green]
    leave_required: true
    zones:
      teaching: [chem]
      lab-chem: [chem]
      library: closed
      canteen: restricted
      dorm-a: restricted
  - id: normal
    health_admitted: [green, yellow]
)yaml";

class ZoneRules : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = policydoc::ParsePolicyDocument(kPolicy);
    ASSERT_TRUE(parsed.ok()) << parsed.ErrorText();
    policy_.version = 3;
    policy_.SetZones(parsed.policy);
  }

  PersonId Add(PersonCategory category, std::string cohorts = "") {
    Person p;
    p.id = next_id_++;
    p.external_id = "P" + std::to_string(p.id);
    p.name = "Li Na";
    p.category = category;
    p.cohort = std::move(cohorts);
    policy_.PutPerson(p);
    policy_.SetCredentials(p.id, {Card(p.id)});
    return p.id;
  }
  void Mode(const std::string& id) { policy_.mode = policy_.zones->FindMode(id); }
  void Health(PersonId id, HealthColour c) { policy_.health_of.Edit()[id] = HealthRecord{c, "test", kMonday}; }
  LeaveId Leave(PersonId id, TimePoint from, TimePoint until, TimePoint back) {
    LeaveId leave = next_id_++;
    policy_.PutLeave(LeaveApproval{leave, id, from, until, back, "family", "counsellor"});
    return leave;
  }

  // Decides and, when allowed, applies the movement.
  Decision Scan(PersonId id, std::string_view gate, Direction d, TimePoint at) {
    Decision decision = Decide(policy_, state_, ScanInput{Card(id), d, gate}, at);
    if (decision.allowed) state_.Apply(MovementOf(decision, d, at, 1));
    return decision;
  }
  Decision In(PersonId id, std::string_view gate, TimePoint at) {
    return Scan(id, gate, Direction::kIn, at);
  }
  Decision Out(PersonId id, std::string_view gate, TimePoint at) {
    return Scan(id, gate, Direction::kOut, at);
  }
  // Walks someone in through the north gate in normal mode, whatever the rules.
  void OnCampus(PersonId id, TimePoint at) {
    int mode = policy_.mode;
    Mode("normal");
    ASSERT_TRUE(In(id, "north", at).allowed);
    policy_.mode = mode;
  }

  CredentialHash Card(PersonId id) const { return hasher_.Hash("card-" + std::to_string(id)); }

  CredentialHasher hasher_{std::string(32, 'k')};
  PolicySnapshot policy_;
  CampusState state_;
  PersonId next_id_ = 1;
};

TEST_F(ZoneRules, AZoneClosedInTheModeRefusesEveryone) {
  auto s = Add(PersonCategory::kStudent, "chem");
  OnCampus(s, At(0, 8));
  Decision d = In(s, "library-door", At(0, 9));
  EXPECT_EQ(d.reason, Reason::kDenyZoneClosed);
  EXPECT_EQ(d.rule, "zone library closed in closed_management");
  Mode("normal");
  EXPECT_EQ(In(s, "library-door", At(0, 9)).reason, Reason::kAllowStudent);
}

TEST_F(ZoneRules, AZoneOpenToNamedCohortsAdmitsOnlyThem) {
  auto chemist = Add(PersonCategory::kStudent, "dorm-a; chem");
  auto other = Add(PersonCategory::kStudent, "dorm-a");
  OnCampus(chemist, At(0, 8));
  OnCampus(other, At(0, 8));
  EXPECT_EQ(In(chemist, "teaching-gate", At(0, 9)).reason, Reason::kAllowStudent);
  EXPECT_EQ(In(chemist, "lab-door", At(0, 9, 5)).reason, Reason::kAllowStudent);
  Decision d = In(other, "teaching-gate", At(0, 9));
  EXPECT_EQ(d.reason, Reason::kDenyZoneCohort);
  EXPECT_EQ(d.policy_version, 3);
  EXPECT_EQ(state_.Occupancy("lab-chem"), 1);
  EXPECT_EQ(state_.Occupancy("teaching"), 1);
}

TEST_F(ZoneRules, ARestrictedZoneNeedsAPermissionInItsTimeWindow) {
  auto resident = Add(PersonCategory::kStudent, "dorm-a");
  auto chemist = Add(PersonCategory::kStudent, "chem");
  OnCampus(resident, At(0, 8));
  OnCampus(chemist, At(0, 8));
  EXPECT_EQ(In(resident, "canteen-door", At(0, 10, 59)).reason, Reason::kDenyOutsideTimeWindow);
  EXPECT_EQ(In(resident, "canteen-door", At(0, 11)).reason, Reason::kAllowStudent);
  EXPECT_EQ(Out(resident, "canteen-door", At(0, 11, 30)).reason, Reason::kAllowStudent);
  EXPECT_EQ(In(resident, "canteen-door", At(0, 12, 30)).reason, Reason::kDenyOutsideTimeWindow);
  EXPECT_EQ(In(chemist, "canteen-door", At(0, 11, 30)).reason, Reason::kDenyNoZonePermission);
}

TEST_F(ZoneRules, ATimeWindowAcrossMidnightBelongsToTheDayItStarts) {
  auto night = Add(PersonCategory::kResidentStaff, "night-shift");
  OnCampus(night, At(0, 8));
  struct {
    TimePoint at;
    bool allowed;
  } cases[] = {
      {At(0, 21, 59), false},  // Monday, before the window
      {At(0, 22), true},       // Monday 22:00
      {At(1, 1, 59), true},    // Tuesday 01:59, in Monday's window
      {At(1, 2), false},       // Tuesday 02:00: over
      {At(5, 1, 30), true},    // Saturday 01:30, in Friday's window
      {At(5, 22, 30), false},  // Saturday evening: no window
      {At(6, 1, 30), false},   // Sunday 01:30: Saturday had none
      {At(7, 0, 30), false},   // next Monday 00:30: Sunday had none
  };
  for (const auto& c : cases) {
    Decision d = In(night, "canteen-door", c.at);
    EXPECT_EQ(d.allowed, c.allowed) << ToUnixMicros(c.at) << " " << ReasonName(d.reason);
    if (d.allowed) Out(night, "canteen-door", c.at + minutes(1));
  }
}

TEST_F(ZoneRules, SeparatedCohortsNeverShareAZoneAndWaitOutTheBuffer) {
  auto staff = Add(PersonCategory::kResidentStaff, "canteen-staff");
  auto student = Add(PersonCategory::kStudent, "dorm-a");
  OnCampus(staff, At(0, 8));
  OnCampus(student, At(0, 8));
  ASSERT_TRUE(In(staff, "canteen-door", At(0, 10)).allowed);
  Decision d = In(student, "canteen-door", At(0, 11, 5));
  EXPECT_EQ(d.reason, Reason::kDenyCohortSeparation);
  EXPECT_EQ(d.alert, AlertKind::kSeparationAttempt);
  EXPECT_EQ(d.rule, "separation dorm-a/canteen-staff @ canteen: canteen-staff inside");
  ASSERT_TRUE(Out(staff, "canteen-door", At(0, 11, 10)).allowed);
  // Cleaning buffer: 30 minutes after the last of the staff left.
  EXPECT_EQ(In(student, "canteen-door", At(0, 11, 39)).reason, Reason::kDenyCohortSeparation);
  EXPECT_EQ(In(student, "canteen-door", At(0, 11, 40)).reason, Reason::kAllowStudent);
  // The rule holds both ways.
  EXPECT_EQ(In(staff, "canteen-door", At(0, 11, 45)).reason, Reason::kDenyCohortSeparation);
  ASSERT_TRUE(Out(student, "canteen-door", At(0, 12)).allowed);
  EXPECT_EQ(In(staff, "canteen-door", At(0, 12, 29)).reason, Reason::kDenyCohortSeparation);
  EXPECT_EQ(In(staff, "canteen-door", At(0, 12, 30)).reason, Reason::kAllowResidentStaff);
}

TEST_F(ZoneRules, AFullZoneRefusesTheNextPersonAndRaisesAnAlert) {
  PersonId ids[3];
  for (auto& id : ids) {
    id = Add(PersonCategory::kStudent, "dorm-a");
    OnCampus(id, At(0, 8));
  }
  EXPECT_TRUE(In(ids[0], "dorm-a-door", At(0, 9)).allowed);
  EXPECT_TRUE(In(ids[1], "dorm-a-door", At(0, 9)).allowed);
  Decision d = In(ids[2], "dorm-a-door", At(0, 9));
  EXPECT_EQ(d.reason, Reason::kDenyZoneFull);
  EXPECT_EQ(d.alert, AlertKind::kZoneAtCapacity);
  ASSERT_TRUE(Out(ids[0], "dorm-a-door", At(0, 10)).allowed);
  EXPECT_TRUE(In(ids[2], "dorm-a-door", At(0, 10)).allowed);
}

TEST_F(ZoneRules, HealthColoursAdmittedDependOnTheMode) {
  auto yellow = Add(PersonCategory::kStudent);
  auto red = Add(PersonCategory::kStudent);
  Health(yellow, HealthColour::kYellow);
  Health(red, HealthColour::kRed);
  Decision y = In(yellow, "north", At(0, 9));
  EXPECT_EQ(y.reason, Reason::kDenyHealthStatus);
  EXPECT_FALSE(y.alert.has_value());
  Decision r = In(red, "north", At(0, 9));
  EXPECT_EQ(r.reason, Reason::kDenyHealthStatus);
  EXPECT_EQ(r.alert, AlertKind::kRestrictedPerson);
  Mode("normal");
  EXPECT_TRUE(In(yellow, "north", At(0, 9)).allowed);
  EXPECT_EQ(In(red, "north", At(0, 9)).reason, Reason::kDenyHealthStatus);
}

TEST_F(ZoneRules, QuarantineRefusesEveryGateInsideAndRaisesAnAlert) {
  auto s = Add(PersonCategory::kStudent, "dorm-a");
  OnCampus(s, At(0, 8));
  policy_.PutQuarantine(QuarantineOrder{50, s, At(0, 9), At(14, 9), "contact", At(0, 9), {}});
  Decision d = In(s, "dorm-a-door", At(0, 10));
  EXPECT_EQ(d.reason, Reason::kDenyQuarantine);
  EXPECT_EQ(d.alert, AlertKind::kRestrictedPerson);
}

TEST_F(ZoneRules, UnderClosedManagementResidentsLeaveOnlyOnAnApprovedLeaveUsedOnce) {
  auto s = Add(PersonCategory::kStudent);
  auto visitor = Add(PersonCategory::kSingleVisit);
  OnCampus(s, At(0, 8));
  EXPECT_EQ(Out(s, "north", At(0, 9)).reason, Reason::kDenyNoLeave);
  LeaveId leave = Leave(s, At(0, 10), At(0, 12), At(0, 20));
  EXPECT_EQ(Out(s, "north", At(0, 9, 59)).reason, Reason::kDenyNoLeave);
  Decision out = Out(s, "north", At(0, 10, 30));
  EXPECT_EQ(out.reason, Reason::kAllowLeaveExit);
  EXPECT_EQ(out.leave, leave);
  Decision back = In(s, "north", At(0, 11));
  EXPECT_EQ(back.reason, Reason::kAllowLeaveReturn);
  EXPECT_EQ(back.leave_step, LeaveStep::kReturn);
  EXPECT_EQ(*state_.ProgressOfLeave(leave).returned_at, At(0, 11));
  // The leave is used: its exit window is still open, but it does not open the gate again.
  EXPECT_EQ(Out(s, "north", At(0, 11, 30)).reason, Reason::kDenyNoLeave);
  // Visitors are not held in; in normal mode nobody needs a leave.
  policy_.PutPass(SingleVisitPass{60, visitor, "host", At(0, 8), At(0, 18), At(0, 8)});
  ASSERT_TRUE(In(visitor, "north", At(0, 9)).allowed);
  EXPECT_EQ(Out(visitor, "north", At(0, 10)).reason, Reason::kAllowPassExit);
  Mode("normal");
  EXPECT_EQ(Out(s, "north", At(0, 19)).reason, Reason::kAllowStudent);
}

TEST_F(ZoneRules, VehiclesEnterOnlyWithARecentDisinfection) {
  auto truck = Add(PersonCategory::kVehicle);
  EXPECT_EQ(In(truck, "north", At(0, 9)).reason, Reason::kDenyNoDisinfection);
  state_.RecordDisinfection(truck, At(0, 9, 10));
  EXPECT_EQ(In(truck, "north", At(0, 9, 41)).reason, Reason::kDenyNoDisinfection);
  Decision d = In(truck, "north", At(0, 9, 40));
  EXPECT_EQ(d.reason, Reason::kAllowVehicle);
  EXPECT_EQ(Out(truck, "north", At(0, 11)).reason, Reason::kAllowVehicle);
}

TEST_F(ZoneRules, AScanInsideBySomeoneNeverSeenEnteringIsAnAlert) {
  auto s = Add(PersonCategory::kStudent, "dorm-a");
  Decision d = In(s, "dorm-a-door", At(0, 9));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.alert, AlertKind::kNeverSeenEntering);
  EXPECT_TRUE(state_.IsOnCampus(s));  // presence follows what the gate saw
  // Someone on campus who skipped an inner gate is not a wall climber.
  auto t = Add(PersonCategory::kStudent, "dorm-a");
  OnCampus(t, At(0, 8));
  EXPECT_FALSE(In(t, "dorm-a-door", At(0, 9)).alert.has_value());
}

TEST_F(ZoneRules, InnerGatesHaveAntiPassbackAndExitWithoutEntryAlerts) {
  auto s = Add(PersonCategory::kStudent, "dorm-a");
  OnCampus(s, At(0, 8));
  ASSERT_TRUE(In(s, "dorm-a-door", At(0, 9)).allowed);
  EXPECT_EQ(In(s, "dorm-a-door", At(0, 9, 1)).reason, Reason::kDenyAlreadyInZone);
  EXPECT_EQ(In(s, "dorms-gate", At(0, 9, 1)).reason, Reason::kDenyAlreadyInZone);
  Decision d = Out(s, "canteen-door", At(0, 9, 2));
  EXPECT_EQ(d.reason, Reason::kAllowExitWithoutEntry);
  EXPECT_EQ(d.alert, AlertKind::kExitWithoutEntry);
  EXPECT_EQ(state_.ZonePathOf(s).size(), 1u);  // now counted in the campus only
}

TEST_F(ZoneRules, VisitorsMovingInsideTheCampusAreZoneMoves) {
  auto visitor = Add(PersonCategory::kSingleVisit);
  policy_.PutPass(SingleVisitPass{70, visitor, "host", At(0, 8), At(0, 18), At(0, 8)});
  Mode("normal");
  ASSERT_EQ(In(visitor, "north", At(0, 9)).reason, Reason::kAllowPassEntry);
  EXPECT_EQ(In(visitor, "teaching-gate", At(0, 9, 5)).reason, Reason::kAllowZoneMove);
  EXPECT_EQ(Out(visitor, "teaching-gate", At(0, 10)).reason, Reason::kAllowZoneMove);
  Decision out = Out(visitor, "north", At(0, 10, 5));
  EXPECT_EQ(out.reason, Reason::kAllowPassExit);
  EXPECT_EQ(out.pass, 70);
}

TEST_F(ZoneRules, ALayoutChangeKeepsTheModeWhenTheNewLayoutHasIt) {
  EXPECT_EQ(policy_.Mode().id, "closed_management");  // the document's initial mode
  policy_.mode = policy_.zones->FindMode("normal");
  auto again = policydoc::ParsePolicyDocument(kPolicy);
  policy_.SetZones(again.policy);
  EXPECT_EQ(policy_.Mode().id, "normal");
  policy_.SetZones(ZonePolicy::Default());
  EXPECT_EQ(policy_.Mode().id, "normal");
}

}  // namespace
}  // namespace cordon
