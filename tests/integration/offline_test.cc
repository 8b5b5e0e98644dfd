// Offline-first gates: a gate keeps deciding while the daemon or the network
// is gone, replays exactly once, and the daemon reconciles (late violations,
// clock skew). Real cordond and cordon-gate processes; the network fault is a
// TCP relay the test cuts.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/time.h"
#include "tests/support/campus.h"
#include "tests/support/ops.h"
#include "tests/support/tcp_proxy.h"

namespace cordon::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// Reads a growing output file incrementally and counts lines containing a text.
class Tail {
 public:
  explicit Tail(std::string path) : path_(std::move(path)) {}
  int Count(const std::string& needle) {
    Refresh();
    int n = 0;
    for (const auto& line : lines_) n += line.find(needle) != std::string::npos;
    return n;
  }
  const std::vector<std::string>& lines() {
    Refresh();
    return lines_;
  }

 private:
  void Refresh() {
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    offset_ += chunk.size();
    partial_ += chunk;
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines_.push_back(partial_.substr(start, nl - start));
    }
    partial_.erase(0, start);
  }
  std::string path_;
  size_t offset_ = 0;
  std::string partial_;
  std::vector<std::string> lines_;
};

// The gate's state lines (not its per-attempt link lines).
const std::string kNowOffline = "\"event\":\"state\",\"gate\":\"north-1\",\"state\":\"offline\"";
const std::string kNowOnline = "\"event\":\"state\",\"gate\":\"north-1\",\"state\":\"online\"";

class Offline : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("offline");
    daemon_ = std::make_unique<DaemonUnderTest>(dir_);
    daemon_->Start();
  }
  void TearDown() override {
    gate_.reset();
    daemon_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // cordon-gate north-1 on a TCP scanner port, talking to `address`.
  void StartScannerGate(const std::string& address, std::vector<std::string> extra = {}) {
    gate_ = std::make_unique<ScannerGate>(
        dir_, "north-1", address,
        [&] {
          std::vector<std::string> args = {"--initial-backoff-ms", "5", "--max-backoff-ms", "20"};
          args.insert(args.end(), extra.begin(), extra.end());
          return args;
        }());
    out_ = gate_->out_path();
  }

  int64_t PolicyVersion() {
    grpc::ClientContext ctx;
    v1::ListGatesResponse resp;
    EXPECT_TRUE(daemon_->admin().ListGates(&ctx, {}, &resp).ok());
    return QueryInt(daemon_->db_path(), "SELECT value FROM meta WHERE key = 'policy_version'");
  }

  std::string dir_, out_;
  std::unique_ptr<DaemonUnderTest> daemon_;
  std::unique_ptr<ScannerGate> gate_;
};

TEST_F(Offline, AQuarantineOrderedDuringAnOutageFlagsEachOfflineAdmission) {
  daemon_->RegisterGate("north-1");
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  daemon_->AddPerson("S2", v1::PERSON_CATEGORY_STUDENT, "CARD-S2");
  TcpProxy proxy(daemon_->port());
  StartScannerGate("127.0.0.1:" + std::to_string(proxy.port()));
  Tail tail(out_);
  const int64_t held = PolicyVersion();
  std::string holds_policy =
      "\"event\":\"policy\",\"gate\":\"north-1\",\"policy_version\":" + std::to_string(held);
  ASSERT_TRUE(WaitFor([&] { return tail.Count(holds_policy) == 1; }, In(seconds(20))))
      << ReadFile(out_);

  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return tail.Count(kNowOffline) >= 1; }, In(seconds(20))));
  daemon_->Quarantine("S1", 10);
  // Offline, the gate still holds the policy from before the order.
  gate_->Send("CARD-S1 in\nCARD-S1 out\nCARD-S1 in\nCARD-S2 in\n");
  ASSERT_TRUE(WaitFor([&] { return tail.Count("\"source\":\"gate_offline\"") == 4; },
                      In(seconds(20))));
  EXPECT_EQ(tail.Count("\"allowed\":true"), 4);

  proxy.Restore();
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") == 4; },
                      In(seconds(30))));
  std::string db = daemon_->db_path();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events WHERE source = 2"), 4);
  // An offline decision's rule is told from its source and policy version,
  // not stored with each row.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events WHERE rule IS NOT NULL"), 0);
  RunResult moves = Cordonctl(*daemon_, {"--json", "movements", "S2"}, dir_);
  ASSERT_EQ(moves.exit_code, 0) << moves.err;
  EXPECT_NE(moves.out.find("\"rule\":\"decided offline by the gate under policy v" +
                           std::to_string(held) + "\""),
            std::string::npos)
      << moves.out;
  // Two admissions of S1 offline, both contrary to the order: two alerts.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM alerts a JOIN people p ON p.id = a.person_id "
                         "WHERE a.kind = 2 AND p.external_id = 'S1'"),
            2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM alerts WHERE kind = 2"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM alerts WHERE kind = 2 AND detail LIKE "
                         "'%DENY_QUARANTINE%'"),
            2);
  // Back online, the daemon decides again, with the order.
  gate_->Send("CARD-S1 out\nCARD-S1 in\n");
  ASSERT_TRUE(WaitFor([&] { return tail.Count("DENY_QUARANTINE") == 1; }, In(seconds(20))))
      << ReadFile(out_);
}

