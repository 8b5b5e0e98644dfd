#include "gate-agent/scan_sources.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <istream>
#include <list>
#include <mutex>

namespace cordon::gate {
namespace {

constexpr size_t kBatchLines = 256;

class StdinScanSource final : public ScanSource {
 public:
  void Start(ScanSink sink) override {
    thread_ = std::thread([this, sink = std::move(sink)] {
      int64_t line_number = 0;
      std::string line;
      // One line at a time: a scanner on stdin expects each scan decided now.
      while (!stopping_.load() && WaitReadable() && std::getline(std::cin, line)) {
        ++line_number;
        sink.on_lines(ScanLines{"stdin", line_number, {line}, std::nullopt});
      }
      if (!stopping_.load()) sink.on_end("stdin");
    });
  }
  void Stop() override {
    stopping_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  bool Finite() const override { return true; }

 private:
  // Polls so that Stop() is noticed within 200 ms even with no input.
  bool WaitReadable() {
    if (std::cin.rdbuf()->in_avail() > 0) return true;
    for (;;) {
      if (stopping_.load()) return false;
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      int rc = ::poll(&pfd, 1, 200);
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return true;  // let getline report the error
    }
  }
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

class FileScanSource final : public ScanSource {
 public:
  FileScanSource(std::string path, int64_t start_offset, double rate)
      : path_(std::move(path)), start_offset_(start_offset), rate_(rate) {}

  void Start(ScanSink sink) override {
    thread_ = std::thread([this, sink = std::move(sink)] { Run(sink); });
  }
  void Stop() override {
    stopping_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  bool Finite() const override { return true; }

 private:
  void Run(const ScanSink& sink) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
      std::cerr << "cordon-gate: cannot read " << path_ << "\n";
      sink.on_end(path_);
      return;
    }
    in.seekg(start_offset_);
    int64_t offset = start_offset_;
    int64_t line_number = 0;  // counted from the resume point
    auto started = std::chrono::steady_clock::now();
    int64_t sent = 0;
    ScanLines batch{path_, 1, {}, std::nullopt};
    std::string line;
    while (!stopping_.load() && std::getline(in, line)) {
      offset += static_cast<int64_t>(line.size()) + (in.eof() ? 0 : 1);
      ++line_number;
      batch.lines.push_back(line);
      batch.mark = InputMark{path_, offset};
      bool paced = rate_ > 0;
      if (paced || batch.lines.size() >= kBatchLines) {
        sink.on_lines(std::move(batch));
        batch = ScanLines{path_, line_number + 1, {}, std::nullopt};
      }
      if (paced) {  // simulated lane: hold each line until its time
        ++sent;
        auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(sent) / rate_));
        while (!stopping_.load() && std::chrono::steady_clock::now() < due) {
          std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
              due - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
        }
      }
    }
    if (!batch.lines.empty()) sink.on_lines(std::move(batch));
    if (!stopping_.load()) sink.on_end(path_);
  }

  const std::string path_;
  const int64_t start_offset_;
  const double rate_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

namespace asio = boost::asio;
using asio::ip::tcp;

class TcpScanSource final : public ScanSource {
 public:
  TcpScanSource(std::string host, uint16_t port, std::function<void(uint16_t)> on_listening)
      : host_(std::move(host)), port_(port), on_listening_(std::move(on_listening)) {}

  void Start(ScanSink sink) override {
    sink_ = std::move(sink);
    tcp::endpoint ep(asio::ip::make_address(host_), port_);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    if (on_listening_) on_listening_(acceptor_.local_endpoint().port());
    thread_ = std::thread([this] { AcceptLoop(); });
  }

  void Stop() override {
    stopping_.store(true);
    boost::system::error_code ec;
    // close() alone does not wake a thread blocked in accept(); shutdown() does.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      for (auto& s : sockets_) s->shutdown(tcp::socket::shutdown_both, ec);
    }
    if (thread_.joinable()) thread_.join();
    acceptor_.close(ec);
    for (auto& t : readers_) t.join();
  }
  bool Finite() const override { return false; }

 private:
  void AcceptLoop() {
    while (!stopping_.load()) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) {
        if (stopping_.load()) return;
        continue;
      }
      std::lock_guard lock(mu_);
      sockets_.push_back(socket);
      readers_.emplace_back([this, socket] { ReadLoop(socket); });
    }
  }

  void ReadLoop(const std::shared_ptr<tcp::socket>& socket) {
    boost::system::error_code ec;
    auto peer = socket->remote_endpoint(ec);
    std::string source = "tcp:" + (ec ? std::string("?") : peer.address().to_string() + ":" +
                                                              std::to_string(peer.port()));
    asio::streambuf buf(64 * 1024);  // a line longer than this is not a scan
    std::istream in(&buf);
    int64_t line_number = 0;
    while (!stopping_.load()) {
      asio::read_until(*socket, buf, '\n', ec);
      if (ec) break;
      std::string line;
      std::getline(in, line);
      sink_.on_lines(ScanLines{source, ++line_number, {line}, std::nullopt});
    }
  }

  const std::string host_;
  const uint16_t port_;
  const std::function<void(uint16_t)> on_listening_;
  ScanSink sink_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::list<std::shared_ptr<tcp::socket>> sockets_;  // guarded by mu_
  std::list<std::thread> readers_;                   // guarded by mu_
};

}  // namespace

std::unique_ptr<ScanSource> StdinSource() { return std::make_unique<StdinScanSource>(); }

std::unique_ptr<ScanSource> FileSource(std::string path, int64_t start_offset,
                                       double lines_per_second) {
  return std::make_unique<FileScanSource>(std::move(path), start_offset, lines_per_second);
}

std::unique_ptr<ScanSource> TcpSource(std::string host, uint16_t port,
                                      std::function<void(uint16_t)> on_listening) {
  return std::make_unique<TcpScanSource>(std::move(host), port, std::move(on_listening));
}

}  // namespace cordon::gate
