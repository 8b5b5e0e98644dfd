// The campus policy end to end: a real cordond, five real cordon-gate
// processes at different zones, the policy applied and the mode switched
// with the real cordonctl. A campus with three areas and four cohorts, two of
// them kept apart in the canteen, a lab open to one college, and a switch
// from closed management to normal in the middle of the run.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "tests/support/campus.h"

namespace cordon::testing {
namespace {

using std::chrono::seconds;

// Three areas (a dormitory, teaching with a lab, a canteen) and their gates.
const std::string kLayout = R"yaml(
zones:
  - id: campus
    zones:
      - id: dorm-a
      - id: teaching
        zones:
          - id: lab-chem
      - id: canteen-1
gates:
  - {id: north-1, inner: campus}
  - {id: dorm-a-door, inner: dorm-a}
  - {id: teaching-gate, inner: teaching}
  - {id: lab-chem-door, inner: lab-chem}
  - {id: canteen-1-door, inner: canteen-1}
)yaml";

const std::string kPolicy = R"yaml(
campus:
  utc_offset: "+08:00"
  initial_mode: closed_management
)yaml" + kLayout + R"yaml(
cohorts:
  - id: dorm-a
    permissions: [{zone: canteen-1}]
  - id: dorm-b
    permissions: [{zone: canteen-1}]
  - id: chem-college
  - id: canteen-staff
    permissions: [{zone: canteen-1}]
separation:
  - cohorts: [dorm-a, dorm-b]
    zone: canteen-1
    buffer_minutes: 30
modes:
  - id: closed_management
    health_admitted: [green]
    leave_required: true
    zones:
      dorm-a: [dorm-a]
      teaching: [chem-college]
      lab-chem: [chem-college]
      canteen-1: restricted
  - id: normal
    health_admitted: [green, yellow]
    zones:
      dorm-a: [dorm-a]
      lab-chem: [chem-college]
      canteen-1: restricted
)yaml";

constexpr char kRoster[] =
    "external_id,name,category,cohort,credential,active,valid_until\n"
    "A1,Li Na,student,dorm-a,CARD-A1,,\n"
    "A2,Wang Fang,student,dorm-a;chem-college,CARD-A2,,\n"
    "B1,Zhang Wei,student,dorm-b,CARD-B1,,\n"
    "C1,Liu Yang,resident_staff,chem-college,CARD-C1,,\n"
    "Q1,Chen Jie,student,dorm-a,CARD-Q1,,\n";

class Zones : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("zones");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    daemon_->Start();
  }
  void TearDown() override {
    gates_.clear();
    daemon_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  RunResult Cordonctl(std::vector<std::string> args) {
    return cordon::testing::Cordonctl(*daemon_, std::move(args), dir_);
  }

  // Sends one scan at `gate` and returns the reason the gate showed.
  std::string Scan(const std::string& gate, const std::string& card, const std::string& dir) {
    auto shown = gates_.at(gate)->Scan(card, dir);
    if (!shown) return "none";
    EXPECT_FALSE(shown->offline) << "the daemon decides while the gate is connected";
    return shown->reason;
  }

  int64_t Alerts(int kind) {
    return QueryInt(daemon_->db_path(),
                    "SELECT count(*) FROM alerts WHERE kind = " + std::to_string(kind));
  }

  std::string dir_;
  std::unique_ptr<DaemonUnderTest> daemon_;
  std::map<std::string, std::unique_ptr<ScannerGate>> gates_;
};

