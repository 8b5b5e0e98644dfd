// The policy document: what a valid one builds, every error with its line,
// time windows, and the change summary shown before applying.
#include "policydoc/policy_document.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace cordon::policydoc {
namespace {

TEST(PolicyDocument, TheSampleClosedManagementPolicyIsValid) {
  std::ifstream in(std::string(CORDON_SOURCE_DIR) + "/deploy/etc/campus-policy.yaml");
  ASSERT_TRUE(in) << "deploy/etc/campus-policy.yaml";
  std::stringstream text;
  text << in.rdbuf();
  ParseResult r = ParsePolicyDocument(text.str());
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  EXPECT_EQ(r.policy->initial_mode, "closed_management");
  EXPECT_GE(r.policy->zones.size(), 8u);
  EXPECT_EQ(r.policy->modes.size(), 3u);
  EXPECT_FALSE(r.policy->separation.empty());
}

TEST(PolicyDocument, BuildsTheZoneTreeWithPathsAndGates) {
  ParseResult r = ParsePolicyDocument(R"yaml(
zones:
  - id: campus
    zones:
      - id: dorms
        capacity: 800
        zones:
          - id: dorm-a
gates:
  - {id: north, inner: campus}
  - {id: a-door, outer: dorms, inner: dorm-a}
modes:
  - id: normal
)yaml");
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  const ZonePolicy& p = *r.policy;
  ZoneIndex a = p.FindZone("dorm-a");
  ASSERT_NE(a, kOutside);
  EXPECT_EQ(p.zones[static_cast<size_t>(a)].path, (std::vector<ZoneIndex>{0, 1, 2}));
  EXPECT_EQ(p.zones[1].capacity, 800);
  EXPECT_TRUE(p.ZonesOfGate("north").AtCampusEdge());
  EXPECT_EQ(p.ZonesOfGate("a-door").outer, p.FindZone("dorms"));
  EXPECT_TRUE(p.ZonesOfGate("unlisted").AtCampusEdge());  // a gate not listed is a campus entrance
  EXPECT_EQ(p.initial_mode, "normal");
  EXPECT_EQ(p.modes[0].zones.size(), 3u);
}

TEST(PolicyDocument, ReportsEveryErrorWithItsLineAndBuildsNothing) {
  ParseResult r = ParsePolicyDocument(R"yaml(campus:
  utc_offset: "8 hours"
zones:
  - id: campus
    capcity: 10
    zones:
      - id: Dorm A
      - id: lab
      - id: lab
cohorts:
  - id: chem
    permissions:
      - zone: nowhere
      - zone: lab
        windows: ["monday 11:00-12:00"]
separation:
  - cohorts: [chem, ghosts]
    zone: lab
gates:
  - {id: north, outer: lab, inner: campus}
modes:
  - id: closed
    health_admitted: [blue]
    zones:
      lab: sometimes
)yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.policy, nullptr);
  std::vector<std::pair<int, std::string>> expected = {
      {2, "utc_offset '8 hours' must look like +08:00"},
      {5, "unknown key 'capcity'"},
      {7, "'Dorm A' is not an id"},
      {9, "zone 'lab' is defined twice (first on line 8)"},
      {13, "no zone 'nowhere'"},
      {15, "window 'monday 11:00-12:00' must look like"},
      {17, "no cohort 'ghosts'"},
      {20, "gate 'north' must join 'campus' to the zone it lies in ('outside')"},
      {23, "'blue' is not green, yellow or red"},
      {25, "'sometimes' is not an access rule"},
  };
  ASSERT_EQ(r.errors.size(), expected.size()) << r.ErrorText();
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.errors[i].line, expected[i].first) << r.ErrorText();
    EXPECT_NE(r.errors[i].message.find(expected[i].second), std::string::npos)
        << r.errors[i].message;
  }
}

