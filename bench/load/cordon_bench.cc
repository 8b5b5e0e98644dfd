// cordon-bench: load for a running cordond, and the raw limit beside it.
//
//   cordon-bench setup --daemon ADDR [--streams 200] [--people 10000]
//       registers gates bench-0.. and imports people CARD-B0..
//   cordon-bench run --daemon ADDR [--streams 200] [--rate 1000] [--seconds 10]
//                    [--warmup 2] [--people 10000] [--pid PID] [--json] [--timeline]
//                    [--held-policy] [--measuring-file F]
//       N gate streams, open loop at RATE scans/s in all (0: as fast as the
//       streams take them). Reports decision latency (scan sent -> decision
//       received, from the intended send time, so a stalled server is not
//       hidden; also split at the decision's decided_at: sent to decided,
//       decided to received), ack latency (scan sent -> the PersistAck or
//       Decision that says it is committed), durable ingest (acknowledged
//       scans/s), and the server's CPU and peak RSS.
//   cordon-bench echo --listen HOST:PORT [--port-file F] [--separate-acks]
//       the limit: a GateService that answers each scan at once with one
//       decision of the same size, which also acknowledges it, storing
//       nothing. --separate-acks: a PersistAck after each decision too, as
//       cordond did before Decisions carried committed_up_to_seq.
//   cordon-bench echo --store DB [--commit-window-ms 100] ...
//       the two limits together, in one process on the same cores: the
//       echo's answer at once, and each scan's rows (the event, its
//       presence interval) stored with plain prepared statements
//       (bench/plain_rows.h) into a copy of a cordond store, one
//       transaction per commit window, acknowledged as cordond does (in the
//       stream's next decision, or a PersistAck when none came in 500 ms
//       or the commit holds 8 or more of its scans). Serves a replaying
//       cordon-gate too (ScanBatch). What any server that decides at once
//       and stores durably pays here.
//   run and echo: --thread-slice-us N (default 100, 0 = the kernel's): the
//       time slice their gRPC threads and the sender ask for, as cordond's
//       deciding threads do (gates.decision_slice_us), so that the load
//       generator and the limits meet the same scheduler as cordond.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/plain_rows.h"
#include "cordon/v1/admin.grpc.pb.h"
#include "cordon/v1/gate.grpc.pb.h"
#include "daemon/cpu/thread_slice.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace cordon;

// --thread-slice-us; set once in main, before any thread starts.
std::chrono::microseconds g_thread_slice{100};

google::protobuf::Timestamp Now() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1'000'000);
  ts.set_nanos(static_cast<int32_t>((us % 1'000'000) * 1000));
  return ts;
}

// ---------------------------------------------------------------- the load

// A steady-clock instant on the wall clock, to compare with the server's
// timestamps (same host).
std::chrono::system_clock::time_point SystemAt(Clock::time_point t) {
  return std::chrono::system_clock::now() -
         std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - t);
}

struct Samples {
  std::mutex mu;
  std::vector<double> decision_us, ack_us;
  // Each decision latency split at the server's decided_at (one host, one
  // clock): scan sent to decided, and decided to decision received.
  std::vector<double> to_decided_us, from_decided_us;
  // (intended send time, decision latency), for the per-second timeline.
  std::vector<std::pair<Clock::time_point, double>> decisions_at;
  // Scans meant to be sent before this are the warm-up: not counted.
  Clock::time_point from;
};

// One gate stream. Writes are queued, one in flight; reads record latencies.
class GateStream final : public grpc::ClientBidiReactor<v1::GateMessage, v1::DaemonMessage> {
 public:
  // `held_policy`: the policy version the gate says it holds (0: none), as
  // in cordon-gate's Hello; cordond sends a copy only when it is not current.
  GateStream(v1::GateService::Stub* stub, std::string gate_id, int people, Samples& samples,
             int64_t held_policy = 0)
      : gate_id_(std::move(gate_id)), people_(people), samples_(samples) {
    stub->async()->Connect(&ctx_, this);
    v1::GateMessage hello;
    hello.mutable_hello()->set_gate_id(gate_id_);
    hello.mutable_hello()->set_policy_version(held_policy);
    hello.mutable_hello()->set_incarnation(std::random_device{}() | 1ULL << 40);
    Enqueue(std::move(hello));
    StartRead(&in_);
    AddHold();
    StartCall();
  }

  // A scan intended to be sent at `at`.
  void Scan(Clock::time_point at) {
    v1::GateMessage m;
    v1::Scan* s = m.mutable_scan();
    uint64_t seq;
    {
      std::lock_guard lock(mu_);
      seq = ++seq_;
      sent_at_.push_back(at);
      sent_at_wall_.push_back(SystemAt(at));
    }
    s->set_seq(seq);
    int person = static_cast<int>((seq * 7919 + std::hash<std::string>{}(gate_id_)) % people_);
    s->set_credential("CARD-B" + std::to_string(person));
    s->set_direction(seq % 2 ? v1::DIRECTION_IN : v1::DIRECTION_OUT);
    *s->mutable_gate_time() = Now();
    Enqueue(std::move(m));
  }

