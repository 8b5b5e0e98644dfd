// One call of any shape (unary or streaming) with raw request bytes, over a
// generic stub: the bytes as one message, then half-close. For tests and
// fuzzing that reach every RPC the same way. Header only: the fuzz build
// has no test support library.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace cordon::testing {

class RawCall : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  enum class Until {
    kAnswered,  // cancel once the server answers (headers or a message): a watch stays open
    kEnd,       // read every response until the server finishes
  };

  RawCall(grpc::GenericStub& stub, const std::string& method, const uint8_t* data, size_t size,
          Until until, std::chrono::milliseconds deadline)
      : until_(until) {
    ctx_.set_deadline(std::chrono::system_clock::now() + deadline);
    stub.PrepareBidiStreamingCall(&ctx_, method, {}, this);
    grpc::Slice slice(data, size);
    request_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&request_);
    StartWritesDone();
    StartRead(&response_);
    StartCall();
  }
  grpc::Status Await() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return done_; });
    return status_;
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (ok && until_ == Until::kAnswered) ctx_.TryCancel();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (until_ == Until::kAnswered) {
      ctx_.TryCancel();
    } else {
      StartRead(&response_);
    }
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(mu_);
    status_ = s;
    done_ = true;
    done_cv_.notify_all();
  }

 private:
  const Until until_;
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_, response_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  grpc::Status status_;
};

}  // namespace cordon::testing
