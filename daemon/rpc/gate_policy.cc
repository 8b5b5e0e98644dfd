#include "daemon/rpc/gate_policy.h"

#include <spdlog/spdlog.h>

#include "core/identifiers.h"
#include "daemon/rpc/convert.h"

namespace cordon::rpc {

v1::DaemonMessage BuildGatePolicyUpdate(const PolicySnapshot& policy,
                                        const presence::CampusPresence& presence,
                                        const std::string& lookup_key, TimePoint now) {
  v1::DaemonMessage msg;
  v1::PolicyUpdate* u = msg.mutable_policy_update();
  u->set_policy_version(policy.version);
  ToProto(now, u->mutable_issued_at());
  u->set_lookup_key(lookup_key);
  u->set_zone_document(policy.zones->document);
  u->set_mode(policy.Mode().id);
  u->mutable_people()->Reserve(static_cast<int>(policy.people.size()));
  for (const auto& [id, person] : policy.people) {
    v1::GatePerson* p = u->add_people();
    p->set_id(id);
    p->set_category(static_cast<v1::PersonCategory>(person.category));
    p->set_active(person.active);
    if (person.valid_until) p->set_valid_until_us(ToUnixMicros(*person.valid_until));
    p->set_display_name(MaskName(person.name));
    if (auto it = policy.credentials_of.find(id); it != policy.credentials_of.end()) {
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
    if (auto h = policy.health_of.find(id); h != policy.health_of.end()) {
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
  return msg;
}

void GatePolicyFeed::Publish(const PolicySnapshot& policy) {
  auto update = std::make_shared<const v1::DaemonMessage>(
      BuildGatePolicyUpdate(policy, presence_, lookup_key_, clock_.Now()));
  {
    std::lock_guard lock(mu_);
    current_ = update;
  }
  ledger_.Broadcast(update);
  spdlog::debug("policy v{} for gates: {} people, {} bytes", policy.version,
                policy.people.size(), update->ByteSizeLong());
}

std::shared_ptr<const v1::DaemonMessage> GatePolicyFeed::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace cordon::rpc