  void Finish() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    Pump();
  }
  void Cancel() {
    ctx_.TryCancel();
    Finish();  // releases the hold, so OnDone can come
  }
  void Wait() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return done_; });
  }
  uint64_t sent() {
    std::lock_guard lock(mu_);
    return seq_;
  }
  uint64_t acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  bool welcomed() const { return welcomed_.load(); }
  int64_t welcome_policy() const { return welcome_policy_.load(); }
  size_t policy_bytes() const { return policy_bytes_.load(); }
  grpc::Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  // The stream ended before the bench finished it: its error.
  std::optional<grpc::Status> ended_early() {
    std::lock_guard lock(mu_);
    if (!done_ || !ended_by_server_) return std::nullopt;
    return status_;
  }

 private:
  void Enqueue(v1::GateMessage m) {
    {
      std::lock_guard lock(mu_);
      out_.push_back(std::move(m));
    }
    Pump();
  }
  void Pump() {
    bool writes_done = false;
    {
      std::lock_guard lock(mu_);
      if (writing_ || finished_writes_ || done_) return;  // no write after OnDone
      if (!out_.empty()) {
        current_ = std::move(out_.front());
        out_.pop_front();
        writing_ = true;
      } else if (closing_) {
        finished_writes_ = true;
        writes_done = true;
      } else {
        return;
      }
    }
    if (writes_done) {
      StartWritesDone();
      RemoveHold();
    } else {
      StartWrite(&current_);
    }
  }
  void OnWriteDone(bool ok) override {
    cordon::cpu::MarkDecidingThread(g_thread_slice);
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok) {
        out_.clear();
        finished_writes_ = true;
      }
    }
    if (!ok) {
      RemoveHold();
      return;
    }
    Pump();
  }
  void OnReadDone(bool ok) override {
    cordon::cpu::MarkDecidingThread(g_thread_slice);
    if (!ok) {  // the stream is over; if cordond ended it, finish our side so OnDone comes
      {
        std::lock_guard lock(mu_);
        if (!closing_) ended_by_server_ = true;
        closing_ = true;
      }
      Pump();
      return;
    }
    auto now = Clock::now();
    if (in_.has_welcome()) {
      std::lock_guard lock(mu_);
      acked_ = in_.welcome().committed_up_to_seq();
      welcome_policy_.store(in_.welcome().policy_version());
      welcomed_.store(true);
    } else if (in_.has_decision()) {
      uint64_t seq = in_.decision().seq();
      std::lock_guard lock(mu_);
      Acknowledged(in_.decision().committed_up_to_seq(), now);
      if (seq >= 1 && seq <= sent_at_.size()) {
        double us = std::chrono::duration<double, std::micro>(now - sent_at_[seq - 1]).count();
        std::lock_guard slock(samples_.mu);
        if (sent_at_[seq - 1] < samples_.from) return StartRead(&in_);
        samples_.decision_us.push_back(us);
        samples_.decisions_at.emplace_back(sent_at_[seq - 1], us);
        const auto& at = in_.decision().decided_at();
        auto decided = std::chrono::system_clock::time_point(
            std::chrono::microseconds(at.seconds() * 1'000'000 + at.nanos() / 1000));
        samples_.to_decided_us.push_back(
            std::chrono::duration<double, std::micro>(decided - sent_at_wall_[seq - 1]).count());
        samples_.from_decided_us.push_back(
            std::chrono::duration<double, std::micro>(SystemAt(now) - decided).count());
      }
    } else if (in_.has_policy_update()) {
      // Freed here, before the run: freeing a copy of 10,000 people when the
      // next message is parsed over it would stall this client's first
      // decisions by hundreds of milliseconds (200 streams) and be charged
      // to the daemon.
      size_t bytes = in_.ByteSizeLong();
      in_.Clear();
      policy_bytes_.store(bytes);
    } else if (in_.has_persist_ack()) {
      std::lock_guard lock(mu_);
      Acknowledged(in_.persist_ack().up_to_seq(), now);
    }
    StartRead(&in_);
  }
  // A PersistAck, or a Decision's committed_up_to_seq. Holds mu_.
  void Acknowledged(uint64_t up_to, Clock::time_point now) {
    if (up_to <= acked_) return;
    std::lock_guard slock(samples_.mu);
    for (uint64_t s = acked_ + 1; s <= up_to && s <= sent_at_.size(); ++s) {
      if (sent_at_[s - 1] < samples_.from) continue;
      samples_.ack_us.push_back(
          std::chrono::duration<double, std::micro>(now - sent_at_[s - 1]).count());
    }
    acked_ = up_to;
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(mu_);
    status_ = s;
    done_ = true;
    done_cv_.notify_all();
  }

  grpc::ClientContext ctx_;
  const std::string gate_id_;
  const int people_;
  Samples& samples_;
  v1::DaemonMessage in_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  std::deque<v1::GateMessage> out_;
  v1::GateMessage current_;
  bool writing_ = false, closing_ = false, finished_writes_ = false, done_ = false;
  bool ended_by_server_ = false;
  uint64_t seq_ = 0, acked_ = 0;
  std::vector<Clock::time_point> sent_at_;
  std::vector<std::chrono::system_clock::time_point> sent_at_wall_;
  std::atomic<bool> welcomed_{false};
  std::atomic<int64_t> welcome_policy_{0};
  std::atomic<size_t> policy_bytes_{0};
  grpc::Status status_;
};

