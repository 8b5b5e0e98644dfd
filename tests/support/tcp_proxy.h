// A TCP relay between a gate and cordond that a test can cut and restore:
// the injected network fault for offline tests. Listens on 127.0.0.1:0.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace cordon::testing {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Closes every relayed connection; new ones are closed on arrival until
  // Restore(). Returns once the connections are closed.
  void Cut();
  // Keeps the connections open but drops whatever either side sends: a
  // link that swallows data (a dead switch), until Cut() or Restore().
  void Stall() { stall_.store(true); }
  void Restore();
  int accepted() const { return accepted_.load(); }

 private:
  class Session;
  void Accept();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int target_port_;
  int port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stall_{false};
  std::atomic<int> accepted_{0};
  std::set<std::shared_ptr<Session>> sessions_;  // touched on the io thread only
  std::thread thread_;
};

}  // namespace cordon::testing
