#include "tests/support/tcp_proxy.h"

#include <array>
#include <future>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace cordon::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

class TcpProxy::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket client, asio::io_context& io, const std::atomic<bool>& stall)
      : client_(std::move(client)), server_(io), stall_(stall) {}

  void Start(int target_port, std::set<std::shared_ptr<Session>>& sessions) {
    auto self = shared_from_this();
    sessions.insert(self);
    server_.async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(target_port)},
                          [self](const boost::system::error_code& ec) {
                            if (ec) {
                              self->Close();
                              return;
                            }
                            self->Relay(self->client_, self->server_, self->up_);
                            self->Relay(self->server_, self->client_, self->down_);
                          });
  }

  void Close() {
    boost::system::error_code ignored;
    client_.close(ignored);
    server_.close(ignored);
  }

 private:
  void Relay(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buf), [self, &from, &to, &buf](
                                                const boost::system::error_code& ec, size_t n) {
      if (ec) {
        self->Close();
        return;
      }
      if (self->stall_.load()) {  // swallowed
        self->Relay(from, to, buf);
        return;
      }
      asio::async_write(to, asio::buffer(buf.data(), n),
                        [self, &from, &to, &buf](const boost::system::error_code& wec, size_t) {
                          if (wec) {
                            self->Close();
                            return;
                          }
                          self->Relay(from, to, buf);
                        });
    });
  }

  tcp::socket client_, server_;
  const std::atomic<bool>& stall_;
  std::array<char, 16384> up_{}, down_{};
};

TcpProxy::TcpProxy(int target_port)
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      target_port_(target_port) {
  port_ = acceptor_.local_endpoint().port();
  Accept();
  thread_ = std::thread([this] { io_.run(); });
}

TcpProxy::~TcpProxy() {
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sessions_) s->Close();
    sessions_.clear();
  });
  io_.stop();
  thread_.join();
}

void TcpProxy::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) return;  // closed
    ++accepted_;
    if (cut_.load()) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<Session>(std::move(socket), io_, stall_)->Start(target_port_, sessions_);
    }
    Accept();
  });
}

void TcpProxy::Cut() {
  cut_.store(true);
  std::promise<void> done;
  asio::post(io_, [this, &done] {
    for (auto& s : sessions_) s->Close();
    sessions_.clear();
    done.set_value();
  });
  done.get_future().wait();
}

void TcpProxy::Restore() {
  stall_.store(false);
  cut_.store(false);
}

}  // namespace cordon::testing
