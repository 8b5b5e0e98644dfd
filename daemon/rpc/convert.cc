#include "daemon/rpc/convert.h"

#include <algorithm>

namespace cordon::rpc {

void ToProto(TimePoint t, google::protobuf::Timestamp* out) {
  int64_t us = ToUnixMicros(t);
  int64_t secs = us / 1'000'000;
  int64_t rem = us % 1'000'000;
  if (rem < 0) {  // Timestamp nanos must be non-negative
    rem += 1'000'000;
    secs -= 1;
  }
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

namespace {
constexpr int64_t kMinSeconds = -62'135'596'800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z
}  // namespace

TimePoint FromProto(const google::protobuf::Timestamp& ts) {
  int64_t secs = std::clamp<int64_t>(ts.seconds(), kMinSeconds, kMaxSeconds);
  int64_t nanos = std::clamp<int64_t>(ts.nanos(), 0, 999'999'999);
  return FromUnixMicros(secs * 1'000'000 + nanos / 1000);
}

grpc::Status CheckTime(std::string_view field, const google::protobuf::Timestamp& ts) {
  if (ts.seconds() < kMinSeconds || ts.seconds() > kMaxSeconds || ts.nanos() < 0 ||
      ts.nanos() > 999'999'999) {
    return InvalidArgument(std::string(field) + ": not a valid time (years 1-9999)");
  }
  return grpc::Status::OK;
}

std::optional<Direction> FromProto(v1::Direction d) {
  switch (d) {
    case v1::DIRECTION_IN: return Direction::kIn;
    case v1::DIRECTION_OUT: return Direction::kOut;
    default: return std::nullopt;
  }
}

std::optional<PersonCategory> FromProto(v1::PersonCategory c) {
  switch (c) {
    case v1::PERSON_CATEGORY_RESIDENT_STAFF: return PersonCategory::kResidentStaff;
    case v1::PERSON_CATEGORY_STUDENT: return PersonCategory::kStudent;
    case v1::PERSON_CATEGORY_SINGLE_VISIT: return PersonCategory::kSingleVisit;
    case v1::PERSON_CATEGORY_CONTRACTOR: return PersonCategory::kContractor;
    case v1::PERSON_CATEGORY_VEHICLE: return PersonCategory::kVehicle;
    case v1::PERSON_CATEGORY_DELIVERY: return PersonCategory::kDelivery;
    default: return std::nullopt;
  }
}

void ToProto(const Person& p, v1::Person* out) {
  out->set_external_id(p.external_id);
  out->set_name(p.name);
  out->set_category(ToProto(p.category));
  out->set_cohort(p.cohort);
  out->set_active(p.active);
  if (p.valid_until) ToProto(*p.valid_until, out->mutable_valid_until());
  out->set_credential_count(p.credential_count);
}

void ToProto(const QuarantineOrder& q, const std::string& person, v1::QuarantineOrder* out) {
  out->set_id(q.id);
  out->set_person(person);
  ToProto(q.starts_at, out->mutable_starts_at());
  ToProto(q.ends_at, out->mutable_ends_at());
  out->set_reason(q.reason);
  ToProto(q.ordered_at, out->mutable_ordered_at());
  if (q.cleared_at) ToProto(*q.cleared_at, out->mutable_cleared_at());
}

void ToProto(const SingleVisitPass& pass, const std::string& person, const PassProgress& progress,
             v1::SingleVisitPass* out) {
  out->set_id(pass.id);
  out->set_person(person);
  out->set_host(pass.host);
  ToProto(pass.valid_from, out->mutable_valid_from());
  ToProto(pass.valid_until, out->mutable_valid_until());
  ToProto(pass.issued_at, out->mutable_issued_at());
  if (progress.entered_at) ToProto(*progress.entered_at, out->mutable_entered_at());
  if (progress.exited_at) ToProto(*progress.exited_at, out->mutable_exited_at());
}

void ToProto(const Gate& g, v1::Gate* out) {
  out->set_gate_id(g.gate_id);
  out->set_description(g.description);
  ToProto(g.registered_at, out->mutable_registered_at());
}

std::string GateName(const PolicySnapshot& policy, GateRowId id) {
  const Gate* gate = policy.FindGateByRow(id);
  return gate ? gate->gate_id : "gate#" + std::to_string(id);
}

}  // namespace cordon::rpc
