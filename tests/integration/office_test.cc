// The security office end to end: a real cordond, three real cordon-gate
// processes, and the real cordonctl for every inquiry. Five students move
// through a canteen and a library; one never scans out of the canteen.
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "console/time_text.h"
#include "tests/support/campus.h"

namespace cordon::testing {
namespace {

using std::chrono::seconds;

const std::string kPolicy = R"yaml(
campus:
  utc_offset: "+08:00"
  initial_mode: normal
zones:
  - id: campus
    zones:
      - id: canteen-1
        capacity: 200
        max_stay_hours: 1
      - id: library
gates:
  - {id: north-1, inner: campus}
  - {id: canteen-1-door, inner: canteen-1}
  - {id: library-door, inner: library}
modes:
  - id: normal
    health_admitted: [green, yellow]
)yaml";

constexpr char kRoster[] =
    "external_id,name,category,cohort,credential,active,valid_until\n"
    "S1,Li Na,student,,CARD-S1,,\n"
    "S2,Wang Fang,student,,CARD-S2,,\n"
    "S3,Zhang Wei,student,,CARD-S3,,\n"
    "S4,Liu Yang,student,,CARD-S4,,\n"
    "S5,Chen Jie,student,,CARD-S5,,\n";

template <typename Message>
Message FromJson(const std::string& json) {
  Message m;
  auto st = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  return m;
}

std::string Iso(TimePoint t) { return console::FormatUtc(t); }

class Office : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("office");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    daemon_->Start();
    WriteFile(dir_ + "/policy.yaml", kPolicy);
    WriteFile(dir_ + "/roster.csv", kRoster);
    for (const char* id : {"north-1", "canteen-1-door", "library-door"}) daemon_->RegisterGate(id);
    ASSERT_EQ(Cordonctl({"roster", "import", dir_ + "/roster.csv"}).exit_code, 0);
    RunResult applied = Cordonctl({"policy", "apply", dir_ + "/policy.yaml"});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    for (const char* id : {"north-1", "canteen-1-door", "library-door"}) {
      gates_[id] = std::make_unique<ScannerGate>(dir_, id, daemon_->address());
    }
    for (const auto& [id, gate] : gates_) {
      ASSERT_TRUE(WaitFor([&] { return gate->output().find("\"event\":\"policy\"") != std::string::npos; },
                          In(seconds(20))))
          << id << "\n" << gate->errors();
    }
  }
  void TearDown() override {
    gates_.clear();
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  RunResult Cordonctl(std::vector<std::string> args) {
    return cordon::testing::Cordonctl(*daemon_, std::move(args), dir_);
  }
  void Scan(const std::string& gate, const std::string& person, const std::string& dir,
            const std::string& reason = "ALLOW_STUDENT") {
    auto shown = gates_.at(gate)->Scan("CARD-" + person, dir);
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown->reason, reason) << gate << " " << person << " " << dir;
  }
  void WaitCommitted(int64_t events) {
    ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") == events; },
                        In(seconds(20))));
  }

  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
  std::map<std::string, std::unique_ptr<ScannerGate>> gates_;
};

