// The durable echo is a raw limit only if it stores what it acknowledges:
// real cordond (to make the store and its campus), real `cordon-bench echo
// --store` and `cordon-bench run` processes on 127.0.0.1, a real SQLite file.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "sqlite/database.h"
#include "tests/support/campus.h"
#include "tests/support/process.h"

namespace cordon::testing {
namespace {

int64_t Count(const std::string& db_path, const std::string& sql) {
  auto db = sqlite::Database::Open(db_path, sqlite::Database::Mode::kReadOnly);
  EXPECT_TRUE(db.ok()) << db.status();
  auto q = db->Prepare(sql);
  EXPECT_TRUE(q.ok()) << q.status();
  auto row = q->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return q->Int(0);
}

// A JSON number field of cordon-bench run --json.
int64_t Field(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(json.substr(at + key.size() + 3));
}

TEST(DurableEcho, StoresEveryScanItAcknowledgesWithItsPersonAndGate) {
  const std::string dir = MakeTempDir("durable-echo");
  {
    DaemonUnderTest daemon(dir);
    daemon.Start();
    RunResult setup = testing::Run({CORDON_BENCH_PATH, "setup", "--daemon", daemon.address(), "--streams",
                           "4", "--people", "50"},
                          dir);
    ASSERT_EQ(setup.exit_code, 0) << setup.err;
    daemon.Signal(SIGTERM);
    ASSERT_EQ(daemon.Wait(In(std::chrono::seconds(30))), 0);
  }
  const std::string db = dir + "/data/cordon.db";
  ASSERT_EQ(Count(db, "SELECT count(*) FROM events"), 0);

  Process echo({CORDON_BENCH_PATH, "echo", "--store", db, "--listen", "127.0.0.1:0",
                "--port-file", dir + "/echo.port", "--commit-window-ms", "20"},
               dir + "/echo.out", dir + "/echo.err");
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(dir + "/echo.port").empty(); },
                      In(std::chrono::seconds(30))))
      << ReadFile(dir + "/echo.err");
  const std::string address = "127.0.0.1:" + std::to_string(std::stoi(ReadFile(dir + "/echo.port")));
  RunResult run = testing::Run({CORDON_BENCH_PATH, "run", "--daemon", address, "--streams", "4", "--people",
                       "50", "--rate", "200", "--seconds", "1", "--warmup", "0.5", "--json"},
                      dir);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const int64_t sent = Field(run.out, "sent"), acked = Field(run.out, "acked");
  EXPECT_EQ(sent, 200) << run.out;
  EXPECT_EQ(acked, sent) << run.out;
  echo.Signal(SIGTERM);
  ASSERT_EQ(echo.Wait(In(std::chrono::seconds(30))), 0) << ReadFile(dir + "/echo.err");

  // Every scan of every stream stored once (sequences 1..n per gate, no
  // gap), the measured ones and the warm-up's (about 100), each for a known
  // person at a registered gate, an interval opened for each entry.
  const int64_t stored = Count(db, "SELECT count(*) FROM events");
  EXPECT_GE(stored, sent + 99);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM (SELECT gate_id, incarnation, count(*) AS n, max(seq) AS top "
                      "FROM events GROUP BY gate_id, incarnation) WHERE n != top"),
            0);
  EXPECT_EQ(Count(db, "SELECT sum(highest_seq) FROM gate_incarnations"), stored);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM events WHERE person_id NOT IN (SELECT id FROM people)"), 0);
  EXPECT_EQ(Count(db, "SELECT count(DISTINCT gate_id) FROM events WHERE gate_id IN (SELECT id FROM gates)"), 4);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM presence_intervals"),
            Count(db, "SELECT count(*) FROM events WHERE direction = 1"));
}

}  // namespace
}  // namespace cordon::testing
