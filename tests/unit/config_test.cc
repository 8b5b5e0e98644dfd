// cordond's YAML config: errors name the file, line and key; nothing changes
// on error.
#include "daemon/app/config.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>

#include "tests/support/process.h"

namespace cordon::app {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("config"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  absl::Status Load(const std::string& yaml, DaemonConfig& config) {
    testing::WriteFile(dir_ + "/c.yaml", yaml);
    return LoadConfigFile(dir_ + "/c.yaml", config);
  }
  // Whether SIGHUP from `running` to `reloaded` says `key` waits for a restart.
  static bool NeedsRestart(const DaemonConfig& running, const DaemonConfig& reloaded,
                           const std::string& key) {
    auto restart = SettingsNeedingRestart(running, reloaded);
    return std::find(restart.begin(), restart.end(), key) != restart.end();
  }
  std::string dir_;
};

TEST_F(ConfigTest, OverridesDefaults) {
  DaemonConfig c;
  ASSERT_TRUE(Load("listen: 0.0.0.0:7400\nlog:\n  level: debug\n  format: json\n"
                   "journal:\n  max_batch: 100\n", c).ok());
  EXPECT_EQ(c.listen, "0.0.0.0:7400");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_TRUE(c.log_json);
  EXPECT_EQ(c.journal_max_batch, 100u);
  EXPECT_EQ(c.data_dir, "./cordon-data") << "unset keys keep their defaults";
}

TEST_F(ConfigTest, UnknownKeyNamesItsLineAndChangesNothing) {
  DaemonConfig c;
  auto st = Load("listen: 0.0.0.0:1\n\njournal:\n  max_bacth: 5\n", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("c.yaml:4: journal.max_bacth: unknown key"),
            std::string::npos) << st;
  EXPECT_EQ(c.listen, "127.0.0.1:7400");
}

TEST_F(ConfigTest, BadValuesAndSyntaxNameTheLine) {
  DaemonConfig c;
  auto st = Load("gates:\n  heartbeat_interval_ms: -5\n", c);
  EXPECT_NE(std::string(st.message()).find(":2: gates.heartbeat_interval_ms: must be a positive"),
            std::string::npos) << st;
  st = Load("listen: [unclosed\n", c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("c.yaml:"), std::string::npos) << st;
}

TEST_F(ConfigTest, TheCommitWindowMayBeZeroButNotOverASecond) {
  DaemonConfig c;
  c.insecure = true;
  EXPECT_EQ(c.journal_commit_window_ms, 200u);
  ASSERT_TRUE(Load("journal:\n  commit_window_ms: 0\n", c).ok());
  EXPECT_EQ(c.journal_commit_window_ms, 0u);
  auto st = Load("journal:\n  commit_window_ms: -1\n", c);
  EXPECT_NE(std::string(st.message()).find(":2: journal.commit_window_ms: must be a whole number"),
            std::string::npos) << st;
  ASSERT_TRUE(Load("journal:\n  commit_window_ms: 5000\n", c).ok());
  st = ValidateConfig(c);
  EXPECT_NE(std::string(st.message()).find("journal.commit_window_ms must be at most 1000"),
            std::string::npos) << st;
}

TEST_F(ConfigTest, TheWriterYieldsUnlessToldNotTo) {
  DaemonConfig c;
  EXPECT_TRUE(c.journal_writer_yields);
  ASSERT_TRUE(Load("journal:\n  writer_yields: false\n", c).ok());
  EXPECT_FALSE(c.journal_writer_yields);
  auto st = Load("journal:\n  writer_yields: sometimes\n", c);
  EXPECT_NE(std::string(st.message()).find(":2: journal.writer_yields: must be true or false"),
            std::string::npos) << st;
  EXPECT_FALSE(c.journal_writer_yields) << "a bad file changes nothing";
  DaemonConfig reloaded = c;
  reloaded.journal_writer_yields = true;
  EXPECT_TRUE(NeedsRestart(c, reloaded, "journal.writer_yields"));
}

TEST_F(ConfigTest, CommitsAreSyncedOnTheirOwnThreadUnlessToldNotTo) {
  DaemonConfig c;
  EXPECT_TRUE(c.journal_sync_thread);
  ASSERT_TRUE(Load("journal:\n  sync_thread: false\n", c).ok());
  EXPECT_FALSE(c.journal_sync_thread);
  auto st = Load("journal:\n  sync_thread: 1x\n", c);
  EXPECT_NE(std::string(st.message()).find(":2: journal.sync_thread: must be true or false"),
            std::string::npos) << st;
  EXPECT_FALSE(c.journal_sync_thread) << "a bad file changes nothing";
  DaemonConfig reloaded = c;
  reloaded.journal_sync_thread = true;
  EXPECT_TRUE(NeedsRestart(c, reloaded, "journal.sync_thread"));
}

TEST_F(ConfigTest, TheWriterOffersTheCpuWithinACommitUnlessToldNot) {
  DaemonConfig c;
  EXPECT_EQ(c.journal_commit_yield_events, 32u);
  ASSERT_TRUE(Load("journal:\n  commit_yield_events: 0\n", c).ok());
  EXPECT_EQ(c.journal_commit_yield_events, 0u);
  auto st = Load("journal:\n  commit_yield_events: -4\n", c);
  EXPECT_NE(std::string(st.message()).find(":2: journal.commit_yield_events"), std::string::npos)
      << st;
  EXPECT_EQ(c.journal_commit_yield_events, 0u) << "a bad file changes nothing";
  DaemonConfig reloaded = c;
  reloaded.journal_commit_yield_events = 8;
  EXPECT_TRUE(NeedsRestart(c, reloaded, "journal.commit_yield_events"));
}

TEST_F(ConfigTest, TheAckDelayIsAtMostTenSeconds) {
  DaemonConfig c;
  c.insecure = true;
  EXPECT_EQ(c.gate_ack_delay_ms, 500u);
  ASSERT_TRUE(Load("gates:\n  ack_delay_ms: 0\n", c).ok());
  EXPECT_EQ(c.gate_ack_delay_ms, 0u) << "0: every commit acknowledged at once";
  EXPECT_TRUE(ValidateConfig(c).ok());
  ASSERT_TRUE(Load("gates:\n  ack_delay_ms: 10001\n", c).ok());
  auto st = ValidateConfig(c);
  EXPECT_NE(std::string(st.message()).find("gates.ack_delay_ms must be at most 10000"),
            std::string::npos) << st;
  DaemonConfig reloaded = c;
  reloaded.gate_ack_delay_ms = 200;
  EXPECT_TRUE(NeedsRestart(c, reloaded, "gates.ack_delay_ms"));
}

TEST_F(ConfigTest, TheDecisionSliceIsZeroOrWhatLinuxAccepts) {
  DaemonConfig c;
  c.insecure = true;
  EXPECT_EQ(c.gate_decision_slice_us, 100u);
  ASSERT_TRUE(Load("gates:\n  decision_slice_us: 0\n", c).ok());
  EXPECT_EQ(c.gate_decision_slice_us, 0u) << "0: the kernel's slice";
  EXPECT_TRUE(ValidateConfig(c).ok());
  for (uint32_t bad : {1u, 99u, 100001u}) {
    c.gate_decision_slice_us = bad;
    auto st = ValidateConfig(c);
    EXPECT_NE(std::string(st.message()).find("gates.decision_slice_us must be 0"),
              std::string::npos) << bad << ": " << st;
  }
  c.gate_decision_slice_us = 100000;
  EXPECT_TRUE(ValidateConfig(c).ok());
  auto st = Load("gates:\n  decision_slice_us: fast\n", c);
  EXPECT_NE(std::string(st.message()).find(":2: gates.decision_slice_us: must be a whole number"),
            std::string::npos) << st;
  DaemonConfig reloaded = c;
  reloaded.gate_decision_slice_us = 200;
  EXPECT_TRUE(NeedsRestart(c, reloaded, "gates.decision_slice_us"));
}

// The file the package installs: every key it sets is one cordond knows,
// and its values are the defaults documented beside them.
TEST_F(ConfigTest, ThePackagedFileLoadsWithTheDefaults) {
  DaemonConfig c;
  auto st = LoadConfigFile(std::string(CORDON_SOURCE_DIR) + "/deploy/etc/cordond.yaml", c);
  ASSERT_TRUE(st.ok()) << st;
  DaemonConfig defaults;
  EXPECT_EQ(c.gate_ack_delay_ms, defaults.gate_ack_delay_ms);
  EXPECT_EQ(c.journal_commit_window_ms, defaults.journal_commit_window_ms);
  EXPECT_EQ(c.journal_writer_yields, defaults.journal_writer_yields);
  EXPECT_EQ(c.gate_decision_slice_us, defaults.gate_decision_slice_us);
}

TEST_F(ConfigTest, TheBacklogLimitIsAtLeastAHundredEvents) {
  DaemonConfig c;
  c.insecure = true;
  EXPECT_EQ(c.journal_max_uncommitted, 20000u);
  ASSERT_TRUE(Load("journal:\n  max_uncommitted: 500\n", c).ok());
  EXPECT_EQ(c.journal_max_uncommitted, 500u);
  EXPECT_TRUE(ValidateConfig(c).ok());
  auto st = Load("journal:\n  max_uncommitted: lots\n", c);
  EXPECT_NE(std::string(st.message()).find(":2: journal.max_uncommitted: must be a positive integer"),
            std::string::npos) << st;
  ASSERT_TRUE(Load("journal:\n  max_uncommitted: 10\n", c).ok());
  st = ValidateConfig(c);
  EXPECT_NE(std::string(st.message()).find("journal.max_uncommitted must be at least 100"),
            std::string::npos) << st;
}

TEST(ConfigValidate, RejectsABadLevelOrAddress) {
  DaemonConfig c;
  c.insecure = true;
  ASSERT_TRUE(ValidateConfig(c).ok());
  c.log_level = "loud";
  EXPECT_FALSE(ValidateConfig(c).ok());
  c.log_level = "info";
  c.listen = "7400";
  EXPECT_FALSE(ValidateConfig(c).ok());
}

TEST(ConfigValidate, MutualTlsUnlessInsecureIsAskedFor) {
  DaemonConfig c;
  auto st = ValidateConfig(c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("tls.ca_file"), std::string::npos) << st;
  c.tls_ca_file = "ca.crt";
  c.tls_cert_file = "cordond.crt";
  EXPECT_FALSE(ValidateConfig(c).ok());
  c.tls_key_file = "cordond.key";
  EXPECT_TRUE(ValidateConfig(c).ok());
  DaemonConfig plain;
  plain.insecure = true;
  EXPECT_TRUE(ValidateConfig(plain).ok());
}

TEST_F(ConfigTest, ReadsTheTlsSection) {
  DaemonConfig loaded;
  ASSERT_TRUE(Load("tls:\n  ca_file: /p/ca.crt\n  cert_file: /p/d.crt\n  key_file: /p/d.key\n",
                   loaded).ok());
  EXPECT_EQ(loaded.tls_key_file, "/p/d.key");
  EXPECT_TRUE(ValidateConfig(loaded).ok());
  EXPECT_FALSE(Load("tls:\n  insecure: maybe\n", loaded).ok());
}

}  // namespace
}  // namespace cordon::app
