// cordond's configuration: defaults, then the YAML file, then flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cordon::app {

struct DaemonConfig {
  std::string listen = "127.0.0.1:7400";  // host:port; port 0 picks a free one
  std::string data_dir = "./cordon-data";
  std::string log_level = "info";  // trace, debug, info, warn, error
  bool log_json = false;
  std::string port_file;  // if set, the bound port is written here once serving
  uint32_t heartbeat_interval_ms = 5000;
  uint32_t clock_skew_alert_ms = 5000;  // a gate clock off by more raises an alert
  // Per gate: messages a second and the burst; beyond, RESOURCE_EXHAUSTED.
  uint32_t gate_max_messages_per_second = 1000;
  uint32_t gate_message_burst = 2000;
  // The time slice the threads deciding scans ask the kernel for (Linux
  // 6.12+; daemon/cpu/thread_slice.h): 100-100000 µs, or 0 for the
  // kernel's default. Shorter than the storage writer's, so they preempt it.
  uint32_t gate_decision_slice_us = 100;
  // How long a commit waits to be told in a gate's next Decision before it
  // goes in a PersistAck of its own (a commit of 8 scans or more goes at
  // once). Scans stay in the gate's outbox until then.
  uint32_t gate_ack_delay_ms = 500;
  uint32_t journal_max_batch = 4096;
  // Group commit: how long the writer gathers events after the first before
  // committing (or until half of max_batch is queued). Acks come up to this
  // much later; decisions never wait. Each commit rewrites the index leaves
  // its scattered people touch, so longer windows share more of them. 100
  // rather than 50 took storage at 1,000/s from 5.0-5.4% to 4.2-4.6% of a
  // core (eleventh pass); 200 rather than 100 from 4.0-4.3% to 3.5-3.6% on
  // a fresh day, and about 6% both ways once today holds 600,000 scans
  // (twentieth pass, docs/BENCHMARKS.md).
  uint32_t journal_commit_window_ms = 200;
  // Events decided and not yet committed (about 0.5 KB each): beyond, a gate
  // sending its backlog stops being read until the writer is down to half;
  // beyond 4 times this, every gate (GateLedger::LimitBacklog).
  uint32_t journal_max_uncommitted = 20000;
  // While storage is light (under a tenth of a core), the writer's commits
  // yield the CPU to the threads deciding scans at once (SCHED_IDLE); they
  // run at normal priority again as soon as events queue up. Needs
  // CAP_SYS_NICE or LimitNICE=+0 (deploy/systemd/cordond.service).
  bool journal_writer_yields = true;
  // Commits of events return before the disk has them, and a thread of
  // their own syncs the WAL; gates are acknowledged only after that sync,
  // so what is acknowledged is on the disk as before. The writer no longer
  // waits for the disk (8% of its time in a replay).
  bool journal_sync_thread = true;
  // Within a commit, the writer offers the CPU to a waiting thread after
  // every this many events, and after every twice this many file writes
  // (its WAL frames, a checkpoint's pages; sched_yield; 0 = never). At
  // 10,000 scans/s a commit holds 1,000 events and 2,000 frames, and a
  // thread deciding a scan waited behind all of it: p99 1.6-3.5 ms, against
  // 3.1-4.6 ms with the writes unbroken and 3.9-4.7 ms with neither
  // yielding (BENCHMARKS, eighteenth and nineteenth passes).
  uint32_t journal_commit_yield_events = 32;
  uint32_t query_threads = 2;
  // A stay in a zone longer than this without an exit scan is cut here and
  // marked inferred (tracing); a zone's max_stay_hours in the policy wins.
  uint32_t presence_max_stay_hours = 16;
  uint32_t drain_timeout_ms = 10000;  // SIGTERM: how long to wait for commits
  // Movement, presence and health records are deleted after this many days;
  // audit entries after audit_days (at least 180). Checked every interval.
  uint32_t retention_days = 28;
  uint32_t retention_audit_days = 180;
  // Daily: each pass that deletes anything rewrites the file (VACUUM: 46 s
  // for a 4.1 GB store), during which commits wait.
  uint32_t retention_interval_minutes = 1440;
  // Prometheus /metrics on host:port; empty = off. Port 0 picks a free one.
  std::string metrics_listen;
  std::string metrics_port_file;  // if set, the bound metrics port is written here
  // Mutual TLS (the default): the campus CA that signs every client's
  // certificate, and this daemon's certificate and key (PEM files).
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Plain text, no certificates, every caller may make every call: for
  // development only; cordond logs a warning.
  bool insecure = false;
};

// What SIGHUP can change without a restart: logging and the heartbeat
// interval told to gates at their next Hello. Everything else needs a
// restart; a reload that changes it says so in the log and keeps the old value.
std::vector<std::string> SettingsNeedingRestart(const DaemonConfig& running,
                                                const DaemonConfig& reloaded);

// Reads a YAML config file over `config`. Every problem names the file, line
// and key; on error `config` is unchanged.
absl::Status LoadConfigFile(const std::string& path, DaemonConfig& config);
// Checks values that flags may also have set.
absl::Status ValidateConfig(const DaemonConfig& config);

}  // namespace cordon::app
