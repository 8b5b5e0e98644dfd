// The policy engine, rule by rule and reason code by reason code. Time is an
// argument: every case states the instant it is decided at.
#include "core/engine.h"
#include "core/offline.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cordon {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;

const TimePoint kT0 = FromUnixMicros(1'790'000'000'000'000);  // 2026-09-21

// A small campus: one person per case, ids 1.., credential "c<id>".
class Campus {
 public:
  Campus() { policy_.version = 7; }

  PersonId Add(PersonCategory category, std::string name = "Zhang Wei") {
    Person p;
    p.id = next_id_++;
    p.external_id = "P" + std::to_string(p.id);
    p.name = std::move(name);
    p.category = category;
    policy_.PutPerson(p);
    policy_.SetCredentials(p.id, {Credential(p.id)});
    return p.id;
  }
  Person& Edit(PersonId id) { return policy_.people.Edit().at(id); }
  void Quarantine(PersonId id, TimePoint from, TimePoint until,
                  std::optional<TimePoint> cleared = std::nullopt) {
    policy_.PutQuarantine(QuarantineOrder{next_id_++, id, from, until, "", from, cleared});
  }
  PassId Pass(PersonId id, TimePoint from, TimePoint until) {
    PassId pass = next_id_++;
    policy_.PutPass(SingleVisitPass{pass, id, "host", from, until, from});
    return pass;
  }
  void Inside(PersonId id, TimePoint since) {
    Movement m{id, Direction::kIn, since, 1};
    m.to_path = {"campus"};
    state_.Apply(m);
  }
  void Use(PassId pass, PersonId id, PassStep step, TimePoint at) {
    Movement m{id, step == PassStep::kEntry ? Direction::kIn : Direction::kOut, at, 1, pass, step};
    if (step == PassStep::kEntry) m.to_path = {"campus"};
    state_.Apply(m);
  }
  Decision Scan(PersonId id, Direction d, TimePoint at) {
    return Decide(policy_, state_, ScanInput{Credential(id), d}, at);
  }
  Movement Attribute(PersonId id, Reason reason, TimePoint at) {
    Direction d = reason == Reason::kAllowPassExit ? Direction::kOut : Direction::kIn;
    return HeldMovement(policy_, state_, id, d, reason, "", at, 1);
  }
  Decision ScanOffline(PersonId id, Direction d, TimePoint at, TimePoint confirmed,
                       const OfflineLimits& limits) {
    return DecideOffline(policy_, state_, ScanInput{Credential(id), d}, at, confirmed, limits);
  }
  Decision ScanUnknown(Direction d, TimePoint at) {
    return Decide(policy_, state_, ScanInput{hasher_.Hash("no-such-card"), d}, at);
  }

 private:
  CredentialHash Credential(PersonId id) const { return hasher_.Hash("c" + std::to_string(id)); }

  CredentialHasher hasher_{std::string(32, 'k')};
  PolicySnapshot policy_;
  CampusState state_;
  PersonId next_id_ = 1;
};

struct Case {
  std::string name;
  // Sets up the campus and returns the decision under test.
  std::function<Decision(Campus&)> run;
  bool allowed;
  Reason reason;
  bool alert = false;
  PassStep pass_step = PassStep::kNone;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class EngineTable : public ::testing::TestWithParam<Case> {};

TEST_P(EngineTable, DecidesAsTheRulesSay) {
  const Case& c = GetParam();
  Campus campus;
  Decision d = c.run(campus);
  EXPECT_EQ(d.allowed, c.allowed);
  EXPECT_EQ(ReasonName(d.reason), ReasonName(c.reason));
  EXPECT_EQ(d.alert.has_value(), c.alert);
  EXPECT_EQ(d.pass_step, c.pass_step);
  EXPECT_EQ(d.policy_version, 7) << "every decision carries the policy version";
  EXPECT_EQ(IsAllow(d.reason), d.allowed) << "reason code and verdict agree";
  EXPECT_FALSE(d.display.empty());
}

const auto kIn = Direction::kIn;
const auto kOut = Direction::kOut;
const auto kStaff = PersonCategory::kResidentStaff;
const auto kStudent = PersonCategory::kStudent;
const auto kVisit = PersonCategory::kSingleVisit;
const auto kContractor = PersonCategory::kContractor;

std::vector<Case> Cases() {
  return {
      // Unknown credentials.
      {"UnknownCredentialIn", [](Campus& c) { return c.ScanUnknown(kIn, kT0); }, false,
       Reason::kDenyUnknownCredential},
      {"UnknownCredentialOut", [](Campus& c) { return c.ScanUnknown(kOut, kT0); }, false,
       Reason::kDenyUnknownCredential},
      // Inactive and expired people.
      {"InactiveIn",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Edit(p).active = false;
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyPersonInactive},
      {"InactiveOut",
       [](Campus& c) {
         auto p = c.Add(kStaff);
         c.Inside(p, kT0 - hours(1));
         c.Edit(p).active = false;
         return c.Scan(p, kOut, kT0);
       },
       false, Reason::kDenyPersonInactive},
      {"ExpiredAtExactlyValidUntil",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Edit(p).valid_until = kT0;
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyPersonExpired},
      {"ValidOneMicrosecondBeforeExpiry",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Edit(p).valid_until = kT0 + microseconds(1);
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowStudent},
      // Resident staff and students.
      {"StaffIn", [](Campus& c) { return c.Scan(c.Add(kStaff), kIn, kT0); }, true,
       Reason::kAllowResidentStaff},
      {"StaffOut",
       [](Campus& c) {
         auto p = c.Add(kStaff);
         c.Inside(p, kT0 - hours(2));
         return c.Scan(p, kOut, kT0);
       },
       true, Reason::kAllowResidentStaff},
      {"StudentIn", [](Campus& c) { return c.Scan(c.Add(kStudent), kIn, kT0); }, true,
       Reason::kAllowStudent},
      {"StudentOut",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Inside(p, kT0 - hours(2));
         return c.Scan(p, kOut, kT0);
       },
       true, Reason::kAllowStudent},
      // Quarantine: entry denied in [start, end), lifted at its exact end.
      {"QuarantineInForce",
       [](Campus& c) {
         auto p = c.Add(kStaff);
         c.Quarantine(p, kT0 - hours(24), kT0 + hours(24));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyQuarantine, true},
      {"QuarantineStartsAtItsExactStart",
       [](Campus& c) {
         auto p = c.Add(kStaff);
         c.Quarantine(p, kT0, kT0 + hours(24));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyQuarantine, true},
      {"QuarantineNotYetStarted",
       [](Campus& c) {
         auto p = c.Add(kStaff);
         c.Quarantine(p, kT0 + microseconds(1), kT0 + hours(24));
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowResidentStaff},
      {"QuarantineLastMicrosecond",
       [](Campus& c) {
         auto p = c.Add(kStaff);
         c.Quarantine(p, kT0 - hours(24), kT0 + microseconds(1));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyQuarantine, true},
      {"QuarantineLiftedAtItsExactEnd",
       [](Campus& c) {
         auto p = c.Add(kStaff);
         c.Quarantine(p, kT0 - hours(24), kT0);
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowResidentStaff},
      {"QuarantineClearedEarly",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Quarantine(p, kT0 - hours(24), kT0 + hours(24), kT0 - minutes(5));
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowStudent},
      {"QuarantineDoesNotTrapAnyoneInside",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Inside(p, kT0 - hours(48));
         c.Quarantine(p, kT0 - hours(24), kT0 + hours(24));
         return c.Scan(p, kOut, kT0);
       },
       true, Reason::kAllowStudent},
      {"QuarantineOutranksAntiPassback",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Inside(p, kT0 - hours(48));
         c.Quarantine(p, kT0 - hours(24), kT0 + hours(24));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyQuarantine, true},
      // Campus anti-passback.
      {"SecondEntryWithoutExit",
       [](Campus& c) {
         auto p = c.Add(kStudent);
         c.Inside(p, kT0 - minutes(10));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyAlreadyOnCampus},
      {"ExitWithoutEntryIsAllowedAndAlerts",
       [](Campus& c) { return c.Scan(c.Add(kStudent), kOut, kT0); }, true,
       Reason::kAllowExitWithoutEntry, true},
      {"VisitorExitWithoutEntryAlerts",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         c.Pass(p, kT0 - hours(1), kT0 + hours(1));
         return c.Scan(p, kOut, kT0);
       },
       true, Reason::kAllowExitWithoutEntry, true},
      // Single-visit entrants: a pass valid now, one entry and one exit.
      {"VisitorWithoutPass", [](Campus& c) { return c.Scan(c.Add(kVisit), kIn, kT0); }, false,
       Reason::kDenyNoValidPass},
      {"VisitorPassValidNow",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         c.Pass(p, kT0 - hours(1), kT0 + hours(1));
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowPassEntry, false, PassStep::kEntry},
      {"VisitorPassAtItsExactStart",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         c.Pass(p, kT0, kT0 + hours(1));
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowPassEntry, false, PassStep::kEntry},
      {"VisitorPassNotYetValid",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         c.Pass(p, kT0 + microseconds(1), kT0 + hours(1));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyNoValidPass},
      {"VisitorPassEndedAtItsExactEnd",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         c.Pass(p, kT0 - hours(1), kT0);
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyNoValidPass},
      {"VisitorLeavesOnThePass",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         auto pass = c.Pass(p, kT0 - hours(1), kT0 + hours(1));
         c.Use(pass, p, PassStep::kEntry, kT0 - minutes(30));
         return c.Scan(p, kOut, kT0);
       },
       true, Reason::kAllowPassExit, false, PassStep::kExit},
      {"VisitorMayLeaveAfterThePassWindow",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         auto pass = c.Pass(p, kT0 - hours(3), kT0 - hours(1));
         c.Use(pass, p, PassStep::kEntry, kT0 - hours(2));
         return c.Scan(p, kOut, kT0);
       },
       true, Reason::kAllowPassExit, false, PassStep::kExit},
      {"PassUsedUpAfterEntryAndExit",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         auto pass = c.Pass(p, kT0 - hours(1), kT0 + hours(1));
         c.Use(pass, p, PassStep::kEntry, kT0 - minutes(30));
         c.Use(pass, p, PassStep::kExit, kT0 - minutes(10));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyPassUsed},
      {"SecondPassAllowsASecondVisit",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         auto first = c.Pass(p, kT0 - hours(1), kT0 + hours(1));
         c.Use(first, p, PassStep::kEntry, kT0 - minutes(30));
         c.Use(first, p, PassStep::kExit, kT0 - minutes(10));
         c.Pass(p, kT0 - minutes(5), kT0 + hours(2));
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowPassEntry, false, PassStep::kEntry},
      {"QuarantinedVisitorWithPass",
       [](Campus& c) {
         auto p = c.Add(kVisit);
         c.Pass(p, kT0 - hours(1), kT0 + hours(1));
         c.Quarantine(p, kT0 - hours(1), kT0 + hours(1));
         return c.Scan(p, kIn, kT0);
       },
       false, Reason::kDenyQuarantine, true},
      {"ContractorNeedsAPassToo", [](Campus& c) { return c.Scan(c.Add(kContractor), kIn, kT0); },
       false, Reason::kDenyNoValidPass},
      {"ContractorWithPass",
       [](Campus& c) {
         auto p = c.Add(kContractor);
         c.Pass(p, kT0 - hours(1), kT0 + hours(8));
         return c.Scan(p, kIn, kT0);
       },
       true, Reason::kAllowPassEntry, false, PassStep::kEntry},
  };
}

INSTANTIATE_TEST_SUITE_P(Rules, EngineTable, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(Engine, EveryReasonCodeIsReachedByTheTable) {
  std::set<Reason> reached;
  for (const Case& c : Cases()) reached.insert(c.reason);
  // Only a gate deciding offline gives these (see the Offline tests below).
  reached.insert(Reason::kDenyGatePolicyStale);
  reached.insert(Reason::kDenyGateNoPolicy);
  // Zone, mode, health, leave and vehicle rules: tests/unit/zone_rules_test.cc.
  for (Reason r : {Reason::kAllowLeaveExit, Reason::kAllowLeaveReturn, Reason::kAllowVehicle,
                   Reason::kAllowZoneMove, Reason::kDenyHealthStatus, Reason::kDenyZoneClosed,
                   Reason::kDenyZoneCohort, Reason::kDenyNoZonePermission,
                   Reason::kDenyOutsideTimeWindow, Reason::kDenyZoneFull,
                   Reason::kDenyCohortSeparation, Reason::kDenyNoLeave,
                   Reason::kDenyNoDisinfection, Reason::kDenyAlreadyInZone}) {
    reached.insert(r);
  }
  for (int n = 0; n < 200; ++n) {
    if (auto r = ReasonFromNumber(n)) {
      EXPECT_TRUE(reached.count(*r)) << ReasonName(*r);
    }
  }
}

// ---------------------------------------------------------------- offline

TEST(Offline, AGateWithNoPolicyAdmitsNobody) {
  PolicySnapshot empty;
  CampusState state;
  Decision d = DecideOffline(empty, state, ScanInput{CredentialHash{}, Direction::kIn}, kT0, kT0,
                             OfflineLimits::Defaults());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kDenyGateNoPolicy);
}

TEST(Offline, EachCategoryIsAdmittedUntilItsStalenessLimitToTheMicrosecond) {
  Campus campus;
  auto staff = campus.Add(PersonCategory::kResidentStaff);
  auto student = campus.Add(PersonCategory::kStudent);
  auto visitor = campus.Add(PersonCategory::kSingleVisit);
  campus.Pass(visitor, kT0, kT0 + hours(48));
  OfflineLimits limits = OfflineLimits::Defaults();  // staff 72h, students 24h, visitors 4h
  TimePoint confirmed = kT0;

  EXPECT_EQ(campus.ScanOffline(student, kIn, kT0 + hours(24), confirmed, limits).reason,
            Reason::kAllowStudent);
  EXPECT_EQ(campus.ScanOffline(student, kIn, kT0 + hours(24) + microseconds(1), confirmed, limits)
                .reason,
            Reason::kDenyGatePolicyStale);
  EXPECT_EQ(campus.ScanOffline(staff, kIn, kT0 + hours(24) + microseconds(1), confirmed, limits)
                .reason,
            Reason::kAllowResidentStaff);
  EXPECT_EQ(campus.ScanOffline(staff, kIn, kT0 + hours(72) + microseconds(1), confirmed, limits)
                .reason,
            Reason::kDenyGatePolicyStale);
  EXPECT_EQ(campus.ScanOffline(visitor, kIn, kT0 + hours(4), confirmed, limits).reason,
            Reason::kAllowPassEntry);
  EXPECT_EQ(campus.ScanOffline(visitor, kIn, kT0 + hours(5), confirmed, limits).reason,
            Reason::kDenyGatePolicyStale);
}

TEST(Offline, ExitsAreNeverRefusedForStaleness) {
  Campus campus;
  auto student = campus.Add(PersonCategory::kStudent);
  campus.Inside(student, kT0);
  Decision d = campus.ScanOffline(student, kOut, kT0 + hours(24 * 30), kT0,
                                  OfflineLimits::Defaults());
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, Reason::kAllowStudent);
}

TEST(Offline, TheCopysRulesStillApply) {
  Campus campus;
  auto staff = campus.Add(PersonCategory::kResidentStaff);
  campus.Quarantine(staff, kT0, kT0 + hours(240));
  EXPECT_EQ(campus.ScanOffline(staff, kIn, kT0 + hours(1), kT0, OfflineLimits::Defaults()).reason,
            Reason::kDenyQuarantine);
}

TEST(Offline, LimitsParseAndRejectNonsense) {
  auto limits = OfflineLimits::Parse("student=2h,contractor=0,resident_staff=none");
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->For(PersonCategory::kStudent), hours(2));
  EXPECT_EQ(limits->For(PersonCategory::kContractor), microseconds(0));
  EXPECT_FALSE(limits->For(PersonCategory::kResidentStaff).has_value());
  EXPECT_EQ(limits->For(PersonCategory::kSingleVisit), hours(4)) << "unnamed keep defaults";
  EXPECT_TRUE(OfflineLimits::Parse("").ok());
  for (const char* bad : {"student", "wizard=2h", "student=2x", "student=-1h", "student=h"}) {
    auto r = OfflineLimits::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_NE(OfflineLimits::Parse("wizard=2h").status().message().find("not a category"),
            std::string::npos);
}

TEST(Engine, QuarantineEndsAtItsExactTimeWithoutAnyOtherChange) {
  Campus campus;
  auto p = campus.Add(kStaff);
  campus.Quarantine(p, kT0 - hours(24 * 14), kT0);
  EXPECT_EQ(campus.Scan(p, kIn, kT0 - microseconds(1)).reason, Reason::kDenyQuarantine);
  EXPECT_EQ(campus.Scan(p, kIn, kT0).reason, Reason::kAllowResidentStaff);
}

TEST(Engine, VisitorPicksThePassThatEndsFirst) {
  Campus campus;
  auto p = campus.Add(kVisit);
  campus.Pass(p, kT0 - hours(1), kT0 + hours(5));
  PassId sooner = campus.Pass(p, kT0 - hours(1), kT0 + hours(2));
  EXPECT_EQ(campus.Scan(p, kIn, kT0).pass, sooner);
}

TEST(Engine, DisplayMasksTheName) {
  Campus campus;
  auto p = campus.Add(kStudent, "Zhang Wei");
  EXPECT_EQ(campus.Scan(p, kIn, kT0).display, "Welcome, Z**** W**");
  auto q = campus.Add(kStudent, "王芳");
  EXPECT_EQ(campus.Scan(q, kIn, kT0).display, "Welcome, 王*");
}

TEST(Engine, HeldMovementChoosesThePassDecideChose) {
  Campus campus;
  auto p = campus.Add(kVisit);
  campus.Pass(p, kT0 - hours(1), kT0 + hours(3));
  campus.Pass(p, kT0 - hours(1), kT0 + hours(2));
  Decision d = campus.Scan(p, kIn, kT0);
  ASSERT_EQ(d.reason, Reason::kAllowPassEntry);
  Movement entry = campus.Attribute(p, Reason::kAllowPassEntry, kT0);
  EXPECT_EQ(entry.pass, d.pass);
  EXPECT_EQ(entry.pass_step, PassStep::kEntry);
  EXPECT_EQ(entry.to_path, std::vector<std::string>{"campus"});

  campus.Use(d.pass, p, PassStep::kEntry, kT0);
  Movement exit = campus.Attribute(p, Reason::kAllowPassExit, kT0 + minutes(20));
  EXPECT_EQ(exit.pass, d.pass);
  EXPECT_EQ(exit.pass_step, PassStep::kExit);
  EXPECT_TRUE(exit.to_path.empty());
  EXPECT_EQ(campus.Attribute(p, Reason::kAllowStudent, kT0).pass_step, PassStep::kNone);
}

}  // namespace
}  // namespace cordon