struct ProcStat {
  double cpu_s = 0;
  // cordond's storage threads: the writer, and the thread that waits for
  // the disk beside it (journal.sync_thread).
  double writer_cpu_s = 0;  // "cordon-writer"
  double sync_cpu_s = 0;    // "cordon-sync"
  long peak_rss_kb = 0;
};

// utime + stime in seconds from a /proc .../stat file.
double CpuSeconds(const std::string& stat_path) {
  std::ifstream stat(stat_path);
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

ProcStat ReadProc(int pid) {
  ProcStat p;
  if (pid <= 0) return p;
  const std::string dir = "/proc/" + std::to_string(pid);
  p.cpu_s = CpuSeconds(dir + "/stat");
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(dir + "/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == "cordon-writer") p.writer_cpu_s += CpuSeconds(task.path() / "stat");
    if (name == "cordon-sync") p.sync_cpu_s += CpuSeconds(task.path() / "stat");
  }
  std::ifstream status(dir + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) p.peak_rss_kb = std::stol(line.substr(6));
  }
  return p;
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

// Decision latency second by second of the run (by intended send time): a
// stall shows as one bad second rather than a smeared p99.
void PrintTimeline(Samples& samples, Clock::time_point start) {
  std::map<long, std::vector<double>> by_second;
  for (const auto& [at, us] : samples.decisions_at) {
    by_second[static_cast<long>(std::chrono::duration<double>(at - start).count())].push_back(us);
  }
  std::printf("  second   decisions   p50 µs   p99 µs   max µs\n");
  for (auto& [second, v] : by_second) {
    double max = *std::max_element(v.begin(), v.end());
    std::printf("  %6ld   %9zu %8.0f %8.0f %8.0f\n", second, v.size(), Percentile(v, 0.5),
                Percentile(v, 0.99), max);
  }
}

// False, with the first one's error, if a stream has ended on its own.
bool AllAlive(std::vector<std::unique_ptr<GateStream>>& gates, const char* when) {
  for (auto& g : gates) {
    if (auto ended = g->ended_early()) {
      std::cerr << "cordon-bench: a stream ended " << when << ": gRPC code " << ended->error_code()
                << ": " << ended->error_message() << "\n";
      for (auto& other : gates) other->Cancel();
      for (auto& other : gates) other->Wait();
      return false;
    }
  }
  return true;
}

// Waits up to 30 s for every stream's Welcome; false (streams cancelled,
// reason printed) if one did not come.
bool AllWelcomed(std::vector<std::unique_ptr<GateStream>>& gates) {
  auto deadline = Clock::now() + std::chrono::seconds(30);
  for (auto& g : gates) {
    while (!g->welcomed() && !g->ended_early() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!g->welcomed()) {
      std::cerr << "cordon-bench: a stream was not welcomed: "
                << g->ended_early().value_or(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no welcome in 30 s")).error_message()
                << " (did you run `cordon-bench setup`?)\n";
      for (auto& other : gates) other->Cancel();
      for (auto& other : gates) other->Wait();
      return false;
    }
  }
  return true;
}

// Written aside and renamed: a script waiting for the file never reads half.
void WriteWhole(const std::string& path, const std::string& text) {
  std::ofstream(path + ".tmp") << text;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

int Run(const std::string& daemon, int streams, double rate, double seconds, double warmup,
        int people, int pid, bool json, bool timeline, bool held_policy,
        const std::string& measuring_file) {
  cordon::cpu::MarkDecidingThread(g_thread_slice);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // As cordon-gate: the policy copy for a large campus is several megabytes.
  args.SetMaxReceiveMessageSize(256 << 20);
  // A few channels (connections) share the streams, as gates on a few
  // switches would; one connection per stream would measure the kernel.
  constexpr int kChannels = 4;
  std::vector<std::unique_ptr<v1::GateService::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    args.SetInt("cordon.bench.channel", i);
    stubs.push_back(v1::GateService::NewStub(
        grpc::CreateCustomChannel(daemon, grpc::InsecureChannelCredentials(), args)));
  }
  Samples samples;
  // Gates that have connected before hold the current policy, and cordond
  // sends them no copy: learn its version from one stream's Welcome.
  int64_t held = 0;
  if (held_policy) {
    std::vector<std::unique_ptr<GateStream>> probe;
    probe.push_back(std::make_unique<GateStream>(stubs[0].get(), "bench-0", people, samples));
    if (!AllWelcomed(probe)) return 1;
    held = probe[0]->welcome_policy();
    probe[0]->Cancel();
    probe[0]->Wait();
    if (!json) std::printf("streams say they hold policy v%lld (cordond sends no copies)\n",
                           static_cast<long long>(held));
  }
  std::vector<std::unique_ptr<GateStream>> gates;
  for (int i = 0; i < streams; ++i) {
    gates.push_back(std::make_unique<GateStream>(stubs[static_cast<size_t>(i % kChannels)].get(),
                                                 "bench-" + std::to_string(i), people, samples,
                                                 held));
  }
  if (!AllWelcomed(gates)) return 1;
  // cordond sends each gate its policy copy after Welcome; measure from when
  // they are delivered (the echo server sends none).
  auto copies_from = Clock::now();
  size_t with_copy = 0, copy_bytes = 0;
  while (Clock::now() < copies_from + std::chrono::seconds(60)) {
    with_copy = 0;
    for (auto& g : gates) {
      if (g->policy_bytes() > 0) {
        ++with_copy;
        copy_bytes = g->policy_bytes();
      }
    }
    if (with_copy == gates.size()) break;
    if (with_copy == 0 && Clock::now() > copies_from + std::chrono::seconds(1)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (with_copy > 0 && !json) {
    std::printf("policy copies: %zu streams got %zu bytes each, within %.0f ms of the last welcome\n",
                with_copy, copy_bytes,
                std::chrono::duration<double, std::milli>(Clock::now() - copies_from).count());
  }
  if (!AllAlive(gates, "before the run (a policy copy over the message limit?)")) return 1;
  auto start = Clock::now();
  auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  auto end = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  {
    std::lock_guard lock(samples.mu);
    samples.from = measure_from;
  }
  ProcStat before;
  uint64_t sent_before = 0;
  bool measuring = false;
  uint64_t issued = 0;
  size_t next = 0;
  // Open loop: each scan is sent at its time on the schedule and stamped
  // with that time, so a server that stalls is charged for every scan that
  // waited, not only the first.
  for (auto now = Clock::now(); now < end; now = Clock::now()) {
    if (!measuring && now >= measure_from) {
      measuring = true;
      before = ReadProc(pid);
      for (auto& g : gates) sent_before += g->sent();
      if (!measuring_file.empty()) {  // for a script starting something beside a steady load
        WriteWhole(measuring_file, "measuring\n");
      }
    }
    double elapsed = std::chrono::duration<double>(now - start).count();
    if (rate <= 0) {
      // Closed loop: keep at most 64 scans unacknowledged per stream.
      uint64_t sent = 0, acked = 0;
      for (auto& g : gates) {
        sent += g->sent();
        acked += g->acked();
      }
      const uint64_t window = 64ULL * static_cast<uint64_t>(streams);
      if (sent - acked >= window) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      for (uint64_t k = 0; k < window - (sent - acked); ++k) {
        gates[next]->Scan(now);
        next = (next + 1) % gates.size();
      }
      continue;
    }
    uint64_t due = static_cast<uint64_t>(elapsed * rate) + 1;
    for (; issued < due; ++issued) {
      auto at = start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(issued) / rate));
      gates[next]->Scan(at);
      next = (next + 1) % gates.size();
    }
    std::this_thread::sleep_until(std::min(
        end, start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(static_cast<double>(issued) / rate))));
  }
  if (!measuring) before = ReadProc(pid);
  // Let the last acks arrive (at most 10 s), then measure.
  auto drain = Clock::now() + std::chrono::seconds(10);
  auto all_acked = [&] {
    for (auto& g : gates) {
      if (g->acked() < g->sent()) return false;
    }
    return true;
  };
  while (!all_acked() && Clock::now() < drain) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto stop = Clock::now();
  ProcStat after = ReadProc(pid);
  if (!AllAlive(gates, "during the run")) return 1;
  uint64_t sent = 0, acked = 0;
  for (auto& g : gates) {
    sent += g->sent();
    acked += g->acked();
  }
  for (auto& g : gates) g->Finish();
  for (auto& g : gates) g->Wait();
  const bool all_acked_at_stop = acked == sent;
  // The measured part: what was sent after the warm-up (the warm-up's own
  // scans are acknowledged by now, or the run fails below).
  sent -= std::min(sent, sent_before);
  acked -= std::min(acked, sent_before);

  double wall = std::chrono::duration<double>(stop - measure_from).count();
  std::lock_guard lock(samples.mu);
  double d50 = Percentile(samples.decision_us, 0.50), d99 = Percentile(samples.decision_us, 0.99),
         d999 = Percentile(samples.decision_us, 0.999);
  double a50 = Percentile(samples.ack_us, 0.50), a99 = Percentile(samples.ack_us, 0.99);
  double cpu = after.cpu_s - before.cpu_s;
  double writer_cores = (after.writer_cpu_s - before.writer_cpu_s) / wall;
  double sync_cores = (after.sync_cpu_s - before.sync_cpu_s) / wall;
  double cpu_per_event_us = acked ? cpu * 1e6 / static_cast<double>(acked) : 0;
  if (json) {
    std::printf("{\"streams\":%d,\"rate\":%.0f,\"sent\":%llu,\"acked\":%llu,\"ingest_per_s\":%.0f,"
                "\"decision_us\":{\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f},"
                "\"to_decided_us\":{\"p50\":%.0f,\"p99\":%.0f},"
                "\"from_decided_us\":{\"p50\":%.0f,\"p99\":%.0f},"
                "\"ack_us\":{\"p50\":%.0f,\"p99\":%.0f},\"server_cpu_s\":%.2f,"
                "\"server_cpu_per_event_us\":%.1f,\"storage_core_share\":%.3f,"
                "\"writer_core_share\":%.3f,\"sync_core_share\":%.3f,"
                "\"server_peak_rss_mb\":%.1f}\n",
                streams, rate, static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(acked), static_cast<double>(acked) / wall, d50, d99,
                d999, Percentile(samples.to_decided_us, 0.50), Percentile(samples.to_decided_us, 0.99),
                Percentile(samples.from_decided_us, 0.50), Percentile(samples.from_decided_us, 0.99),
                a50, a99, cpu, cpu_per_event_us, writer_cores + sync_cores, writer_cores,
                sync_cores, static_cast<double>(after.peak_rss_kb) / 1024);
  } else {
    std::printf("streams %d, target %s scans/s, %.1f s measured after %.1f s of warm-up\n",
                streams, rate > 0 ? std::to_string(static_cast<long>(rate)).c_str() : "max", wall,
                warmup);
    std::printf("  sent %llu, acknowledged %llu: durable ingest %.0f scans/s\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(acked),
                static_cast<double>(acked) / wall);
    std::printf("  decision latency  p50 %8.0f µs  p99 %8.0f µs  p99.9 %8.0f µs\n", d50, d99, d999);
    std::printf("    sent to decided p50 %6.0f µs  p99 %8.0f µs; decided to received p50 %6.0f µs  p99 %8.0f µs\n",
                Percentile(samples.to_decided_us, 0.50), Percentile(samples.to_decided_us, 0.99),
                Percentile(samples.from_decided_us, 0.50), Percentile(samples.from_decided_us, 0.99));
    std::printf("  ack latency       p50 %8.0f µs  p99 %8.0f µs\n", a50, a99);
    if (pid > 0) {
      std::printf("  server CPU %.2f s (%.1f µs per acknowledged scan), peak RSS %.1f MB\n", cpu,
                  cpu_per_event_us, static_cast<double>(after.peak_rss_kb) / 1024);
      if (after.writer_cpu_s > 0) {
        std::printf("  storage threads %.1f%% of a core (cordon-writer %.1f%%, cordon-sync %.1f%%)\n",
                    100 * (writer_cores + sync_cores), 100 * writer_cores, 100 * sync_cores);
      }
    }
    if (timeline) PrintTimeline(samples, measure_from);
  }
  return all_acked_at_stop ? 0 : 3;
}

// ---------------------------------------------------------------- setup

int Setup(const std::string& daemon, int streams, int people) {
  auto admin = v1::AdminService::NewStub(grpc::CreateChannel(daemon, grpc::InsecureChannelCredentials()));
  for (int i = 0; i < streams; ++i) {
    grpc::ClientContext ctx;
    v1::RegisterGateRequest req;
    req.set_gate_id("bench-" + std::to_string(i));
    v1::Gate gate;
    auto st = admin->RegisterGate(&ctx, req, &gate);
    if (!st.ok() && st.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      std::cerr << "cordon-bench: register gate: " << st.error_message() << "\n";
      return 1;
    }
  }
  grpc::ClientContext ctx;
  v1::ImportRosterReport report;
  auto writer = admin->ImportRoster(&ctx, &report);
  v1::ImportRosterChunk chunk;
  for (int i = 0; i < people; ++i) {
    v1::RosterRow* row = chunk.add_rows();
    row->set_line(i + 2);
    row->set_external_id("B" + std::to_string(i));
    row->set_name("Bench Person " + std::to_string(i));
    row->set_category(i % 50 == 0 ? "resident_staff" : "student");
    row->add_credentials("CARD-B" + std::to_string(i));
    row->set_active(true);
    if (chunk.rows_size() == 2000) {
      writer->Write(chunk);
      chunk.Clear();
    }
  }
  if (chunk.rows_size() > 0) writer->Write(chunk);
  writer->WritesDone();
  auto st = writer->Finish();
  if (!st.ok()) {
    std::cerr << "cordon-bench: roster: " << st.error_message() << "\n";
    return 1;
  }
  std::printf("registered %d gates, imported %d people (%d added, %d updated)\n", streams, people,
              report.added(), report.updated());
  return 0;
}

// ---------------------------------------------------------------- echo

class EchoStream;

// What the durable echo's writer knows of one stream: where to send a
// PersistAck, and what has been committed and told. The stream clears
// `stream` in OnDone, under mu, before it is deleted.
struct EchoLink {
  std::mutex mu;
  EchoStream* stream = nullptr;                 // guarded by mu
  std::atomic<uint64_t> committed{0};           // highest seq committed
  std::atomic<uint64_t> told{0};                // highest committed seq the gate was told
  Clock::time_point committed_at;               // writer thread only
  size_t in_commit = 0;                         // writer thread only: scans in the last commit
  GateRowId gate = 0;
  uint64_t incarnation = 0;
};

// The rows a scan becomes, by credential and gate name (the bench campus
// of `cordon-bench setup`: people B0.. with cards CARD-B0..).
struct BenchCampus {
  std::unordered_map<std::string, std::pair<PersonId, CredentialHash>> card;
  std::unordered_map<std::string, GateRowId> gate;
};

absl::StatusOr<BenchCampus> LoadBenchCampus(const std::string& path) {
  auto db = sqlite::Database::Open(path, sqlite::Database::Mode::kReadOnly);
  if (!db.ok()) return db.status();
  BenchCampus campus;
  auto people = db->Prepare(
      "SELECT p.external_id, c.person_id, c.hash FROM credentials c JOIN people p ON p.id = c.person_id");
  if (!people.ok()) return people.status();
  for (;;) {
    auto row = people->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    campus.card["CARD-" + people->Text(0)] = {people->Int(1), CredentialHash::FromBytes(people->Blob(2))};
  }
  auto gates = db->Prepare("SELECT id, gate_id FROM gates");
  if (!gates.ok()) return gates.status();
  for (;;) {
    auto row = gates->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    campus.gate[gates->Text(1)] = gates->Int(0);
  }
  return campus;
}

// The durable echo's writer thread: group commit of plain rows every window.
class PlainJournal {
 public:
  PlainJournal(bench::PlainRows rows, std::chrono::milliseconds window)
      : rows_(std::move(rows)), window_(window) {
    thread_ = std::thread([this] { Run(); });
  }
  ~PlainJournal() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  // From a reaction: a short lock, never the disk.
  void Submit(std::shared_ptr<EchoLink> link, storage::RecordedEvent ev) {
    bool wake;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) first_at_ = Clock::now();
      queue_.emplace_back(std::move(link), std::move(ev));
      wake = queue_.size() == 1 || queue_.size() == kMaxBatch;
    }
    if (wake) wake_.notify_one();
  }

 private:
  static constexpr size_t kMaxBatch = 4096;
  void Run();
  void AckRound();

  bench::PlainRows rows_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<std::shared_ptr<EchoLink>, storage::RecordedEvent>> queue_;  // guarded by mu_
  Clock::time_point first_at_;  // of queue_.front(); guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::vector<std::shared_ptr<EchoLink>> untold_;  // writer thread only
  std::thread thread_;
};

