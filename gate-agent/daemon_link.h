// The gate's connection to cordond: one GateService.Connect stream at a time,
// re-established with exponential backoff and jitter whenever it breaks.
//
// A thread owns the stream: it connects, sends Hello, waits for Welcome,
// then reads replies until the stream ends. Send() may be called from the
// agent's thread meanwhile (gRPC allows one reader and one writer at once).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "cordon/v1/gate.grpc.pb.h"

namespace cordon::gate {

struct Backoff {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{10000};
  // A daemon that takes the stream but sends no Welcome (stuck, or not
  // cordond) is given up on after this; keepalive alone would never notice.
  std::chrono::milliseconds welcome_timeout{10000};
};

class DaemonLink {
 public:
  struct Handlers {
    std::function<v1::Hello()> make_hello;
    // A stream is up. `generation` names it: Send() with an older one fails,
    // so nothing meant for a dead stream goes out on its successor before
    // the owner has seen the new Welcome.
    std::function<void(const v1::Welcome&, uint64_t generation)> on_up;
    std::function<void(const v1::DaemonMessage&)> on_message;
    // The stream ended; `retrying_in` is how long until the next attempt.
    std::function<void(const grpc::Status&, std::chrono::milliseconds retrying_in)> on_down;
    // The daemon refused this gate for a reason retrying cannot fix.
    std::function<void(const grpc::Status&)> on_refused;
  };

  // A fresh channel per connection attempt: the backoff is ours alone, not
  // stacked on the channel's own reconnect timer.
  using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>()>;
  DaemonLink(ChannelFactory channels, Backoff backoff, Handlers handlers);
  ~DaemonLink();
  DaemonLink(const DaemonLink&) = delete;
  DaemonLink& operator=(const DaemonLink&) = delete;

  void Start();
  // Half-closes and ends the stream; no reconnect afterwards.
  void Stop();
  // False if `generation` is not the live stream (the message stays for a
  // later resend).
  bool Send(const v1::GateMessage& message, uint64_t generation);

  // Status codes after which reconnecting cannot help.
  static bool IsRefusal(grpc::StatusCode code);

 private:
  void Run();
  // Waits `delay` or until Stop(); false if stopping.
  bool Pause(std::chrono::milliseconds delay);
  // Sends the Hello and reads the Welcome into `reply`. On failure the call
  // is over (cancelled if need be, so that Finish returns) and `failure`
  // says why when the transport does not.
  bool Handshake(grpc::ClientContext& context,
                 grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>& stream,
                 v1::DaemonMessage& reply, std::optional<grpc::Status>& failure);

  ChannelFactory channels_;
  const Backoff backoff_;
  const Handlers handlers_;
  std::mt19937_64 rng_{std::random_device{}()};

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;                                                   // guarded by mu_
  grpc::ClientContext* context_ = nullptr;                                  // guarded by mu_
  grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>* stream_ = nullptr;  // guarded by mu_
  uint64_t generation_ = 0;                                                 // guarded by mu_
  std::mutex write_mu_;  // one writer at a time; held across a Write
  std::condition_variable exited_cv_;
  bool exited_ = false;  // guarded by mu_: Run() has returned
  std::thread thread_;
};

}  // namespace cordon::gate