TEST(PolicyDocument, AFileFullOfErrorsIsSummarisedAfterTheFirstForty) {
  std::string yaml = "zones:\n  - id: campus\n    zones:\n";
  for (int i = 0; i < 100; ++i) yaml += "      - id: Bad" + std::to_string(i) + "\n";
  yaml += "modes: [{id: normal}]\n";
  ParseResult r = ParsePolicyDocument(yaml);
  ASSERT_EQ(r.errors.size(), 100u);
  std::string text = r.ErrorText();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 41);
  EXPECT_NE(text.find("line 4: zone id 'Bad0'"), std::string::npos) << text;
  EXPECT_NE(text.find("... and 60 more error(s)"), std::string::npos) << text;
}

TEST(PolicyDocument, ASyntaxErrorNamesItsLine) {
  ParseResult r = ParsePolicyDocument("zones:\n  - id: campus\n    zones: [a, b\nmodes: []\n");
  ASSERT_FALSE(r.ok());
  EXPECT_GT(r.errors[0].line, 0);
  EXPECT_TRUE(ParsePolicyDocument("").errors.size() == 1);
  EXPECT_FALSE(ParsePolicyDocument("zones: []\nmodes: []\n").ok());
}

TEST(PolicyDocument, WeeklyWindowsExpandPerDayAndRunPastMidnight) {
  std::vector<WeeklyWindow> w;
  std::string error;
  ASSERT_TRUE(ParseWeeklyWindows("mon-fri 11:00-13:30", w, error)) << error;
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(w[0].begin, 11 * 60);
  EXPECT_EQ(w[4].end, 4 * 1440 + 13 * 60 + 30);
  w.clear();
  ASSERT_TRUE(ParseWeeklyWindows("sun 22:00-02:00", w, error));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(w[0].Contains(6 * 1440 + 23 * 60));
  EXPECT_TRUE(w[0].Contains(60));  // Monday 01:00, past the week's end
  EXPECT_FALSE(w[0].Contains(2 * 60));
  w.clear();
  ASSERT_TRUE(ParseWeeklyWindows("sat,sun 10:00-24:00", w, error));
  EXPECT_EQ(w.size(), 2u);
  EXPECT_FALSE(ParseWeeklyWindows("mon 12:00-12:00", w, error));
  EXPECT_FALSE(ParseWeeklyWindows("mon 25:00-26:00", w, error));
  EXPECT_FALSE(ParseWeeklyWindows("11:00-12:00", w, error));
}

TEST(PolicyDocument, MinuteOfWeekUsesCampusLocalTime) {
  // 2026-09-21 00:30 at +08:00 is Sunday 16:30 UTC.
  TimePoint t = FromUnixMicros(int64_t{1'789'921'800} * 1'000'000);
  EXPECT_EQ(MinuteOfWeek(t, std::chrono::hours(8)), 30);
  EXPECT_EQ(MinuteOfWeek(t, std::chrono::hours(0)), 6 * 1440 + 16 * 60 + 30);
}

TEST(PolicyDocument, DescribesWhatAChangeWouldDo) {
  auto before = ParsePolicyDocument(R"yaml(
zones:
  - id: campus
    zones: [{id: teaching}, {id: lab}]
cohorts: [{id: chem}]
modes:
  - id: closed
    zones: {teaching: closed}
)yaml");
  auto after = ParsePolicyDocument(R"yaml(
zones:
  - id: campus
    zones: [{id: teaching, capacity: 300}]
cohorts: [{id: chem}]
modes:
  - id: closed
    zones: {teaching: [chem]}
)yaml");
  ASSERT_TRUE(before.ok() && after.ok());
  auto changes = DescribeChanges(*before.policy, *after.policy);
  auto has = [&](const std::string& line) {
    return std::find(changes.begin(), changes.end(), line) != changes.end();
  };
  EXPECT_TRUE(has("- zone lab: in campus (lab)"));
  EXPECT_TRUE(has("~ zone teaching: in campus (teaching) -> in campus, capacity 300 (teaching)"));
  EXPECT_TRUE(has("~ mode closed: teaching: closed -> only chem"));
  EXPECT_TRUE(DescribeChanges(*after.policy, *after.policy).empty());
}

}  // namespace
}  // namespace cordon::policydoc