// The raw limit: answers like cordond, decides nothing; stores nothing, or
// (with a PlainJournal) each scan's rows in plain SQLite.
class EchoStream final : public grpc::ServerBidiReactor<v1::GateMessage, v1::DaemonMessage> {
 public:
  EchoStream(bool separate_acks, PlainJournal* journal, const BenchCampus* campus)
      : separate_acks_(separate_acks), journal_(journal), campus_(campus) {
    if (journal_) {
      link_ = std::make_shared<EchoLink>();
      link_->stream = this;
    }
    StartRead(&in_);
  }

  // From the writer thread, under link_->mu (the stream is alive).
  void Ack(uint64_t up_to) {
    v1::DaemonMessage a;
    a.mutable_persist_ack()->set_up_to_seq(up_to);
    std::lock_guard lock(mu_);
    out_.push_back(std::move(a));
    PumpLocked();
  }

 private:
  void OnReadDone(bool ok) override {
    cordon::cpu::MarkDecidingThread(g_thread_slice);
    if (!ok) {
      Close();
      return;
    }
    if (journal_ && in_.has_hello()) {
      auto g = campus_->gate.find(in_.hello().gate_id());
      link_->gate = g == campus_->gate.end() ? 0 : g->second;
      link_->incarnation = in_.hello().incarnation();
    }
    if (journal_ && in_.has_scan()) Store(in_.scan());
    if (journal_ && in_.has_scan_batch()) {
      for (const v1::Scan& scan : in_.scan_batch().scans()) Store(scan);
    }
    std::lock_guard lock(mu_);
    if (in_.has_hello()) {
      v1::DaemonMessage m;
      m.mutable_welcome()->set_daemon_version("echo");
      *m.mutable_welcome()->mutable_daemon_time() = Now();
      out_.push_back(std::move(m));
    } else if (in_.has_scan()) {
      v1::DaemonMessage d;
      v1::Decision* dec = d.mutable_decision();
      dec->set_seq(in_.scan().seq());
      dec->set_allowed(true);
      dec->set_reason(v1::ALLOW_STUDENT);
      dec->set_message("Welcome, B***** P***** 1");
      dec->set_policy_version(2);
      *dec->mutable_decided_at() = Now();
      if (journal_) {
        // As cordond: what is committed so far rides on the decision.
        uint64_t committed = link_->committed.load(std::memory_order_acquire);
        dec->set_committed_up_to_seq(committed);
        link_->told.store(committed, std::memory_order_release);
        out_.push_back(std::move(d));
      } else if (separate_acks_) {
        out_.push_back(std::move(d));
        v1::DaemonMessage a;
        a.mutable_persist_ack()->set_up_to_seq(in_.scan().seq());
        out_.push_back(std::move(a));
      } else {
        // Nothing to store: this scan is as good as committed.
        dec->set_committed_up_to_seq(in_.scan().seq());
        out_.push_back(std::move(d));
      }
    } else if (in_.has_scan_batch() && !journal_ && in_.scan_batch().scans_size() > 0) {
      // A gate's replayed backlog: decided already, so no decisions (as
      // cordond); only the ack, at once here, after the commit when storing.
      v1::DaemonMessage a;
      a.mutable_persist_ack()->set_up_to_seq(in_.scan_batch().scans().rbegin()->seq());
      out_.push_back(std::move(a));
    }
    PumpLocked();
    StartRead(&in_);
  }
  // The rows cordond would store for an allowed student's scan.
  void Store(const v1::Scan& scan) {
    storage::RecordedEvent ev;
    ev.gate = link_->gate;
    ev.incarnation = link_->incarnation;
    ev.seq = scan.seq();
    if (auto c = campus_->card.find(scan.credential()); c != campus_->card.end()) {
      ev.person = c->second.first;
      ev.credential = c->second.second;
    }
    ev.direction = scan.direction() == v1::DIRECTION_OUT ? Direction::kOut : Direction::kIn;
    const TimePoint now = SystemClock().Now();
    ev.occurred_at = ev.received_at = ev.decided_at = now;
    ev.gate_time = FromUnixMicros(scan.gate_time().seconds() * 1'000'000 + scan.gate_time().nanos() / 1000);
    ev.allowed = true;
    ev.reason = Reason::kAllowStudent;
    ev.policy_version = 2;
    ev.zone = ev.direction == Direction::kIn ? "campus" : "";
    ev.at_zone = ev.direction == Direction::kIn ? "" : "campus";
    ev.rule = "student";
    journal_->Submit(link_, std::move(ev));
  }
  void OnWriteDone(bool ok) override {
    cordon::cpu::MarkDecidingThread(g_thread_slice);
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) out_.clear();
    PumpLocked();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closing_ = true;
    PumpLocked();
  }
  void PumpLocked() {
    if (writing_ || finished_) return;
    if (!out_.empty()) {
      current_ = std::move(out_.front());
      out_.pop_front();
      writing_ = true;
      StartWrite(&current_);
    } else if (closing_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }
  void OnDone() override {
    if (link_) {
      std::lock_guard lock(link_->mu);
      link_->stream = nullptr;
    }
    delete this;
  }

  v1::GateMessage in_;
  std::mutex mu_;
  std::deque<v1::DaemonMessage> out_;
  v1::DaemonMessage current_;
  bool writing_ = false, closing_ = false, finished_ = false;
  const bool separate_acks_;
  PlainJournal* const journal_;
  const BenchCampus* const campus_;
  std::shared_ptr<EchoLink> link_;
};

