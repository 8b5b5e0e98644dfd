#include "daemon/app/config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <set>

namespace cordon::app {
namespace {

std::string Where(const std::string& path, const YAML::Node& node, const std::string& key) {
  return path + ":" + std::to_string(node.Mark().line + 1) + ": " + key;
}

}  // namespace

absl::Status LoadConfigFile(const std::string& path, DaemonConfig& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return absl::NotFoundError("cannot read config file " + path);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return absl::OkStatus();  // an empty file keeps the defaults
  if (!root.IsMap()) return absl::InvalidArgumentError(path + ": must be a mapping of keys");

  DaemonConfig next = config;
  using Setter = std::function<absl::Status(const YAML::Node&, const std::string& where)>;
  auto str = [](std::string& out) -> Setter {
    return [&out](const YAML::Node& n, const std::string& where) {
      if (!n.IsScalar()) return absl::InvalidArgumentError(where + ": must be a string");
      out = n.as<std::string>();
      return absl::OkStatus();
    };
  };
  auto uint = [](uint32_t& out, bool zero_allowed = false) -> Setter {
    return [&out, zero_allowed](const YAML::Node& n, const std::string& where) {
      try {
        if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "not a scalar");
        long long v = n.as<long long>();
        if (v < (zero_allowed ? 0 : 1) || v > 4'000'000'000LL) {
          throw YAML::Exception(n.Mark(), "out of range");
        }
        out = static_cast<uint32_t>(v);
        return absl::OkStatus();
      } catch (const YAML::Exception&) {
        return absl::InvalidArgumentError(where + (zero_allowed ? ": must be a whole number, 0 or more"
                                                                : ": must be a positive integer"));
      }
    };
  };
  auto boolean = [](bool& out) -> Setter {
    return [&out](const YAML::Node& n, const std::string& where) {
      if (!n.IsScalar() || (n.as<std::string>() != "true" && n.as<std::string>() != "false")) {
        return absl::InvalidArgumentError(where + ": must be true or false");
      }
      out = n.as<std::string>() == "true";
      return absl::OkStatus();
    };
  };
  std::map<std::string, std::map<std::string, Setter>> sections = {
      {"", {{"listen", str(next.listen)}, {"data_dir", str(next.data_dir)},
            {"port_file", str(next.port_file)}}},
      {"log", {{"level", str(next.log_level)}, {"format", [&next](const YAML::Node& n,
                                                                 const std::string& where) {
         if (!n.IsScalar() || (n.as<std::string>() != "text" && n.as<std::string>() != "json")) {
           return absl::InvalidArgumentError(where + ": must be text or json");
         }
         next.log_json = n.as<std::string>() == "json";
         return absl::OkStatus();
       }}}},
      {"gates", {{"heartbeat_interval_ms", uint(next.heartbeat_interval_ms)},
                 {"clock_skew_alert_ms", uint(next.clock_skew_alert_ms)},
                 {"ack_delay_ms", uint(next.gate_ack_delay_ms, true)},
                 {"max_messages_per_second", uint(next.gate_max_messages_per_second)},
                 {"message_burst", uint(next.gate_message_burst)},
                 {"decision_slice_us", uint(next.gate_decision_slice_us, true)}}},
      {"journal", {{"max_batch", uint(next.journal_max_batch)},
                   {"commit_window_ms", uint(next.journal_commit_window_ms, true)},
                   {"max_uncommitted", uint(next.journal_max_uncommitted)},
                   {"writer_yields", boolean(next.journal_writer_yields)},
                   {"sync_thread", boolean(next.journal_sync_thread)},
                   {"commit_yield_events", uint(next.journal_commit_yield_events, true)}}},
      {"queries", {{"threads", uint(next.query_threads)}}},
      {"presence", {{"max_stay_hours", uint(next.presence_max_stay_hours)}}},
      {"shutdown", {{"drain_timeout_ms", uint(next.drain_timeout_ms)}}},
      {"retention", {{"days", uint(next.retention_days)},
                     {"audit_days", uint(next.retention_audit_days)},
                     {"interval_minutes", uint(next.retention_interval_minutes)}}},
      {"metrics", {{"listen", str(next.metrics_listen)}, {"port_file", str(next.metrics_port_file)}}},
      {"tls", {{"ca_file", str(next.tls_ca_file)}, {"cert_file", str(next.tls_cert_file)},
               {"key_file", str(next.tls_key_file)},
               {"insecure", boolean(next.insecure)}}},
  };

  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    if (auto it = sections[""].find(key); it != sections[""].end()) {
      if (auto st = it->second(value, Where(path, value, key)); !st.ok()) return st;
      continue;
    }
    auto section = sections.find(key);
    if (section == sections.end() || key.empty()) {
      return absl::InvalidArgumentError(Where(path, kv.first, key) + ": unknown key");
    }
    if (!value.IsMap()) {
      return absl::InvalidArgumentError(Where(path, value, key) + ": must be a mapping");
    }
    for (const auto& sub : value) {
      std::string subkey = sub.first.as<std::string>();
      auto setter = section->second.find(subkey);
      if (setter == section->second.end()) {
        return absl::InvalidArgumentError(Where(path, sub.first, key + "." + subkey) +
                                          ": unknown key");
      }
      if (auto st = setter->second(sub.second, Where(path, sub.second, key + "." + subkey));
          !st.ok()) {
        return st;
      }
    }
  }
  config = next;
  return absl::OkStatus();
}

