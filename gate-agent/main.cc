// cordon-gate: the gate agent. Reads scans, keeps them in a local outbox,
// streams them to cordond, shows the decisions and drives the turnstile.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "tls/client_credentials.h"
#include "core/identifiers.h"
#include "core/offline.h"
#include "gate-agent/agent.h"
#include "gate-agent/agent_metrics.h"
#include "gate-agent/daemon_link.h"
#include "gate-agent/display.h"
#include "gate-agent/outbox.h"
#include "gate-agent/scan_sources.h"
#include "gate-agent/turnstile.h"
#include "metrics/exporter.h"

int main(int argc, char** argv) {
  using namespace cordon::gate;
  std::string gate_id, daemon = "127.0.0.1:7400", outbox_path, input, scanner_listen, on_allow,
      metrics_listen, metrics_port_file;
  bool json = false;
  double rate = 0;
  int64_t decision_timeout_ms = 3000, drain_timeout_s = 0, initial_backoff_ms = 200,
          max_backoff_ms = 10000, welcome_timeout_ms = 10000;
  CLI::App cli{"cordon-gate: the gate agent. Reads 'CREDENTIAL in|out' lines, stores each scan "
               "in a local outbox, streams it to cordond and shows the decision."};
  cli.add_option("-g,--gate-id", gate_id, "this gate's registered id, e.g. north-1")->required();
  cli.add_option("-d,--daemon", daemon, "cordond address (default 127.0.0.1:7400)")
      ->envname("CORDON_DAEMON");
  cli.add_option("--outbox", outbox_path, "outbox file (default ./GATE_ID.outbox.db)");
  cli.add_option("-i,--input", input,
                 "read scans from this file ('-' for stdin); a restarted agent resumes after "
                 "the last line it stored");
  cli.add_option("--rate", rate, "with --input FILE: scans per second (default: as fast as read)");
  cli.add_option("--scanner-listen", scanner_listen,
                 "accept scanner connections on HOST:PORT (lines over TCP)");
  cli.add_flag("--json", json, "print JSON lines instead of readable lines");
  cli.add_option("--on-allow", on_allow,
                 "shell command run for each timely allow (the turnstile hook); gets "
                 "CORDON_GATE, CORDON_SEQ, CORDON_DIRECTION, CORDON_REASON");
  cli.add_option("--decision-timeout-ms", decision_timeout_ms,
                 "a decision arriving later than this after the scan is shown but not acted on");
  cli.add_option("--drain-timeout-s", drain_timeout_s,
                 "when the input ends: seconds to wait for the last acks (0: forever)");
  cli.add_option("--initial-backoff-ms", initial_backoff_ms, "first reconnect delay");
  cli.add_option("--max-backoff-ms", max_backoff_ms, "longest reconnect delay");
  cli.add_option("--welcome-timeout-ms", welcome_timeout_ms,
                 "give up on a connection the daemon has not welcomed within this")
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  std::string offline_limits;
  cli.add_option("--offline-limits", offline_limits,
                 "offline: how old the policy copy may be to admit each category, e.g. "
                 "'student=24h,single_visit=4h,contractor=0' (defaults: resident_staff=72h, "
                 "student=24h, single_visit=4h, contractor=4h; 'none' = no limit)");
  cli.add_option("--metrics-listen", metrics_listen,
                 "serve Prometheus metrics on HOST:PORT (default: off)");
  cli.add_option("--metrics-port-file", metrics_port_file, "write the bound metrics port here");
  cordon::tls::ClientTls tls;
  cli.add_option("--tls-ca", tls.ca_file, "the campus CA certificate (PEM; env CORDON_TLS_CA)");
  cli.add_option("--tls-cert", tls.cert_file,
                 "this gate's certificate (PEM; env CORDON_TLS_CERT); its CN must be the gate id");
  cli.add_option("--tls-key", tls.key_file, "its private key (PEM; env CORDON_TLS_KEY)");
  cli.add_flag("--insecure", tls.insecure,
               "plain text, for a daemon started with --insecure (env CORDON_INSECURE=1)");
  CLI11_PARSE(cli, argc, argv);

  if (auto problem = cordon::CheckGateId(gate_id); !problem.empty()) {
    std::cerr << "cordon-gate: --gate-id " << problem << "\n";
    return kExitError;
  }
  if (outbox_path.empty()) outbox_path = gate_id + ".outbox.db";

  sigset_t signals;  // blocked before any thread starts; a dedicated thread waits for them
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // After the mask: credentials start gRPC's threads, which must not take the signals.
  auto credentials = cordon::tls::ChannelCredentials(cordon::tls::FromEnvironment(tls));
  if (!credentials.ok()) {
    std::cerr << "cordon-gate: " << credentials.status().message() << "\n";
    return kExitError;
  }

  auto outbox = Outbox::Open(outbox_path, gate_id);
  if (!outbox.ok()) {
    std::cerr << "cordon-gate: cannot open outbox " << outbox_path << ": "
              << outbox.status().message() << "\n";
    return kExitError;
  }
  auto limits = cordon::OfflineLimits::Parse(offline_limits);
  if (!limits.ok()) {
    std::cerr << "cordon-gate: --offline-limits: " << limits.status().message() << "\n";
    return kExitError;
  }
  // A fake clock for tests: CORDON_TEST_CLOCK_SPEED=N runs this gate's clock
  // N times faster than real time (a day in minutes); CORDON_TEST_CLOCK_OFFSET_S
  // sets it that many seconds off.
  std::unique_ptr<cordon::Clock> clock_holder;
  const char* speed = std::getenv("CORDON_TEST_CLOCK_SPEED");
  const char* clock_offset = std::getenv("CORDON_TEST_CLOCK_OFFSET_S");
  if (speed || clock_offset) {
    clock_holder = std::make_unique<cordon::ScaledClock>(
        speed ? std::atof(speed) : 1.0,
        std::chrono::seconds(clock_offset ? std::atoll(clock_offset) : 0));
    std::cerr << "cordon-gate: test clock (speed " << (speed ? speed : "1") << ", offset "
              << (clock_offset ? clock_offset : "0") << " s)" << std::endl;
  } else {
    clock_holder = std::make_unique<cordon::SystemClock>();
  }
  const cordon::Clock& clock = *clock_holder;
  Display display(std::cout, gate_id, json);
  Turnstile turnstile(on_allow);
  AgentOptions options{gate_id, std::chrono::milliseconds(decision_timeout_ms),
                       std::chrono::seconds(drain_timeout_s), *limits};
  cordon::metrics::Exporter exporter;
  AgentMetrics metrics(exporter.registry());
  Agent agent(options, **outbox, display, turnstile, metrics, clock);
  if (!metrics_listen.empty()) {
    exporter.AddCallbackGauge("cordon_gate_outbox_depth",
                              "Scans stored on the gate and not yet acknowledged by the daemon",
                              [&metrics] { return metrics.outbox_depth(); });
    exporter.AddCallbackGauge("cordon_gate_link_up", "1 while the stream to the daemon is up",
                              [&metrics] { return metrics.link_up(); });
    if (auto st = exporter.Listen(metrics_listen); !st.ok()) {
      std::cerr << "cordon-gate: " << st.message() << "\n";
      return kExitError;
    }
    std::cerr << "cordon-gate: metrics on http://" << metrics_listen << "/metrics (port "
              << exporter.port() << ")" << std::endl;
    if (!metrics_port_file.empty()) {
      std::string tmp = metrics_port_file + ".tmp";
      { std::ofstream(tmp) << exporter.port() << "\n"; }
      std::rename(tmp.c_str(), metrics_port_file.c_str());  // atomic for readers
    }
  }
  if (auto st = agent.Load(); !st.ok()) {
    std::cerr << "cordon-gate: cannot read outbox: " << st.message() << "\n";
    return kExitError;
  }

  std::vector<std::unique_ptr<ScanSource>> sources;
  if (!input.empty() && input != "-") {
    auto offset = (*outbox)->InputOffset(input);
    if (!offset.ok()) {
      std::cerr << "cordon-gate: " << offset.status().message() << "\n";
      return kExitError;
    }
    if (*offset > 0) std::cerr << "cordon-gate: resuming " << input << " at byte " << *offset << "\n";
    sources.push_back(FileSource(input, *offset, rate));
  } else if (input == "-" || scanner_listen.empty()) {
    sources.push_back(StdinSource());
  }
  if (!scanner_listen.empty()) {
    auto colon = scanner_listen.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "cordon-gate: --scanner-listen must be HOST:PORT\n";
      return kExitError;
    }
    std::string host = scanner_listen.substr(0, colon);
    int port = std::atoi(scanner_listen.substr(colon + 1).c_str());
    sources.push_back(TcpSource(host, static_cast<uint16_t>(port), [host](uint16_t bound) {
      std::cerr << "cordon-gate: listening for scanners on " << host << ":" << bound << std::endl;
    }));
  }

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(initial_backoff_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(max_backoff_ms));
  // The policy copy for a large campus is several megabytes.
  args.SetMaxReceiveMessageSize(256 << 20);
  // Each attempt gets its own connection (no subchannel shared across
  // attempts), so reconnecting follows our backoff and nothing else.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channels = [&daemon, &args, creds = *credentials] {
    return grpc::CreateCustomChannel(daemon, creds, args);
  };
  DaemonLink link(channels,
                  Backoff{std::chrono::milliseconds(initial_backoff_ms),
                          std::chrono::milliseconds(max_backoff_ms),
                          std::chrono::milliseconds(welcome_timeout_ms)},
                  DaemonLink::Handlers{
                      [&] { return agent.MakeHello(); },
                      [&](const cordon::v1::Welcome& w, uint64_t generation) {
                        agent.PostLinkUp(w, generation);
                      },
                      [&](const cordon::v1::DaemonMessage& m) { agent.PostMessage(m); },
                      [&](const grpc::Status& s, std::chrono::milliseconds retry) {
                        agent.PostLinkDown(s, retry);
                      },
                      [&](const grpc::Status& s) { agent.PostRefused(s); },
                  });
  agent.SetSender([&](const cordon::v1::GateMessage& m, uint64_t generation) {
    return link.Send(m, generation);
  });

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGTERM || sig == SIGINT) agent.PostStop();
  });
  signal_thread.detach();  // blocked in sigwait until exit; holds no resources

  int finite = 0;
  for (auto& source : sources) {
    finite += source->Finite() ? 1 : 0;
    source->Start(ScanSink{[&](ScanLines lines) { agent.PostLines(std::move(lines)); },
                           [&](const std::string& s) { agent.PostInputEnded(s); }});
  }
  link.Start();
  int code = agent.Run(finite);
  link.Stop();
  for (auto& source : sources) source->Stop();
  return code;
}