void PlainJournal::Run() {
  std::vector<storage::RecordedEvent> batch;
  std::vector<std::pair<std::shared_ptr<EchoLink>, uint64_t>> seqs;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Wakes every 100 ms at least, for the acks not told in a decision.
      wake_.wait_for(lock, std::chrono::milliseconds(100),
                     [&] { return stopping_ || !queue_.empty(); });
      if (!queue_.empty()) {
        wake_.wait_until(lock, first_at_ + window_,
                         [&] { return stopping_ || queue_.size() >= kMaxBatch; });
      }
      if (stopping_ && queue_.empty()) return;
      const size_t n = std::min(queue_.size(), kMaxBatch);
      for (size_t i = 0; i < n; ++i) {
        seqs.emplace_back(std::move(queue_.front().first), queue_.front().second.seq);
        batch.push_back(std::move(queue_.front().second));
        queue_.pop_front();
      }
      if (!queue_.empty()) first_at_ = Clock::now();
    }
    if (!batch.empty()) {
      if (auto st = rows_.Commit(batch); !st.ok()) {
        std::cerr << "cordon-bench echo: commit failed: " << st.ToString() << "\n";
        std::exit(1);  // a raw limit that loses rows measures nothing
      }
      const auto now = Clock::now();
      for (auto& [link, seq] : seqs) {
        if (seq > link->committed.load(std::memory_order_relaxed)) {
          link->committed.store(seq, std::memory_order_release);
          link->committed_at = now;
          untold_.push_back(link);
        }
        ++link->in_commit;
      }
      batch.clear();
      seqs.clear();
    }
    AckRound();
  }
}

