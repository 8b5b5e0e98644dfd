// cordon-gate's link to the daemon against daemons that misbehave at the
// handshake, over real gRPC on 127.0.0.1: the link gives up on the stream,
// says why, and tries again; it never waits for ever.
#include "gate-agent/daemon_link.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "tests/support/process.h"

namespace cordon::gate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using cordon::testing::In;
using cordon::testing::WaitFor;

// Takes the Hello, then either answers with something other than a Welcome
// or says nothing; in both cases it keeps the stream open until the gate
// goes away.
class MisbehavingDaemon final : public v1::GateService::Service {
 public:
  enum class Mode { kAckFirst, kSilent };
  explicit MisbehavingDaemon(Mode mode) : mode_(mode) {}

  grpc::Status Connect(grpc::ServerContext*,
                       grpc::ServerReaderWriter<v1::DaemonMessage, v1::GateMessage>* stream) override {
    v1::GateMessage in;
    if (!stream->Read(&in) || !in.has_hello()) return grpc::Status::OK;
    ++hellos;
    if (mode_ == Mode::kAckFirst) {
      v1::DaemonMessage ack;
      ack.mutable_persist_ack()->set_up_to_seq(1);
      stream->Write(ack);
    }
    while (stream->Read(&in)) {
    }
    return grpc::Status::OK;
  }
  std::atomic<int> hellos{0};

 private:
  const Mode mode_;
};

struct Downs {
  std::mutex mu;
  std::vector<grpc::Status> seen;
  size_t size() {
    std::lock_guard lock(mu);
    return seen.size();
  }
  grpc::Status first() {
    std::lock_guard lock(mu);
    return seen.front();
  }
};

// Runs a DaemonLink against `service` until it has given up twice.
void ExpectGivesUpAndRetries(MisbehavingDaemon& service, Backoff backoff, grpc::StatusCode code,
                             const std::string& says) {
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  std::string address = "127.0.0.1:" + std::to_string(port);
  Downs downs;
  std::atomic<int> ups{0};
  DaemonLink link(
      [&] { return grpc::CreateChannel(address, grpc::InsecureChannelCredentials()); }, backoff,
      DaemonLink::Handlers{
          [] {
            v1::Hello h;
            h.set_gate_id("north-1");
            h.set_incarnation(7);
            return h;
          },
          [&](const v1::Welcome&, uint64_t) { ++ups; },
          [](const v1::DaemonMessage&) {},
          [&](const grpc::Status& s, milliseconds) {
            std::lock_guard lock(downs.mu);
            downs.seen.push_back(s);
          },
          [](const grpc::Status&) {},
      });
  link.Start();
  ASSERT_TRUE(WaitFor([&] { return downs.size() >= 2; }, In(seconds(30))))
      << "the link is stuck on a stream the daemon never welcomed";
  link.Stop();
  EXPECT_EQ(ups.load(), 0);
  EXPECT_GE(service.hellos.load(), 2) << "it tried again";
  EXPECT_EQ(downs.first().error_code(), code) << downs.first().error_message();
  EXPECT_NE(downs.first().error_message().find(says), std::string::npos)
      << downs.first().error_message();
  server->Shutdown(std::chrono::system_clock::now() + seconds(5));
}

TEST(DaemonLink, AFirstMessageThatIsNotAWelcomeEndsTheAttempt) {
  MisbehavingDaemon service(MisbehavingDaemon::Mode::kAckFirst);
  ExpectGivesUpAndRetries(service, Backoff{milliseconds(5), milliseconds(20), seconds(60)},
                          grpc::StatusCode::INTERNAL, "first message was not a welcome");
}

TEST(DaemonLink, ADaemonThatNeverWelcomesIsGivenUpOnInTime) {
  MisbehavingDaemon service(MisbehavingDaemon::Mode::kSilent);
  ExpectGivesUpAndRetries(service, Backoff{milliseconds(5), milliseconds(20), milliseconds(300)},
                          grpc::StatusCode::DEADLINE_EXCEEDED, "no welcome from the daemon within 300 ms");
}

}  // namespace
}  // namespace cordon::gate