TEST_F(Offline, AnOfflineExitOfSomeoneTheDaemonSawEnterRaisesNoAlert) {
  daemon_->RegisterGate("north-1");
  daemon_->RegisterGate("east-1");
  daemon_->AddPerson("S3", v1::PERSON_CATEGORY_STUDENT, "CARD-S3");
  daemon_->AddPerson("S4", v1::PERSON_CATEGORY_STUDENT, "CARD-S4");
  TcpProxy proxy(daemon_->port());
  StartScannerGate("127.0.0.1:" + std::to_string(proxy.port()));
  Tail tail(out_);
  ASSERT_TRUE(WaitFor([&] { return tail.Count("\"event\":\"policy\"") == 1; }, In(seconds(20))));
  // S3 comes in through another gate, online; north-1 never sees it.
  WriteLines(dir_ + "/east.txt", {"CARD-S3 in"});
  GateUnderTest east(dir_, "east-1");
  east.Start(daemon_->address(), dir_ + "/east.txt");
  ASSERT_EQ(east.Wait(In(seconds(30))), 0) << east.errors();

  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return tail.Count(kNowOffline) >= 1; }, In(seconds(20))));
  gate_->Send("CARD-S3 out\nCARD-S4 out\n");
  ASSERT_TRUE(WaitFor([&] { return tail.Count("ALLOW_EXIT_WITHOUT_ENTRY") == 2; }, In(seconds(20))))
      << "offline, north-1 knows neither entry";
  proxy.Restore();
  std::string db = daemon_->db_path();
  ASSERT_TRUE(WaitFor([&] { return CountRows(db, "events") == 3; }, In(seconds(30))));
  // The daemon saw S3 enter: no alert. Nobody saw S4 enter: one.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM alerts a JOIN people p ON p.id = a.person_id "
                         "WHERE a.kind = 1 AND p.external_id = 'S3'"),
            0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM alerts a JOIN people p ON p.id = a.person_id "
                         "WHERE a.kind = 1 AND p.external_id = 'S4'"),
            1);
}

TEST_F(Offline, AGateClockAnHourFastIsFlaggedAndItsOfflineEventsAreDatedByOurs) {
  daemon_->RegisterGate("north-1");
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  TcpProxy proxy(daemon_->port());
  setenv("CORDON_TEST_CLOCK_OFFSET_S", "3600", 1);
  StartScannerGate("127.0.0.1:" + std::to_string(proxy.port()));
  unsetenv("CORDON_TEST_CLOCK_OFFSET_S");
  Tail tail(out_);
  ASSERT_TRUE(WaitFor([&] { return tail.Count("\"event\":\"policy\"") == 1; }, In(seconds(20))));
  std::string db = daemon_->db_path();
  ASSERT_TRUE(WaitFor([&] { return QueryInt(db, "SELECT count(*) FROM alerts WHERE kind = 3") == 1; },
                      In(seconds(20))));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM alerts WHERE kind = 3 AND "
                         "(detail LIKE 'gate clock is 3600._ s ahead%' OR "
                         " detail LIKE 'gate clock is 3599._ s ahead%')"),
            1);

  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return tail.Count(kNowOffline) >= 1; }, In(seconds(20))));
  int64_t before_us = ToUnixMicros(SystemClock().Now());
  gate_->Send("CARD-S1 in\n");
  ASSERT_TRUE(WaitFor([&] { return tail.Count("\"source\":\"gate_offline\"") == 1; },
                      In(seconds(20))));
  int64_t after_us = ToUnixMicros(SystemClock().Now());
  proxy.Restore();
  ASSERT_TRUE(WaitFor([&] { return CountRows(db, "events") == 1; }, In(seconds(30))));
  int64_t occurred = QueryInt(db, "SELECT occurred_at FROM events");
  int64_t gate_time = QueryInt(db, "SELECT gate_time FROM events");
  // The gate said an hour later; the record says when it happened.
  EXPECT_NEAR(static_cast<double>(gate_time - occurred), 3600e6, 2e6);
  EXPECT_GE(occurred, before_us - 2'000'000);
  EXPECT_LE(occurred, after_us + 2'000'000);
}