absl::Status ValidateConfig(const DaemonConfig& config) {
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.count(config.log_level)) {
    return absl::InvalidArgumentError("log level '" + config.log_level +
                                      "' is not one of trace, debug, info, warn, error");
  }
  if (config.listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError("listen address '" + config.listen +
                                      "' must be host:port, e.g. 127.0.0.1:7400");
  }
  if (config.data_dir.empty()) return absl::InvalidArgumentError("data_dir must not be empty");
  if (config.journal_commit_window_ms > 1000) {
    return absl::InvalidArgumentError("journal.commit_window_ms must be at most 1000 (gates "
                                      "wait this long for their acknowledgements)");
  }
  if (config.gate_ack_delay_ms > 10000) {
    return absl::InvalidArgumentError("gates.ack_delay_ms must be at most 10000 (gates keep "
                                      "scans in their outbox until told they are stored)");
  }
  if (config.gate_decision_slice_us != 0 &&
      (config.gate_decision_slice_us < 100 || config.gate_decision_slice_us > 100000)) {
    return absl::InvalidArgumentError("gates.decision_slice_us must be 0 (the kernel's default) "
                                      "or 100 to 100000 (the range Linux accepts)");
  }
  if (config.journal_max_uncommitted < 100) {
    return absl::InvalidArgumentError("journal.max_uncommitted must be at least 100 (gate "
                                      "streams pause above it)");
  }
  if (config.retention_audit_days < 180) {
    return absl::InvalidArgumentError("retention.audit_days must be at least 180 (audit entries "
                                      "are kept at least half a year)");
  }
  if (!config.insecure && (config.tls_ca_file.empty() || config.tls_cert_file.empty() ||
                           config.tls_key_file.empty())) {
    return absl::InvalidArgumentError(
        "mutual TLS needs tls.ca_file, tls.cert_file and tls.key_file (or --tls-ca, --tls-cert, "
        "--tls-key; deploy/pki/cordon-pki creates them); --insecure runs without TLS, for "
        "development only");
  }
  if (!config.metrics_listen.empty() && config.metrics_listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError("metrics listen address '" + config.metrics_listen +
                                      "' must be host:port, e.g. 127.0.0.1:9464");
  }
  return absl::OkStatus();
}

std::vector<std::string> SettingsNeedingRestart(const DaemonConfig& running,
                                                const DaemonConfig& reloaded) {
  std::vector<std::string> changed;
  auto check = [&](const char* name, bool differs) {
    if (differs) changed.emplace_back(name);
  };
  check("listen", running.listen != reloaded.listen);
  check("data_dir", running.data_dir != reloaded.data_dir);
  check("port_file", running.port_file != reloaded.port_file);
  check("journal.max_batch", running.journal_max_batch != reloaded.journal_max_batch);
  check("journal.writer_yields", running.journal_writer_yields != reloaded.journal_writer_yields);
  check("journal.sync_thread", running.journal_sync_thread != reloaded.journal_sync_thread);
  check("journal.commit_yield_events",
        running.journal_commit_yield_events != reloaded.journal_commit_yield_events);
  check("journal.commit_window_ms",
        running.journal_commit_window_ms != reloaded.journal_commit_window_ms);
  check("journal.max_uncommitted",
        running.journal_max_uncommitted != reloaded.journal_max_uncommitted);
  check("gates.clock_skew_alert_ms", running.clock_skew_alert_ms != reloaded.clock_skew_alert_ms);
  check("gates.ack_delay_ms", running.gate_ack_delay_ms != reloaded.gate_ack_delay_ms);
  check("gates.max_messages_per_second",
        running.gate_max_messages_per_second != reloaded.gate_max_messages_per_second ||
            running.gate_message_burst != reloaded.gate_message_burst);
  check("gates.decision_slice_us",
        running.gate_decision_slice_us != reloaded.gate_decision_slice_us);
  check("queries.threads", running.query_threads != reloaded.query_threads);
  check("presence.max_stay_hours",
        running.presence_max_stay_hours != reloaded.presence_max_stay_hours);
  check("shutdown.drain_timeout_ms", running.drain_timeout_ms != reloaded.drain_timeout_ms);
  check("retention", running.retention_days != reloaded.retention_days ||
                         running.retention_audit_days != reloaded.retention_audit_days ||
                         running.retention_interval_minutes != reloaded.retention_interval_minutes);
  check("metrics.listen", running.metrics_listen != reloaded.metrics_listen);
  check("metrics.port_file", running.metrics_port_file != reloaded.metrics_port_file);
  check("tls", running.tls_ca_file != reloaded.tls_ca_file ||
                   running.tls_cert_file != reloaded.tls_cert_file ||
                   running.tls_key_file != reloaded.tls_key_file ||
                   running.insecure != reloaded.insecure);
  return changed;
}

}  // namespace cordon::app
