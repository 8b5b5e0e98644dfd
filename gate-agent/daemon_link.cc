#include "gate-agent/daemon_link.h"

namespace cordon::gate {

DaemonLink::DaemonLink(ChannelFactory channels, Backoff backoff, Handlers handlers)
    : channels_(std::move(channels)),
      backoff_(backoff),
      handlers_(std::move(handlers)) {}

DaemonLink::~DaemonLink() { Stop(); }

void DaemonLink::Start() { thread_ = std::thread([this] { Run(); }); }

void DaemonLink::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  {
    // Half-close, so the daemon ends the stream cleanly...
    std::lock_guard write_lock(write_mu_);
    grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>* stream;
    {
      std::lock_guard lock(mu_);
      stream = stream_;
    }
    if (stream) stream->WritesDone();
  }
  // ...and cancel if it has not within two seconds.
  std::unique_lock lock(mu_);
  if (!exited_cv_.wait_for(lock, std::chrono::seconds(2), [&] { return exited_; }) && context_) {
    context_->TryCancel();
  }
  lock.unlock();
  thread_.join();
}

bool DaemonLink::IsRefusal(grpc::StatusCode code) {
  return code == grpc::StatusCode::PERMISSION_DENIED ||
         code == grpc::StatusCode::FAILED_PRECONDITION ||
         code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::UNAUTHENTICATED ||
         code == grpc::StatusCode::UNIMPLEMENTED;
}

bool DaemonLink::Send(const v1::GateMessage& message, uint64_t generation) {
  std::lock_guard write_lock(write_mu_);
  grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>* stream;
  {
    std::lock_guard lock(mu_);
    stream = generation == generation_ ? stream_ : nullptr;
  }
  // The reader thread clears stream_ and then takes write_mu_ before
  // finishing the stream, so `stream` stays valid while we hold write_mu_.
  return stream != nullptr && stream->Write(message);
}

bool DaemonLink::Pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, delay, [&] { return stopping_; });
}

bool DaemonLink::Handshake(grpc::ClientContext& context,
                           grpc::ClientReaderWriter<v1::GateMessage, v1::DaemonMessage>& stream,
                           v1::DaemonMessage& reply, std::optional<grpc::Status>& failure) {
  // The Hello and the Welcome are blocking calls with no deadline of their
  // own (the stream lives for days); a watchdog cancels them in time.
  bool over = false, timed_out = false;  // guarded by mu_
  // Stop() ends a handshake at once too.
  std::thread watchdog([&] {
    std::unique_lock lock(mu_);
    stop_cv_.wait_for(lock, backoff_.welcome_timeout, [&] { return over || stopping_; });
    if (over) return;
    timed_out = !stopping_;
    lock.unlock();
    context.TryCancel();
  });
  v1::GateMessage hello;
  *hello.mutable_hello() = handlers_.make_hello();
  bool read = stream.Write(hello) && stream.Read(&reply);
  {
    std::lock_guard lock(mu_);
    over = true;
  }
  stop_cv_.notify_all();
  watchdog.join();
  if (read && reply.has_welcome()) return true;
  if (timed_out) {
    failure = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                           "no welcome from the daemon within " +
                               std::to_string(backoff_.welcome_timeout.count()) + " ms");
  } else if (read) {
    // The daemon still holds the stream open: end it, or Finish would wait
    // for ever.
    context.TryCancel();
    failure = grpc::Status(grpc::StatusCode::INTERNAL,
                           "the daemon's first message was not a welcome");
  }
  return false;
}

void DaemonLink::Run() {
  struct ExitSignal {  // tells Stop() that Run() is over, on every return path
    DaemonLink* link;
    ~ExitSignal() {
      std::lock_guard lock(link->mu_);
      link->exited_ = true;
      link->exited_cv_.notify_all();
    }
  } exit_signal{this};
  int failures = 0;
  for (;;) {
    grpc::ClientContext context;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      context_ = &context;
    }
    auto stub = v1::GateService::NewStub(channels_());
    auto stream = stub->Connect(&context);
    v1::DaemonMessage reply;
    std::optional<grpc::Status> failure;
    bool up = Handshake(context, *stream, reply, failure);
    uint64_t generation = 0;
    if (up) {
      failures = 0;
      {
        std::lock_guard lock(mu_);
        stream_ = stream.get();
        generation = ++generation_;
      }
      handlers_.on_up(reply.welcome(), generation);
      while (stream->Read(&reply)) handlers_.on_message(reply);
    }
    {
      std::lock_guard lock(mu_);
      stream_ = nullptr;
    }
    // The call is over (the daemon finished it or the transport broke), so a
    // concurrent Write fails promptly; wait for it before finishing. No
    // TryCancel here: it would replace the daemon's status with CANCELLED.
    { std::lock_guard wait_for_writer(write_mu_); }
    grpc::Status status = stream->Finish();
    if (failure) status = *failure;  // ours is clearer than CANCELLED
    bool stopping;
    {
      std::lock_guard lock(mu_);
      context_ = nullptr;
      stopping = stopping_;
    }
    if (stopping) return;
    if (IsRefusal(status.error_code())) {
      handlers_.on_refused(status);
      return;
    }
    // Exponential backoff with "equal jitter": half fixed, half random, so
    // gates that lost the daemon together do not return together.
    std::chrono::milliseconds base = std::min<std::chrono::milliseconds>(
        backoff_.max, backoff_.initial * (int64_t{1} << std::min(failures, 16)));
    ++failures;
    std::uniform_int_distribution<int64_t> jitter(0, base.count() / 2);
    auto delay = std::chrono::milliseconds(base.count() / 2 + jitter(rng_));
    handlers_.on_down(status, delay);
    if (!Pause(delay)) return;
  }
}

}  // namespace cordon::gate
