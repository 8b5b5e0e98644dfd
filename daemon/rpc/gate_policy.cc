#include "daemon/rpc/gate_policy.h"

#include <spdlog/spdlog.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "core/identifiers.h"
#include "daemon/rpc/convert.h"

namespace cordon::rpc {

namespace {

void FillGatePerson(const PolicySnapshot& policy, const presence::CampusPresence& presence,
                    PersonId id, const Person& person, TimePoint now, v1::GatePerson* p) {
  p->set_id(id);
  p->set_category(static_cast<v1::PersonCategory>(person.category));
  p->set_active(person.active);
  if (person.valid_until) p->set_valid_until_us(ToUnixMicros(*person.valid_until));
  p->set_display_name(MaskName(person.name));
  if (auto it = policy.credentials_of->find(id); it != policy.credentials_of->end()) {
    for (const auto& h : it->second) p->add_lookups(std::string(h.AsBytes()));
  }
  for (const QuarantineOrder& q : policy.QuarantinesOf(id)) {
    TimePoint end = q.cleared_at && *q.cleared_at < q.ends_at ? *q.cleared_at : q.ends_at;
    if (end <= now) continue;  // over: the gate needs only what can still deny
    v1::GateInterval* iv = p->add_quarantines();
    iv->set_starts_us(ToUnixMicros(q.starts_at));
    iv->set_ends_us(ToUnixMicros(end));
  }
  for (const SingleVisitPass& pass : policy.PassesOf(id)) {
    if (pass.valid_until <= now) continue;
    v1::GatePass* gp = p->add_passes();
    gp->set_id(pass.id);
    gp->set_valid_from_us(ToUnixMicros(pass.valid_from));
    gp->set_valid_until_us(ToUnixMicros(pass.valid_until));
    PassProgress progress = presence.ProgressOf(pass.id);
    if (progress.entered_at) gp->set_entered_us(ToUnixMicros(*progress.entered_at));
    if (progress.exited_at) gp->set_exited_us(ToUnixMicros(*progress.exited_at));
  }
  p->set_cohorts(person.cohort);
  if (auto h = policy.health_of->find(id); h != policy.health_of->end()) {
    p->set_health(static_cast<v1::HealthColour>(h->second.colour));
  }
  for (const LeaveApproval& leave : policy.LeavesOf(id)) {
    LeaveProgress progress = presence.ProgressOfLeave(leave.id);
    if (progress.returned_at || (leave.exit_until <= now && !progress.exited_at)) continue;
    v1::GateLeave* gl = p->add_leaves();
    gl->set_id(leave.id);
    gl->set_exit_from_us(ToUnixMicros(leave.exit_from));
    gl->set_exit_until_us(ToUnixMicros(leave.exit_until));
    gl->set_return_by_us(ToUnixMicros(leave.return_by));
    if (progress.exited_at) gl->set_exited_us(ToUnixMicros(*progress.exited_at));
  }
}

}  // namespace

grpc::ByteBuffer SerializeGatePolicyUpdate(const PolicySnapshot& policy,
                                           const presence::CampusPresence& presence,
                                           const std::string& lookup_key, TimePoint now) {
  namespace wire = google::protobuf::internal;
  v1::PolicyUpdate head;  // everything but the people
  head.set_policy_version(policy.version);
  ToProto(now, head.mutable_issued_at());
  head.set_lookup_key(lookup_key);
  head.set_zone_document(policy.zones->document);
  head.set_mode(policy.Mode().id);
  // The people are written one at a time after the other fields (the wire
  // format allows fields in any order), so only one GatePerson is ever held
  // as a message: the whole update as messages is ~6x its bytes.
  std::string update = head.SerializeAsString();
  {
    google::protobuf::io::StringOutputStream sink(&update);
    google::protobuf::io::CodedOutputStream out(&sink);
    v1::GatePerson p;
    for (const auto& [id, person] : *policy.people) {
      p.Clear();
      FillGatePerson(policy, presence, id, person, now, &p);
      wire::WireFormatLite::WriteTag(v1::PolicyUpdate::kPeopleFieldNumber,
                                     wire::WireFormatLite::WIRETYPE_LENGTH_DELIMITED, &out);
      out.WriteVarint32(static_cast<uint32_t>(p.ByteSizeLong()));  // also caches the sizes
      p.SerializeWithCachedSizes(&out);
    }
  }
  std::string message;
  {
    google::protobuf::io::StringOutputStream sink(&message);
    google::protobuf::io::CodedOutputStream out(&sink);
    wire::WireFormatLite::WriteTag(v1::DaemonMessage::kPolicyUpdateFieldNumber,
                                   wire::WireFormatLite::WIRETYPE_LENGTH_DELIMITED, &out);
    out.WriteVarint32(static_cast<uint32_t>(update.size()));
  }
  message += update;
  std::string().swap(update);
  grpc::Slice slice(message);
  return grpc::ByteBuffer(&slice, 1);
}

void GatePolicyFeed::Publish(const PolicySnapshot& policy) {
  auto update = std::make_shared<GatePolicyCopy>();
  update->version = policy.version;
  update->bytes = SerializeGatePolicyUpdate(policy, presence_, lookup_key_, clock_.Now());
  {
    std::lock_guard lock(mu_);
    current_ = update;
  }
  ledger_.Broadcast(update->bytes);
  spdlog::debug("policy v{} for gates: {} people, {} bytes", policy.version,
                policy.people->size(), update->bytes.Length());
}

std::shared_ptr<const GatePolicyCopy> GatePolicyFeed::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace cordon::rpc