// As cordond: a commit not told in a decision within 500 ms
// (gates.ack_delay_ms) goes in a PersistAck, and at once when it covers 8
// scans or more of the stream (a busy stream waiting for room).
void PlainJournal::AckRound() {
  const auto now = Clock::now();
  std::sort(untold_.begin(), untold_.end());
  untold_.erase(std::unique(untold_.begin(), untold_.end()), untold_.end());
  std::erase_if(untold_, [&](const std::shared_ptr<EchoLink>& link) {
    const bool bulk = link->in_commit >= 8;
    link->in_commit = 0;
    const uint64_t committed = link->committed.load(std::memory_order_acquire);
    if (link->told.load(std::memory_order_acquire) >= committed) return true;
    if (!bulk && now - link->committed_at < std::chrono::milliseconds(500)) return false;
    std::lock_guard lock(link->mu);
    if (link->stream != nullptr) {
      link->told.store(committed, std::memory_order_release);
      link->stream->Ack(committed);
    }
    return true;
  });
}

class EchoService final : public v1::GateService::CallbackService {
 public:
  EchoService(bool separate_acks, PlainJournal* journal, const BenchCampus* campus)
      : separate_acks_(separate_acks), journal_(journal), campus_(campus) {}

 private:
  grpc::ServerBidiReactor<v1::GateMessage, v1::DaemonMessage>* Connect(
      grpc::CallbackServerContext*) override {
    return new EchoStream(separate_acks_, journal_, campus_);
  }
  const bool separate_acks_;
  PlainJournal* const journal_;
  const BenchCampus* const campus_;
};