// A scan stored by a gate that then died, undecided: the restarted gate
// sends it again and the daemon decides it, but nobody is waiting at the gate
// for it, and the dead run may have shown that decision already (a decision
// is shown before it is stored). Recorded and acknowledged, not shown.
TEST_F(Offline, ADecisionForAScanFromTheGatesEarlierRunIsRecordedNotShown) {
  daemon_->RegisterGate("north-1");
  daemon_->AddPerson("S1", v1::PERSON_CATEGORY_STUDENT, "CARD-S1");
  TcpProxy proxy(daemon_->port());
  const std::string via_proxy = "127.0.0.1:" + std::to_string(proxy.port());
  StartScannerGate(via_proxy);
  Tail tail(out_);
  std::string holds_policy =
      "\"event\":\"policy\",\"gate\":\"north-1\",\"policy_version\":" + std::to_string(PolicyVersion());
  ASSERT_TRUE(WaitFor([&] { return tail.Count(holds_policy) == 1; }, In(seconds(20))));

  proxy.Stall();  // the link swallows the scan: stored, sent, never decided
  gate_->Send("CARD-S1 in\n");
  const std::string outbox = dir_ + "/north-1.outbox.db";
  ASSERT_TRUE(WaitFor([&] { return CountRows(outbox, "outbox") == 1; }, In(seconds(20))));
  gate_->process().Signal(SIGKILL);
  ASSERT_EQ(gate_->process().Wait(In(seconds(10))), 128 + SIGKILL);
  EXPECT_EQ(CountRows(daemon_->db_path(), "events"), 0);
  proxy.Cut();
  proxy.Restore();

  gate_.reset();
  fs::remove(dir_ + "/north-1.out");  // the new run's own output
  fs::remove(dir_ + "/north-1.err");
  StartScannerGate(via_proxy);  // the same outbox
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") == 1; },
                      In(seconds(20))));
  // Acknowledged, so its decision has arrived (sent before the ack, on the
  // same stream).
  ASSERT_TRUE(WaitFor([&] { return CountRows(outbox, "outbox") == 0; }, In(seconds(20))));
  EXPECT_TRUE(gate_->Decisions().empty()) << gate_->output();
  auto events = ReadEvents(daemon_->db_path());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].allowed);
  EXPECT_EQ(events[0].person, "S1");
}

