// proto <-> domain conversions. Protobuf types stop at this layer.
#pragma once

#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <optional>
#include <string_view>

#include "cordon/v1/admin.pb.h"
#include "cordon/v1/common.pb.h"
#include "cordon/v1/security.pb.h"
#include "absl/status/status.h"
#include "core/campus_state.h"
#include "core/model.h"
#include "core/policy_snapshot.h"
#include "core/reason.h"
#include "core/time.h"
#include "daemon/storage/records.h"

namespace cordon::rpc {

// absl and gRPC share the canonical status codes.
inline grpc::Status ToGrpc(const absl::Status& st) {
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}
inline grpc::Status InvalidArgument(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

void ToProto(TimePoint t, google::protobuf::Timestamp* out);
// Clamped to the years 1-9999 (the range a Timestamp may hold), so that no
// value a client sends can overflow; CheckTime() refuses such values first.
TimePoint FromProto(const google::protobuf::Timestamp& ts);
// OK for a valid Timestamp (years 1-9999, nanos in [0, 1e9)); otherwise
// INVALID_ARGUMENT naming `field`.
grpc::Status CheckTime(std::string_view field, const google::protobuf::Timestamp& ts);

inline v1::Direction ToProto(Direction d) { return static_cast<v1::Direction>(d); }
inline v1::PersonCategory ToProto(PersonCategory c) { return static_cast<v1::PersonCategory>(c); }
inline v1::Reason ToProto(Reason r) { return static_cast<v1::Reason>(r); }
inline v1::DecisionSource ToProto(DecisionSource s) { return static_cast<v1::DecisionSource>(s); }
inline v1::AlertKind ToProto(AlertKind k) { return static_cast<v1::AlertKind>(k); }
inline v1::Severity ToProto(storage::Severity s) { return static_cast<v1::Severity>(s); }

std::optional<Direction> FromProto(v1::Direction d);
std::optional<PersonCategory> FromProto(v1::PersonCategory c);

void ToProto(const Person& p, v1::Person* out);
void ToProto(const QuarantineOrder& q, const std::string& person, v1::QuarantineOrder* out);
void ToProto(const SingleVisitPass& pass, const std::string& person, const PassProgress& progress,
             v1::SingleVisitPass* out);
void ToProto(const Gate& g, v1::Gate* out);
// The gate's id as agents present it; "gate#N" for a row no longer known.
std::string GateName(const PolicySnapshot& policy, GateRowId id);

// Answers a unary call at once (a refusal before any work).
inline grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, grpc::Status status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// A server stream refused before it starts: finishes with `status`.
template <typename Message>
class RefusedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit RefusedStream(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace cordon::rpc