TEST_F(Zones, ACampusUnderClosedManagementThenNormalDecidesEveryScanAsThePolicySays) {
  WriteFile(dir_ + "/policy.yaml", kPolicy);
  WriteFile(dir_ + "/roster.csv", kRoster);
  const std::vector<std::string> gate_ids = {"north-1", "dorm-a-door", "teaching-gate",
                                             "lab-chem-door", "canteen-1-door"};
  for (const auto& id : gate_ids) daemon_->RegisterGate(id);
  RunResult imported = Cordonctl({"roster", "import", dir_ + "/roster.csv"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  RunResult applied = Cordonctl({"policy", "apply", dir_ + "/policy.yaml"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.out.find("+ zone lab-chem"), std::string::npos) << applied.out;
  EXPECT_NE(applied.out.find("mode closed_management"), std::string::npos) << applied.out;
  daemon_->Quarantine("Q1", 10);

  for (const auto& id : gate_ids) {
    gates_[id] = std::make_unique<ScannerGate>(dir_, id, daemon_->address());
  }
  for (const auto& [id, gate] : gates_) {
    ASSERT_TRUE(WaitFor([&] { return gate->output().find("\"event\":\"policy\"") !=
                                     std::string::npos; },
                        In(seconds(20))))
        << id << "\n" << gate->errors();
  }

  struct Step {
    std::string gate, card, dir, reason;
  };
  const std::vector<Step> closed = {
      {"north-1", "CARD-A1", "in", "ALLOW_STUDENT"},
      {"north-1", "CARD-A2", "in", "ALLOW_STUDENT"},
      {"north-1", "CARD-B1", "in", "ALLOW_STUDENT"},
      {"north-1", "CARD-C1", "in", "ALLOW_RESIDENT_STAFF"},
      {"north-1", "CARD-Q1", "in", "DENY_QUARANTINE"},                  // alert 1
      {"teaching-gate", "CARD-A1", "in", "DENY_ZONE_COHORT"},           // not chemistry
      {"teaching-gate", "CARD-A2", "in", "ALLOW_STUDENT"},
      {"lab-chem-door", "CARD-A2", "in", "ALLOW_STUDENT"},
      {"teaching-gate", "CARD-C1", "in", "ALLOW_RESIDENT_STAFF"},
      {"lab-chem-door", "CARD-C1", "in", "ALLOW_RESIDENT_STAFF"},
      {"canteen-1-door", "CARD-A1", "in", "ALLOW_STUDENT"},
      {"canteen-1-door", "CARD-B1", "in", "DENY_COHORT_SEPARATION"},    // alert 2: A inside
      {"canteen-1-door", "CARD-A1", "out", "ALLOW_STUDENT"},
      {"canteen-1-door", "CARD-B1", "in", "DENY_COHORT_SEPARATION"},    // alert 3: cleaning
      {"canteen-1-door", "CARD-C1", "in", "DENY_NO_ZONE_PERMISSION"},
      {"north-1", "CARD-A1", "out", "DENY_NO_LEAVE"},
      {"dorm-a-door", "CARD-B1", "in", "DENY_ZONE_COHORT"},
      {"dorm-a-door", "CARD-A1", "in", "ALLOW_STUDENT"},
      {"dorm-a-door", "CARD-A1", "in", "DENY_ALREADY_IN_ZONE"},
  };
  for (const auto& s : closed) {
    EXPECT_EQ(Scan(s.gate, s.card, s.dir), s.reason) << s.gate << " " << s.card << " " << s.dir;
  }
  int64_t closed_version =
      QueryInt(daemon_->db_path(), "SELECT max(policy_version) FROM events");

  RunResult switched = Cordonctl({"mode", "set", "normal"});
  ASSERT_EQ(switched.exit_code, 0) << switched.err;
  EXPECT_NE(switched.out.find("mode closed_management -> normal"), std::string::npos);

  const std::vector<Step> normal = {
      {"teaching-gate", "CARD-B1", "in", "ALLOW_STUDENT"},             // teaching open now
      {"lab-chem-door", "CARD-B1", "in", "DENY_ZONE_COHORT"},          // the lab still is not
      {"dorm-a-door", "CARD-A1", "out", "ALLOW_STUDENT"},
      {"north-1", "CARD-A1", "out", "ALLOW_STUDENT"},                  // no leave needed
      {"north-1", "CARD-C1", "out", "ALLOW_RESIDENT_STAFF"},           // from inside the lab
      {"dorm-a-door", "CARD-B1", "out", "ALLOW_EXIT_WITHOUT_ENTRY"},   // alert 4
  };
  for (const auto& s : normal) {
    EXPECT_EQ(Scan(s.gate, s.card, s.dir), s.reason) << s.gate << " " << s.card << " " << s.dir;
  }

  std::string db = daemon_->db_path();
  ASSERT_TRUE(WaitFor([&] { return CountRows(db, "events") == 25; }, In(seconds(20))));
  EXPECT_EQ(Alerts(5), 1) << "the quarantined person at a gate";
  EXPECT_EQ(Alerts(6), 2) << "two attempts to mix dorm-a and dorm-b in the canteen";
  EXPECT_EQ(Alerts(1), 1) << "the exit from a dormitory never entered";
  EXPECT_EQ(CountRows(db, "alerts"), 4);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events WHERE rule IS NULL OR rule = ''"), 0)
      << "every decision records its rule";
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events WHERE policy_version <= " +
                             std::to_string(closed_version)),
            19)
      << "decisions after the switch carry the new version";
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM policy_documents WHERE change LIKE 'mode %'"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events WHERE allowed = 1 AND zone = 'lab-chem'"),
            2);
  RunResult teaching = Cordonctl({"presence", "--zone", "teaching"});
  EXPECT_EQ(teaching.exit_code, 0) << teaching.err;
  EXPECT_NE(teaching.out.find("1 in teaching"), std::string::npos) << teaching.out;
  EXPECT_NE(teaching.out.find("lab-chem"), std::string::npos) << "A2 is in the lab";
  EXPECT_EQ(Cordonctl({"presence", "--zone", "nowhere"}).exit_code, 1);
  RunResult history = Cordonctl({"policy", "history"});
  EXPECT_EQ(history.exit_code, 0);
  EXPECT_NE(history.out.find("mode closed_management -> normal"), std::string::npos) << history.out;
}