TEST_F(Office, ACaseIsTracedWatchedCountedAndReported) {
  // The live view, started before anything moves: canteen scans only.
  Process watcher({CordonctlPath(), "--daemon", daemon_->address(), "--json", "watch", "--zone",
                   "canteen-1", "--count", "6"},
                  dir_ + "/watch.out", dir_ + "/watch.err");
  ASSERT_TRUE(WaitFor([&] { return ReadFile(dir_ + "/watch.err").find("watching") != std::string::npos; },
                      In(seconds(20))));

  TimePoint start = SystemClock().Now();
  for (const char* s : {"S1", "S2", "S3", "S4", "S5"}) Scan("north-1", s, "in");
  Scan("canteen-1-door", "S1", "in");
  Scan("canteen-1-door", "S2", "in");
  Scan("canteen-1-door", "S4", "in");  // S4 will never scan out
  Scan("library-door", "S5", "in");
  WaitCommitted(9);
  TimePoint all_in = SystemClock().Now();
  Scan("canteen-1-door", "S2", "out");
  Scan("library-door", "S2", "in");    // meets S5: a second-generation contact of S1
  Scan("library-door", "S4", "in");    // seen elsewhere: the canteen exit is inferred
  Scan("canteen-1-door", "S1", "out");
  Scan("canteen-1-door", "S3", "in");  // after S1 left: same room, same day, no overlap
  Scan("canteen-1-door", "S3", "out");
  Scan("north-1", "S3", "in", "DENY_ALREADY_ON_CAMPUS");
  WaitCommitted(16);
  TimePoint end = SystemClock().Now() + seconds(1);

  // Tracing S1: S2 and S4 shared the canteen; S5 met S2 afterwards; S3 is ruled out.
  RunResult traced = Cordonctl({"--json", "trace", "S1", "--from", Iso(start), "--to", Iso(end),
                                "--min-minutes", "0", "--second-generation", "--ruled-out",
                                "--case", "case 2022-031"});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  auto trace = FromJson<v1::TraceContactsResponse>(traced.out);
  std::map<std::string, v1::TracedContact> contacts;
  for (const auto& c : trace.contacts()) contacts[c.person().person()] = c;
  ASSERT_EQ(contacts.size(), 3u) << traced.out;
  EXPECT_EQ(contacts["S2"].generation(), 1);
  EXPECT_EQ(contacts["S4"].generation(), 1);
  EXPECT_TRUE(contacts["S4"].inferred()) << "S4's exit was never scanned";
  EXPECT_FALSE(contacts["S2"].inferred());
  EXPECT_EQ(contacts["S5"].generation(), 2);
  EXPECT_EQ(contacts["S5"].via(), "S2");
  EXPECT_EQ(contacts["S2"].zones(0), "canteen-1");
  EXPECT_GT(contacts["S2"].exposure_minutes(), 0);
  ASSERT_EQ(trace.ruled_out_size(), 1);
  EXPECT_EQ(trace.ruled_out(0).person(), "S3");

  RunResult dot = Cordonctl({"trace", "S1", "--from", Iso(start), "--to", Iso(end),
                             "--min-minutes", "0", "--second-generation", "--format", "dot",
                             "--case", "case 2022-031"});
  ASSERT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_EQ(dot.out.rfind("graph contacts {", 0), 0u) << dot.out;
  EXPECT_NE(dot.out.find("\"S1\" -- \"S2\""), std::string::npos) << dot.out;
  EXPECT_NE(dot.out.find("\"S2\" -- \"S5\""), std::string::npos) << dot.out;
  EXPECT_NE(dot.out.find("\"S1\" -- \"S4\" [label=\"0.0 min\", style=dashed]"), std::string::npos)
      << dot.out;
  RunResult csv = Cordonctl({"trace", "S1", "--from", Iso(start), "--to", Iso(end),
                             "--min-minutes", "0", "--ruled-out", "--format", "csv",
                             "--case", "case 2022-031"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find("\n1,S2,Wang Fang,student,"), std::string::npos) << csv.out;
  EXPECT_NE(csv.out.find("\nruled_out,S3,"), std::string::npos) << csv.out;
  RunResult table = Cordonctl({"trace", "S1", "--from", Iso(start), "--to", Iso(end),
                               "--min-minutes", "0", "--case", "case 2022-031"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("2 contact(s)"), std::string::npos) << table.out;

  // S4's stay in the canteen ended when the library door saw them.
  RunResult stays = Cordonctl({"--json", "stays", "S4", "--from", Iso(start)});
  ASSERT_EQ(stays.exit_code, 0) << stays.err;
  auto s4 = FromJson<v1::ListStaysResponse>(stays.out);
  bool inferred_canteen = false;
  for (const auto& s : s4.stays()) inferred_canteen |= s.zone() == "canteen-1" && s.exit_inferred();
  EXPECT_TRUE(inferred_canteen) << stays.out;

  // Movements at the canteen's gates, as CSV; only denials.
  RunResult moves = Cordonctl({"movements", "--zone", "canteen-1", "--from", Iso(start), "--csv"});
  ASSERT_EQ(moves.exit_code, 0) << moves.err;
  EXPECT_EQ(std::count(moves.out.begin(), moves.out.end(), '\n'), 1 + 7) << moves.out;
  EXPECT_EQ(moves.out.find("north-1"), std::string::npos);
  RunResult denied = Cordonctl({"--json", "movements", "--decision", "denied", "--from", Iso(start)});
  ASSERT_EQ(denied.exit_code, 0) << denied.err;
  auto denials = FromJson<v1::ListMovementsResponse>(denied.out);
  ASSERT_EQ(denials.movements_size(), 1);
  EXPECT_EQ(denials.movements(0).person(), "S3");
  EXPECT_EQ(denials.movements(0).from_zone(), "") << "an entry at the campus edge starts outside";

  // Occupancy now (memory) and when everyone was in (intervals).
  RunResult now = Cordonctl({"--json", "occupancy"});
  ASSERT_EQ(now.exit_code, 0) << now.err;
  std::map<std::string, int64_t> count_now;
  auto occupancy_now = FromJson<v1::GetOccupancyResponse>(now.out);
  for (const auto& z : occupancy_now.zones()) count_now[z.zone()] = z.count();
  EXPECT_EQ(count_now["campus"], 5);
  EXPECT_EQ(count_now["library"], 3);
  EXPECT_EQ(count_now["canteen-1"], 0);
  RunResult then = Cordonctl({"--json", "occupancy", "--at", Iso(all_in)});
  ASSERT_EQ(then.exit_code, 0) << then.err;
  std::map<std::string, int64_t> count_then;
  auto occupancy_then = FromJson<v1::GetOccupancyResponse>(then.out);
  for (const auto& z : occupancy_then.zones()) count_then[z.zone()] = z.count();
  EXPECT_EQ(count_then["campus"], 5) << then.out;
  EXPECT_EQ(count_then["canteen-1"], 3);
  EXPECT_EQ(count_then["library"], 1);
  RunResult occupancy_table = Cordonctl({"occupancy"});
  EXPECT_NE(occupancy_table.out.find("  canteen-1"), std::string::npos) << occupancy_table.out;

  // The live view got the canteen's scans and nothing else, in order.
  ASSERT_TRUE(watcher.Wait(In(seconds(20))).value_or(-1) == 0) << ReadFile(dir_ + "/watch.err");
  std::istringstream lines(ReadFile(dir_ + "/watch.out"));
  std::vector<std::string> seen;
  for (std::string line; std::getline(lines, line);) {
    auto e = FromJson<v1::WatchEventsResponse>(line);
    EXPECT_EQ(e.movement().gate_id(), "canteen-1-door") << line;
    seen.push_back(e.movement().person() + (e.movement().direction() == v1::DIRECTION_IN ? "+" : "-"));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"S1+", "S2+", "S4+", "S2-", "S1-", "S3+"}));

  // The daily briefing of today.
  // Without --date: today on the campus (+08:00), whatever this machine's
  // zone and hour (this failed from 16:00 to 24:00 UTC when cordonctl chose
  // the date from its own clock).
  RunResult report = Cordonctl({"--json", "report", "daily"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  auto daily = FromJson<v1::DailyReport>(report.out);
  const std::string today = daily.date();
  EXPECT_EQ(today, console::FormatUtc(SystemClock().Now() + std::chrono::hours(8)).substr(0, 10));
  EXPECT_EQ(daily.scans(), 16);
  EXPECT_EQ(daily.allowed(), 15);
  EXPECT_EQ(daily.denials_by_reason().at("DENY_ALREADY_ON_CAMPUS"), 1);
  EXPECT_EQ(daily.on_campus(), 5);
  EXPECT_EQ(daily.on_campus_by_category().at("student"), 5);
  RunResult markdown = Cordonctl({"report", "daily", "--date", today});
  ASSERT_EQ(markdown.exit_code, 0) << markdown.err;
  EXPECT_NE(markdown.out.find("# Campus daily briefing, " + today), std::string::npos) << markdown.out;
  EXPECT_NE(markdown.out.find("| student | 5 |"), std::string::npos) << markdown.out;
  EXPECT_NE(markdown.out.find("| DENY_ALREADY_ON_CAMPUS | 1 |"), std::string::npos) << markdown.out;
}

// A store from before schema v4 holds events and no stays. The first start
// derives them, and a stay with no exit ends at its zone's own maximum stay
// (the canteen's 1 h), not at the 16 h default: the derivation needs the
// stored policy, which is read after the store opens.
TEST_F(Office, AnOldStoresStaysEndAtTheirZonesMaximumStay) {
  Scan("north-1", "S4", "in");
  Scan("canteen-1-door", "S4", "in");
  Scan("library-door", "S4", "in");  // seen elsewhere: no canteen exit was scanned
  WaitCommitted(3);
  gates_.clear();
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(seconds(20))), 0);
  // As a store from before v4 would be, the canteen entered 3 h before the library.
  ASSERT_EQ(ExecSql(daemon_->db_path(), R"sql(
      UPDATE events SET occurred_at = occurred_at - 3 * 3600 * 1000000
        WHERE gate_id IN (SELECT id FROM gates WHERE gate_id IN ('north-1', 'canteen-1-door'));
      DELETE FROM presence_intervals;
      UPDATE meta SET value = 0 WHERE key = 'intervals_built';)sql"), "");
  daemon_->Start();

  RunResult stays = Cordonctl({"--json", "stays", "S4", "--from",
                               Iso(SystemClock().Now() - std::chrono::hours(4))});
  ASSERT_EQ(stays.exit_code, 0) << stays.err;
  auto s4 = FromJson<v1::ListStaysResponse>(stays.out);
  std::vector<std::string> zones;
  for (const auto& s : s4.stays()) {
    zones.push_back(s.zone());
    if (s.zone() != "canteen-1") continue;
    EXPECT_TRUE(s.exit_inferred()) << stays.out;
    ASSERT_TRUE(s.has_exited_at()) << stays.out;
    EXPECT_EQ(s.exited_at().seconds() - s.entered_at().seconds(), 3600) << stays.out;
  }
  EXPECT_EQ(zones, (std::vector<std::string>{"campus", "canteen-1", "library"})) << stays.out;
}

TEST_F(Office, BadInquiriesAreRefusedNamingTheField) {
  auto code = [&](std::vector<std::string> args, const std::string& says) {
    RunResult r = Cordonctl(std::move(args));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  };
  code({"trace", "NOBODY", "--case", "c1"}, "person: 'NOBODY' not found");
  code({"trace", "S1", "--from", "-90d", "--case", "c1"}, "to: the window may be at most 60 days");
  code({"trace", "S1", "--format", "pdf", "--case", "c1"}, "--format: 'pdf' is not one of");
  code({"trace", "S1"}, "--case is required");
  code({"stays", "S1", "--zone", "library"}, "give a PERSON or --zone");
  code({"stays", "--zone", "gym"}, "zone: no zone 'gym' in the policy");
  code({"stays", "--zone", "library", "--from", "-40d"}, "to: a zone's stays may span at most 31 days");
  code({"occupancy", "--at", "+1h"}, "at: must not be in the future");
  code({"report", "daily", "--date", "2026-13-40"}, "date: '2026-13-40' is not a date");
  code({"movements", "--gate", "south-9"}, "gate_id: 'south-9' not registered");
  code({"watch", "--person", "NOBODY", "--count", "1"}, "person: 'NOBODY' not found");
  // And the daemon still answers.
  EXPECT_EQ(Cordonctl({"occupancy"}).exit_code, 0);
}

}  // namespace
}  // namespace cordon::testing