int Echo(const std::string& listen, const std::string& port_file, bool separate_acks,
         const std::string& store, int commit_window_ms) {
  std::optional<BenchCampus> campus;
  std::optional<PlainJournal> journal;
  if (!store.empty()) {
    // Read first, opened for writing only once it is a store with a
    // campus: a wrong path is left as it was.
    auto loaded = LoadBenchCampus(store);
    if (!loaded.ok()) {
      std::cerr << "cordon-bench echo: " << store << ": " << loaded.status().ToString() << "\n";
      return 1;
    }
    if (loaded->card.empty() || loaded->gate.empty()) {
      std::cerr << "cordon-bench echo: " << store
                << " has no people or gates: run `cordon-bench setup` against a cordond on it\n";
      return 1;
    }
    auto rows = bench::PlainRows::Open(store);
    if (!rows.ok()) {
      std::cerr << "cordon-bench echo: " << store << ": " << rows.status().ToString() << "\n";
      return 1;
    }
    campus = std::move(*loaded);
    journal.emplace(std::move(*rows), std::chrono::milliseconds(commit_window_ms));
  }
  EchoService service(separate_acks, journal ? &*journal : nullptr, campus ? &*campus : nullptr);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::cerr << "cordon-bench: cannot listen on " << listen << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    WriteWhole(port_file, std::to_string(port) + "\n");
  }
  std::cerr << "cordon-bench echo on port " << port << "\n";
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cordon-bench: load a running cordond, and measure the raw gRPC limit beside it"};
  app.require_subcommand(1);
  std::string daemon = "127.0.0.1:7400", listen = "127.0.0.1:0", port_file;
  int streams = 200, people = 10000, pid = 0;
  double rate = 1000, seconds = 10, warmup = 2;
  bool json = false, timeline = false, held_policy = false;
  auto* setup = app.add_subcommand("setup", "register gates bench-0.. and import people");
  setup->add_option("--daemon", daemon);
  setup->add_option("--streams", streams);
  setup->add_option("--people", people);
  auto* run = app.add_subcommand("run", "drive N gate streams and report");
  run->add_option("--daemon", daemon);
  run->add_option("--streams", streams, "gate streams (default 200)");
  run->add_option("--rate", rate, "scans/s in all; 0 = as fast as acknowledged (default 1000)");
  run->add_option("--seconds", seconds, "how long to measure (default 10)");
  run->add_option("--warmup", warmup,
                  "seconds of the same load first, not counted (default 2): connections, "
                  "thread pools and caches warm up");
  run->add_option("--people", people, "people the scans cycle through (default 10000)");
  run->add_option("--pid", pid, "server process id, for its CPU and peak RSS");
  run->add_flag("--json", json);
  run->add_flag("--timeline", timeline, "also print decision latency second by second");
  run->add_flag("--held-policy", held_policy,
                "streams say they hold cordond's current policy, as gates that connected "
                "before do, so cordond sends no policy copies (default: each gets one)");
  std::string measuring_file;
  run->add_option("--measuring-file", measuring_file,
                  "written once the streams are connected and warm and measuring begins");
  auto* echo = app.add_subcommand("echo", "serve the raw-limit echo GateService");
  echo->add_option("--listen", listen);
  echo->add_option("--port-file", port_file);
  bool separate_acks = false;
  echo->add_flag("--separate-acks", separate_acks,
                 "also send a PersistAck after each decision (two messages a scan)");
  std::string store;
  int commit_window_ms = 100;
  echo->add_option("--store", store,
                   "also store each scan's rows with plain SQLite in this copy of a cordond "
                   "store (people and gates from `cordon-bench setup`)");
  echo->add_option("--commit-window-ms", commit_window_ms,
                   "with --store: commit every this many ms, as cordond's journal.commit_window_ms")
      ->check(CLI::Range(1, 10000));
  int slice_us = 100;
  // The range Linux accepts, as cordond's gates.decision_slice_us.
  auto slice_ok = [](const std::string& v) -> std::string {
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (!v.empty() && *end == '\0' && (n == 0 || (n >= 100 && n <= 100000))) return {};
    return "must be 0 (the kernel's slice) or 100 to 100000 µs, not '" + v + "'";
  };
  for (auto* sub : {run, echo}) {
    sub->add_option("--thread-slice-us", slice_us,
                    "time slice the gRPC threads and the sender ask for, as cordond's deciding "
                    "threads do (Linux 6.12+); 0 = the kernel's (default 100)")
        ->check(slice_ok);
  }
  CLI11_PARSE(app, argc, argv);
  g_thread_slice = std::chrono::microseconds(slice_us);
  if (setup->parsed()) return Setup(daemon, streams, people);
  if (run->parsed()) {
    return Run(daemon, streams, rate, seconds, warmup, people, pid, json, timeline, held_policy,
               measuring_file);
  }
  return Echo(listen, port_file, separate_acks, store, commit_window_ms);
}