TEST_F(Zones, APolicyFileWithErrorsChangesNothingAndNamesEveryLine) {
  WriteFile(dir_ + "/good.yaml", kPolicy);
  ASSERT_EQ(Cordonctl({"policy", "apply", dir_ + "/good.yaml"}).exit_code, 0);
  int64_t version = QueryInt(daemon_->db_path(), "SELECT value FROM meta WHERE key = 'policy_version'");
  WriteFile(dir_ + "/bad.yaml",
            "zones:\n"
            "  - id: campus\n"
            "    zones:\n"
            "      - id: lab\n"
            "        capacity: -3\n"
            "modes:\n"
            "  - id: normal\n"
            "    zones:\n"
            "      nowhere: open\n"
            "      lab: sometimes\n");
  RunResult r = Cordonctl({"policy", "apply", dir_ + "/bad.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  std::string file = dir_ + "/bad.yaml";
  EXPECT_NE(r.err.find("3 error(s), nothing changed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":5: capacity of zone 'lab'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":9: mode 'normal': no zone 'nowhere'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":10: mode 'normal' zone 'lab'"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(daemon_->db_path(), "SELECT value FROM meta WHERE key = 'policy_version'"),
            version);
  RunResult shown = Cordonctl({"policy", "show"});
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_NE(shown.out.find("canteen-1: restricted"), std::string::npos) << "the good one stays";

  // A dry run of a good change shows the difference and changes nothing.
  std::string changed = kPolicy;
  changed.replace(changed.find("      - id: canteen-1\n"), 22, "      - id: canteen-1\n        capacity: 120\n");
  WriteFile(dir_ + "/changed.yaml", changed);
  RunResult dry = Cordonctl({"policy", "apply", "--dry-run", dir_ + "/changed.yaml"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("~ zone canteen-1: in campus (canteen-1) -> in campus, capacity 120"),
            std::string::npos)
      << dry.out;
  EXPECT_EQ(QueryInt(daemon_->db_path(), "SELECT value FROM meta WHERE key = 'policy_version'"),
            version);
  // Applied, then rolled back: the rollback is a new version with the old document.
  ASSERT_EQ(Cordonctl({"policy", "apply", dir_ + "/changed.yaml"}).exit_code, 0);
  RunResult back = Cordonctl({"policy", "rollback", std::to_string(version)});
  EXPECT_EQ(back.exit_code, 0) << back.err;
  EXPECT_NE(back.out.find("capacity 120 (canteen-1) -> in campus (canteen-1)"), std::string::npos)
      << back.out;
  EXPECT_EQ(QueryInt(daemon_->db_path(), "SELECT count(*) FROM policy_documents"), 3);
}

// The candidate: the canteen for dorm-b only, the chemistry lab closed,
// teaching open but chemists and dorm-b kept apart there.
const std::string kCandidate = R"yaml(
campus:
  initial_mode: closed_management
)yaml" + kLayout + R"yaml(
cohorts:
  - id: dorm-a
  - id: dorm-b
  - id: chem-college
  - id: canteen-staff
separation:
  - cohorts: [chem-college, dorm-b]
    zone: teaching
modes:
  - id: closed_management
    health_admitted: [green]
    leave_required: true
    zones:
      dorm-a: [dorm-a]
      lab-chem: closed
      canteen-1: [dorm-b]
)yaml";

// A campus with the same gates and people, running `policy`.
struct Campus {
  Campus(const std::string& dir, const std::string& policy) : daemon(dir) {
    daemon.Start();
    for (const char* id : {"north-1", "dorm-a-door", "teaching-gate", "lab-chem-door",
                           "canteen-1-door"}) {
      daemon.RegisterGate(id);
    }
    WriteFile(dir + "/roster.csv", kRoster);
    WriteFile(dir + "/policy.yaml", policy);
    RunResult roster = Cordonctl(daemon, {"roster", "import", dir + "/roster.csv"}, dir);
    EXPECT_EQ(roster.exit_code, 0) << roster.err;
    RunResult applied = Cordonctl(daemon, {"policy", "apply", dir + "/policy.yaml"}, dir);
    EXPECT_EQ(applied.exit_code, 0) << applied.err;
    for (const char* id : {"north-1", "dorm-a-door", "teaching-gate", "lab-chem-door",
                           "canteen-1-door"}) {
      gates[id] = std::make_unique<ScannerGate>(dir, id, daemon.address());
      ScannerGate& g = *gates[id];
      EXPECT_TRUE(WaitFor([&] { return g.output().find("\"event\":\"policy\"") != std::string::npos; },
                          In(seconds(20))));
    }
  }
  std::string Scan(const std::string& gate, const std::string& card, const std::string& dir) {
    auto shown = gates.at(gate)->Scan(card, dir);
    return shown ? shown->reason : "none";
  }
  DaemonUnderTest daemon;
  std::map<std::string, std::unique_ptr<ScannerGate>> gates;
};

TEST(PolicySimulation, GivesScanByScanWhatApplyingTheCandidateAndReplayingGives) {
  std::string dir = MakeTempDir("simulate");
  std::filesystem::create_directories(dir + "/a");
  std::filesystem::create_directories(dir + "/b");
  // 80 scans by four people at five gates, in a fixed pseudo-random order.
  const std::vector<std::string> gates = {"north-1", "dorm-a-door", "teaching-gate",
                                          "lab-chem-door", "canteen-1-door"};
  const std::vector<std::string> cards = {"CARD-A1", "CARD-A2", "CARD-B1", "CARD-C1"};
  struct Step {
    std::string gate, card, dir;
  };
  std::vector<Step> script;
  uint32_t x = 12345;
  auto next = [&](uint32_t n) {
    x = x * 1103515245u + 12345u;
    return (x >> 16) % n;
  };
  for (int i = 0; i < 80; ++i) {
    // Mostly in: people need to get somewhere for the zone rules to matter.
    script.push_back({gates[next(5)], cards[next(4)], next(3) == 0 ? "out" : "in"});
  }

  std::vector<std::string> recorded;
  {
    Campus a(dir + "/a", kPolicy);
    for (const auto& s : script) recorded.push_back(a.Scan(s.gate, s.card, s.dir));
    ASSERT_TRUE(WaitFor([&] { return CountRows(a.daemon.db_path(), "events") == 80; },
                        In(seconds(20))));
    WriteFile(dir + "/candidate.yaml", kCandidate);
    RunResult sim = cordon::testing::Run({CordonctlPath(), "--daemon", a.daemon.address(), "--json", "policy",
                         "simulate", dir + "/candidate.yaml", "--days", "7"},
                        dir);
    ASSERT_EQ(sim.exit_code, 0) << sim.err;
    WriteFile(dir + "/simulation.json", sim.out);
    RunResult table = cordon::testing::Run({CordonctlPath(), "--daemon", a.daemon.address(), "policy", "simulate",
                           dir + "/candidate.yaml", "--days", "7"},
                          dir);
    EXPECT_EQ(table.exit_code, 0);
    EXPECT_NE(table.out.find("80 scans"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("nothing was changed"), std::string::npos);
  }
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFile(dir + "/simulation.json"), &report).ok());
  const auto& decisions = report.fields().at("decisions").list_value().values();
  ASSERT_EQ(decisions.size(), 80);

  Campus b(dir + "/b", kCandidate);
  int differ_from_recorded = 0;
  for (size_t i = 0; i < script.size(); ++i) {
    std::string replayed = b.Scan(script[i].gate, script[i].card, script[i].dir);
    const auto& d = decisions[static_cast<int>(i)].struct_value().fields();
    EXPECT_EQ(d.at("candidate").string_value(), replayed)
        << "scan " << i + 1 << ": " << script[i].gate << " " << script[i].card << " "
        << script[i].dir;
    EXPECT_EQ(d.at("recorded").string_value(), recorded[i]) << "scan " << i + 1;
    differ_from_recorded += replayed != recorded[i];
  }
  EXPECT_GE(differ_from_recorded, 5) << "the candidate must actually change decisions";
  EXPECT_EQ(report.fields().at("changed").string_value(), std::to_string(differ_from_recorded))
      << "int64 fields are JSON strings";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cordon::testing