TEST_F(Offline, AThousandLinkCutsNeverAdmitWhatThePolicyDeniesNorOpenOnALinkEvent) {
  daemon_->RegisterGate("north-1");
  for (int i = 0; i < 10; ++i) {
    daemon_->AddPerson("S" + std::to_string(i), v1::PERSON_CATEGORY_STUDENT,
                       "CARD-S" + std::to_string(i));
  }
  daemon_->AddPerson("Q1", v1::PERSON_CATEGORY_STUDENT, "CARD-Q1");
  daemon_->AddPerson("I1", v1::PERSON_CATEGORY_STUDENT, "CARD-I1", /*inactive=*/true);
  daemon_->Quarantine("Q1", 10);
  std::string turnstile = dir_ + "/turnstile.log";
  TcpProxy proxy(daemon_->port());
  StartScannerGate("127.0.0.1:" + std::to_string(proxy.port()),
                   {"--on-allow", "echo $CORDON_SEQ >> " + turnstile});
  Tail tail(out_);
  std::string holds_policy =
      "\"event\":\"policy\",\"gate\":\"north-1\",\"policy_version\":" + std::to_string(PolicyVersion());
  ASSERT_TRUE(WaitFor([&] { return tail.Count(holds_policy) == 1; }, In(seconds(20))));

  // CORDON_TEST_LINK_CYCLES runs fewer while working on this test.
  const int kCycles = std::getenv("CORDON_TEST_LINK_CYCLES")
                          ? std::atoi(std::getenv("CORDON_TEST_LINK_CYCLES"))
                          : 1000;
  int sent = 0;
  auto scan = [&](int i) {
    // An allowed student (in and out in turn) and one who must never pass.
    static const char* kDenied[] = {"CARD-Q1 in", "CARD-I1 in", "CARD-NOBODY in"};
    std::string who = "CARD-S" + std::to_string(i % 10);
    std::string dir = (i / 10) % 2 ? " out" : " in";
    gate_->Send(who + dir + "\n" + kDenied[i % 3] + "\n");
    sent += 2;
  };
  for (int i = 0; i < kCycles; ++i) {
    proxy.Cut();
    ASSERT_TRUE(WaitFor([&] { return tail.Count(kNowOffline) >= i + 1; },
                        In(seconds(20))))
        << "cycle " << i;
    scan(2 * i);
    proxy.Restore();
    ASSERT_TRUE(WaitFor([&] { return tail.Count(kNowOnline) >= i + 2; },
                        In(seconds(20))))
        << "cycle " << i << ", proxy accepted " << proxy.accepted() << "\ngate output:\n"
        << LastLines(gate_->output(), 30) << "gate errors:\n" << LastLines(gate_->errors(), 30)
        << "cordond log:\n" << LastLines(daemon_->log(), 30);
    scan(2 * i + 1);
  }
  ASSERT_TRUE(WaitFor([&] { return CountRows(daemon_->db_path(), "events") == sent; },
                      In(seconds(120))));
  // Every scan is answered on the gate: a decision, or (when the decision was
  // lost with a cut connection) a note that it was recorded unanswered.
  ASSERT_TRUE(WaitFor([&] {
    return tail.Count("\"event\":\"decision\"") + tail.Count("\"event\":\"unanswered\"") == sent;
  }, In(seconds(60))));
  gate_->process().Signal(SIGTERM);
  ASSERT_EQ(gate_->process().Wait(In(seconds(30))), 0);

  std::map<uint64_t, ShownDecision> shown;
  int offline = 0;
  std::istringstream in(ReadFile(out_));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"event\":\"decision\"") == std::string::npos) continue;
    ShownDecision d;
    auto field = [&](const std::string& name) {
      auto at = line.find("\"" + name + "\":");
      return at == std::string::npos ? std::string() : line.substr(at + name.size() + 3);
    };
    d.seq = std::stoull(field("seq"));
    d.credential = field("credential").substr(1, field("credential").find('"', 1) - 1);
    d.allowed = field("allowed").rfind("true", 0) == 0;
    d.actuated = field("actuated").rfind("true", 0) == 0;
    d.offline = field("source").rfind("\"gate_offline\"", 0) == 0;
    offline += d.offline;
    EXPECT_TRUE(shown.emplace(d.seq, d).second) << "seq " << d.seq << " shown twice";
    bool may_pass = d.credential.rfind("CARD-S", 0) == 0;
    if (d.allowed) {
      EXPECT_TRUE(may_pass) << line;
    }
  }
  // Decisions made here are always shown; some of the daemon's were lost
  // with the next cut and announced as unanswered instead.
  RecordProperty("decisions_shown", static_cast<int>(shown.size()));
  EXPECT_GE(static_cast<int>(shown.size()), sent / 2);
  EXPECT_GE(offline, kCycles) << "half the scans were made while the link was cut";
  // Every opening of the turnstile belongs to exactly one allowed, acted-on scan.
  std::istringstream opened(ReadFile(turnstile));
  std::set<uint64_t> openings;
  int lines = 0;
  while (std::getline(opened, line)) {
    ++lines;
    uint64_t seq = std::stoull(line);
    EXPECT_TRUE(openings.insert(seq).second) << "turnstile opened twice for " << seq;
    ASSERT_TRUE(shown.count(seq)) << "opened for a scan never decided: " << seq;
    EXPECT_TRUE(shown[seq].allowed && shown[seq].actuated) << seq;
  }
  int actuated = 0;
  for (const auto& [seq, d] : shown) actuated += d.actuated;
  EXPECT_EQ(lines, actuated);
  // What the daemon recorded is what the gate did, and nobody was admitted
  // whom the policy denies, whoever decided.
  auto events = ReadEvents(daemon_->db_path());
  EXPECT_EQ(static_cast<int>(events.size()), sent);
  std::set<uint64_t> seqs;
  for (const EventRow& e : events) {
    EXPECT_TRUE(seqs.insert(e.seq).second) << "seq " << e.seq << " recorded twice";
    if (auto it = shown.find(e.seq); it != shown.end()) {
      EXPECT_EQ(e.allowed, it->second.allowed) << "seq " << e.seq;
    }
    if (e.allowed) {
      EXPECT_EQ(e.person.rfind("S", 0), 0u) << e.person << " seq " << e.seq;
    }
  }
}

