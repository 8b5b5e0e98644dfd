// cordond: the campus access-control daemon.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "daemon/app/config.h"
#include "daemon/app/daemon.h"

namespace {

void SetUpLogging(const cordon::app::DaemonConfig& config) {
  auto logger = spdlog::stderr_color_mt("cordond");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (config.log_json) {
    spdlog::set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","message":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
}

}  // namespace

int main(int argc, char** argv) {
  cordon::app::DaemonConfig config;
  std::string config_file;
  CLI::App cli{"cordond: campus access control. Decides gate scans, records every movement, "
               "answers the security office."};
  cli.add_option("-c,--config", config_file, "YAML config file (flags override it)");
  std::string listen, data_dir, log_level, port_file;
  bool log_json = false;
  cli.add_option("--listen", listen, "host:port to listen on (default 127.0.0.1:7400)");
  cli.add_option("--data-dir", data_dir, "data directory (default ./cordon-data)");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  cli.add_flag("--log-json", log_json, "log JSON lines instead of text");
  cli.add_option("--port-file", port_file, "write the bound port here once serving");
  CLI11_PARSE(cli, argc, argv);

  if (!config_file.empty()) {
    if (auto st = cordon::app::LoadConfigFile(config_file, config); !st.ok()) {
      std::cerr << "cordond: " << st.message() << "\n";
      return 2;
    }
  }
  if (!listen.empty()) config.listen = listen;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!log_level.empty()) config.log_level = log_level;
  if (log_json) config.log_json = true;
  if (!port_file.empty()) config.port_file = port_file;
  if (auto st = cordon::app::ValidateConfig(config); !st.ok()) {
    std::cerr << "cordond: " << st.message() << "\n";
    return 2;
  }
  SetUpLogging(config);

  // Block the signals before any thread starts, so every thread inherits the
  // mask and only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  cordon::SystemClock clock;
  cordon::app::Daemon daemon(config, clock);
  if (auto st = daemon.Start(); !st.ok()) {
    spdlog::critical("cannot start: {}", st.ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  daemon.Shutdown();
  return 0;
}
