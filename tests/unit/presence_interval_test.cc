// Presence intervals from sightings (core/presence_interval) and contact
// arithmetic (core/contacts), on hand-made cases.
#include <gtest/gtest.h>

#include "core/contacts.h"
#include "core/presence_interval.h"

namespace cordon {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
// 2026-09-21 08:00 in campus local time (+08:00).
const TimePoint kT0 = FromUnixMicros(1'789'948'800'000'000);

Sighting Seen(TimePoint at, std::string at_zone, bool moved, std::string to_zone) {
  return Sighting{at, std::move(at_zone), moved, std::move(to_zone), 1};
}

TEST(PresenceInterval, AnExitScannedFromTheZoneClosesItAndOpensTheNext) {
  OpenInterval lab{"lab", kT0};
  IntervalStep s = NextIntervalStep(lab, Seen(kT0 + minutes(50), "lab", true, "campus"), hours(16));
  ASSERT_TRUE(s.close);
  EXPECT_EQ(s.close->at, kT0 + minutes(50));
  EXPECT_FALSE(s.close->inferred);
  ASSERT_TRUE(s.open);
  EXPECT_EQ(s.open->zone, "campus");
  EXPECT_EQ(s.open->since, kT0 + minutes(50));
}

TEST(PresenceInterval, ADeniedScanWhereThePersonIsChangesNothing) {
  OpenInterval lab{"lab", kT0};
  IntervalStep s = NextIntervalStep(lab, Seen(kT0 + minutes(5), "lab", false, ""), hours(16));
  EXPECT_FALSE(s.close);
  EXPECT_FALSE(s.open);
}

TEST(PresenceInterval, ASightingElsewhereInfersTheMissedExitAtTheSighting) {
  OpenInterval lab{"lab", kT0};
  // Seen entering the canteen from the grounds: the lab exit was missed.
  IntervalStep s = NextIntervalStep(lab, Seen(kT0 + hours(2), "campus", true, "canteen"), hours(16));
  ASSERT_TRUE(s.close);
  EXPECT_EQ(s.close->at, kT0 + hours(2));
  EXPECT_TRUE(s.close->inferred);
  ASSERT_TRUE(s.open);
  EXPECT_EQ(s.open->zone, "canteen");
  // A denied sighting elsewhere also proves the person left.
  s = NextIntervalStep(lab, Seen(kT0 + hours(3), "campus", false, ""), hours(16));
  ASSERT_TRUE(s.close);
  EXPECT_TRUE(s.close->inferred);
  EXPECT_FALSE(s.open);
}

TEST(PresenceInterval, TheInferredExitIsBoundedByTheMaximumStay) {
  OpenInterval lab{"lab", kT0};
  IntervalStep s = NextIntervalStep(lab, Seen(kT0 + hours(30), "campus", true, "canteen"), hours(16));
  ASSERT_TRUE(s.close);
  EXPECT_EQ(s.close->at, kT0 + hours(16));
  EXPECT_TRUE(s.close->inferred);
  // A scanned exit after the maximum is still a scanned exit: it happened.
  s = NextIntervalStep(lab, Seen(kT0 + hours(30), "lab", true, "campus"), hours(16));
  EXPECT_EQ(s.close->at, kT0 + hours(30));
  EXPECT_FALSE(s.close->inferred);
}

TEST(PresenceInterval, DurationClassesBoundTheirLongestStay) {
  EXPECT_EQ(SpanClass(std::chrono::seconds(59)), 0);
  EXPECT_EQ(SpanClass(minutes(1)), 1);
  EXPECT_EQ(SpanClass(minutes(2)), 2);
  EXPECT_EQ(SpanClass(minutes(3)), 2);
  EXPECT_EQ(SpanClass(minutes(4)), 3);
  for (int64_t m : {0, 1, 5, 59, 60, 61, 1000, 100000}) {
    Micros d = minutes(m) + std::chrono::seconds(30);
    EXPECT_LT(d, LongestInClass(SpanClass(d))) << m;
    if (SpanClass(d) > 0) {
      EXPECT_GE(d, LongestInClass(SpanClass(d) - 1)) << m;
    }
  }
}

Stay At(int64_t id, PersonId who, std::string zone, int from_min, int to_min, bool inferred = false) {
  return Stay{id, who, std::move(zone), kT0 + minutes(from_min), kT0 + minutes(to_min), inferred};
}

TEST(Contacts, ExposureAddsUpAcrossZonesAndSplitsAtTheMinimum) {
  std::vector<Stay> index = {At(1, 1, "lab", 0, 60), At(2, 1, "canteen", 60, 90)};
  std::vector<Stay> others = {
      At(10, 2, "lab", 30, 120),                 // 30 min in the lab
      At(11, 2, "canteen", 80, 100, true),       // + 10 in the canteen (inferred exit)
      At(12, 3, "lab", 55, 65),                  // 5 min: below 15
      At(13, 4, "lab", 200, 260),                // same zone, same day, no overlap
      At(14, 5, "library", 0, 90),               // another zone: not considered
      At(10, 2, "lab", 30, 120),                 // read twice: counted once
      At(1, 1, "lab", 0, 60),                    // the index case itself
  };
  ContactTrace t = FindContacts(1, index, others, TraceWindow{kT0, kT0 + hours(24), minutes(15), hours(8)});
  ASSERT_EQ(t.contacts.size(), 1u);
  EXPECT_EQ(t.contacts[0].person, 2);
  EXPECT_EQ(t.contacts[0].exposure, minutes(40));
  EXPECT_EQ(t.contacts[0].zones, (std::vector<std::string>{"canteen", "lab"}));
  EXPECT_EQ(t.contacts[0].first, kT0 + minutes(30));
  EXPECT_EQ(t.contacts[0].last, kT0 + minutes(90));
  EXPECT_TRUE(t.contacts[0].inferred);
  ASSERT_EQ(t.below.size(), 1u);
  EXPECT_EQ(t.below[0].person, 3);
  EXPECT_EQ(t.below[0].exposure, minutes(5));
  EXPECT_EQ(t.ruled_out, (std::vector<PersonId>{4}));
}

TEST(Contacts, OnlyTheWindowCounts) {
  std::vector<Stay> index = {At(1, 1, "lab", 0, 120)};
  std::vector<Stay> others = {At(2, 2, "lab", 0, 120)};
  ContactTrace t = FindContacts(1, index, others,
                                TraceWindow{kT0 + minutes(100), kT0 + hours(24), minutes(15), hours(8)});
  ASSERT_EQ(t.contacts.size(), 1u);
  EXPECT_EQ(t.contacts[0].exposure, minutes(20));
  EXPECT_EQ(t.contacts[0].first, kT0 + minutes(100));
}

}  // namespace
}  // namespace cordon