TEST_F(Offline, ADayOfScansBufferedOfflineIsRecordedExactlyOnceThroughKills) {
  daemon_->ImportStudents(1000);  // S0..S999 with CARD-S0..
  daemon_->RegisterGate("north-1");
  GateUnderTest gate(dir_, "north-1");
  std::string db = daemon_->db_path();
  std::string outbox = gate.outbox_path();

  // Online once, to receive the policy copy.
  WriteLines(dir_ + "/warm.txt", {"CARD-S0 out"});
  gate.Start(daemon_->address(), dir_ + "/warm.txt");
  ASSERT_EQ(gate.Wait(In(seconds(60))), 0) << gate.errors();

  // The daemon goes away for a day. 100,000 scans: students coming and
  // going, and a card nobody holds every 97th scan.
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(In(seconds(60))), 0);
  constexpr int kScans = 100'000;
  std::vector<std::string> lines;
  lines.reserve(kScans);
  for (int i = 0; i < kScans; ++i) {
    if (i % 97 == 0) {
      lines.push_back("CARD-NOBODY in");
    } else {
      lines.push_back("CARD-S" + std::to_string(i % 1000) + ((i / 1000) % 2 ? " out" : " in"));
    }
  }
  std::string input = dir_ + "/day.txt";
  WriteLines(input, lines);
  // 100,000 scans at 4,000/s take 25 s; at 3,456x the gate's clock covers a day.
  setenv("CORDON_TEST_CLOCK_SPEED", "3456", 1);
  const std::vector<std::string> args = {"--rate", "4000", "--offline-limits", "student=none"};
  auto stored = [&] { return QueryInt(outbox, "SELECT count(*) FROM outbox WHERE seq > 1"); };
  gate.Start(daemon_->address(), input, args);
  for (int64_t kill_at : {kScans / 3, 2 * kScans / 3}) {
    ASSERT_TRUE(WaitFor([&] { return stored() >= kill_at; }, In(seconds(120)))) << gate.errors();
    gate.Signal(SIGKILL);
    ASSERT_EQ(gate.Wait(In(seconds(30))), 128 + SIGKILL);
    gate.Start(daemon_->address(), input, args);  // resumes after the last stored line
  }
  ASSERT_TRUE(WaitFor([&] { return stored() == kScans; }, In(seconds(180)))) << gate.errors();

  // The daemon returns; the gate replays and is killed once more midway.
  daemon_->Start();
  ASSERT_TRUE(WaitFor([&] { return CountRows(db, "events") >= 40'000; }, In(seconds(120))));
  gate.Signal(SIGKILL);
  ASSERT_EQ(gate.Wait(In(seconds(30))), 128 + SIGKILL);
  gate.Start(daemon_->address(), input, args);
  ASSERT_EQ(gate.Wait(In(seconds(300))), 0) << gate.errors();  // exits once all is acknowledged
  unsetenv("CORDON_TEST_CLOCK_SPEED");

  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events"), kScans + 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(DISTINCT seq) FROM events"), kScans + 1);
  EXPECT_EQ(QueryInt(db, "SELECT max(seq) FROM events"), kScans + 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events WHERE source = 2"), kScans)
      << "every scan of the outage keeps its offline decision";
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events WHERE person_id IS NULL AND allowed = 1"), 0);
  EXPECT_GE(QueryInt(db, "SELECT count(*) FROM alerts WHERE kind = 3"), 1)
      << "a gate clock running a day fast is flagged";
  // What the gate showed is what was recorded, scan by scan.
  std::map<uint64_t, bool> recorded;
  for (const EventRow& e : ReadEvents(db)) recorded[e.seq] = e.allowed;
  size_t shown = 0;
  for (const ShownDecision& d : gate.Decisions()) {
    if (d.seq == 1) continue;
    ++shown;
    EXPECT_TRUE(d.offline) << d.seq;
    ASSERT_TRUE(recorded.count(d.seq)) << d.seq;
    EXPECT_EQ(recorded[d.seq], d.allowed) << d.seq;
  }
  // A kill -9 can cut off the display of the last stored cycle, no more.
  EXPECT_GE(shown, static_cast<size_t>(kScans) - 3000);
  RecordProperty("decisions_shown", static_cast<int>(shown));
}

}  // namespace
}  // namespace cordon::testing
