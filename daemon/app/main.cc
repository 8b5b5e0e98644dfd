// cordond: the campus access-control daemon.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "absl/status/statusor.h"
#include "daemon/app/config.h"
#include "daemon/app/daemon.h"
#include "daemon/app/logging.h"

namespace {

using cordon::app::DaemonConfig;

// Flags given on the command line; they override the config file, also
// when SIGHUP re-reads it.
struct Flags {
  std::string config_file, listen, data_dir, log_level, port_file, metrics_listen,
      metrics_port_file, tls_ca, tls_cert, tls_key;
  bool log_json = false;
  bool insecure = false;
};

// Defaults, then the config file, then flags.
absl::StatusOr<DaemonConfig> BuildConfig(const Flags& f) {
  DaemonConfig config;
  if (!f.config_file.empty()) {
    if (auto st = cordon::app::LoadConfigFile(f.config_file, config); !st.ok()) return st;
  }
  if (!f.listen.empty()) config.listen = f.listen;
  if (!f.data_dir.empty()) config.data_dir = f.data_dir;
  if (!f.log_level.empty()) config.log_level = f.log_level;
  if (f.log_json) config.log_json = true;
  if (!f.port_file.empty()) config.port_file = f.port_file;
  if (!f.metrics_listen.empty()) config.metrics_listen = f.metrics_listen;
  if (!f.metrics_port_file.empty()) config.metrics_port_file = f.metrics_port_file;
  if (!f.tls_ca.empty()) config.tls_ca_file = f.tls_ca;
  if (!f.tls_cert.empty()) config.tls_cert_file = f.tls_cert;
  if (!f.tls_key.empty()) config.tls_key_file = f.tls_key;
  if (f.insecure) config.insecure = true;
  if (auto st = cordon::app::ValidateConfig(config); !st.ok()) return st;
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App cli{"cordond: campus access control. Decides gate scans, records every movement, "
               "answers the security office."};
  cli.add_option("-c,--config", f.config_file,
                 "YAML config file (flags override it; SIGHUP re-reads it)");
  cli.add_option("--listen", f.listen, "host:port to listen on (default 127.0.0.1:7400)");
  cli.add_option("--data-dir", f.data_dir, "data directory (default ./cordon-data)");
  cli.add_option("--log-level", f.log_level, "trace, debug, info, warn or error");
  cli.add_flag("--log-json", f.log_json, "log JSON lines instead of text");
  cli.add_option("--port-file", f.port_file, "write the bound port here once serving");
  cli.add_option("--metrics-listen", f.metrics_listen,
                 "serve Prometheus metrics on host:port (default: off)");
  cli.add_option("--metrics-port-file", f.metrics_port_file,
                 "write the bound metrics port here");
  cli.add_option("--tls-ca", f.tls_ca, "the campus CA certificate (PEM) clients must be signed by");
  cli.add_option("--tls-cert", f.tls_cert, "this daemon's certificate (PEM)");
  cli.add_option("--tls-key", f.tls_key, "this daemon's private key (PEM)");
  cli.add_flag("--insecure", f.insecure,
               "plain text without certificates or roles: development only");
  CLI11_PARSE(cli, argc, argv);

  absl::StatusOr<DaemonConfig> config = BuildConfig(f);
  if (!config.ok()) {
    std::cerr << "cordond: " << config.status().message() << "\n";
    return 2;
  }
  cordon::app::ConfigureLogging(*config);

  // Block the signals before any thread starts, so every thread inherits the
  // mask and only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  cordon::SystemClock clock;
  cordon::app::Daemon daemon(*config, clock);
  if (auto st = daemon.Start(); !st.ok()) {
    spdlog::critical("cannot start: {}", st.ToString());
    return 1;
  }
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGHUP) {
      spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (f.config_file.empty()) {
      spdlog::info("SIGHUP: no config file to reload (start with --config FILE)");
      continue;
    }
    spdlog::info("SIGHUP: reloading {}", f.config_file);
    if (absl::StatusOr<DaemonConfig> reloaded = BuildConfig(f); reloaded.ok()) {
      daemon.Reload(*reloaded);
    } else {
      spdlog::error("reload failed: {}; still running with the previous config",
                    std::string(reloaded.status().message()));
    }
  }
  daemon.Shutdown();
  return 0;
}
