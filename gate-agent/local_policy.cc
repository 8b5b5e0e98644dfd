#include "gate-agent/local_policy.h"

#include "policydoc/policy_document.h"

namespace cordon::gate {
namespace {

std::optional<TimePoint> OptTime(int64_t us) {
  if (us == 0) return std::nullopt;
  return FromUnixMicros(us);
}

}  // namespace

absl::StatusOr<LocalPolicy> ToLocalPolicy(const v1::PolicyUpdate& update) {
  if (update.lookup_key().size() < 16) {
    return absl::InvalidArgumentError("policy_update.lookup_key: shorter than 16 bytes");
  }
  if (update.policy_version() <= 0) {
    return absl::InvalidArgumentError("policy_update.policy_version: must be positive");
  }
  LocalPolicy local{PolicySnapshot{}, CredentialHasher(update.lookup_key()), {}, {}};
  PolicySnapshot& p = local.snapshot;
  p.version = update.policy_version();
  if (!update.zone_document().empty()) {
    auto parsed = policydoc::ParsePolicyDocument(update.zone_document());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError("policy_update.zone_document: " + parsed.ErrorText());
    }
    p.SetZones(parsed.policy);
    int mode = parsed.policy->FindMode(update.mode());
    if (mode < 0) return absl::InvalidArgumentError("policy_update.mode: not in the document");
    p.mode = mode;
  }
  QuarantineId next_order = 1;
  for (const v1::GatePerson& gp : update.people()) {
    if (gp.category() < v1::PERSON_CATEGORY_RESIDENT_STAFF ||
        gp.category() > v1::PERSON_CATEGORY_DELIVERY) {
      return absl::InvalidArgumentError("policy_update.people.category: unknown for person " +
                                        std::to_string(gp.id()));
    }
    Person person;
    person.id = gp.id();
    person.external_id = "#" + std::to_string(gp.id());  // the gate never learns real ids
    person.name = gp.display_name();
    person.category = static_cast<PersonCategory>(gp.category());
    person.active = gp.active();
    person.valid_until = OptTime(gp.valid_until_us());
    person.cohort = gp.cohorts();
    p.PutPerson(person);
    if (gp.health() >= v1::HEALTH_COLOUR_GREEN && gp.health() <= v1::HEALTH_COLOUR_RED) {
      p.health_of.Edit()[gp.id()] = HealthRecord{static_cast<HealthColour>(gp.health()), "daemon", {}};
    }
    for (const v1::GateLeave& gl : gp.leaves()) {
      p.PutLeave(LeaveApproval{gl.id(), gp.id(), FromUnixMicros(gl.exit_from_us()),
                               FromUnixMicros(gl.exit_until_us()),
                               FromUnixMicros(gl.return_by_us()), "", ""});
      local.leave_progress.push_back(
          {gl.id(), LeaveProgress{OptTime(gl.exited_us()), OptTime(gl.returned_us())}});
    }
    std::vector<CredentialHash> hashes;
    for (const std::string& lookup : gp.lookups()) {
      if (lookup.size() != 16) {
        return absl::InvalidArgumentError("policy_update.people.lookups: not 16 bytes");
      }
      hashes.push_back(CredentialHash::FromBytes(lookup));
    }
    p.SetCredentials(gp.id(), std::move(hashes));
    for (const v1::GateInterval& q : gp.quarantines()) {
      QuarantineOrder order;
      order.id = next_order++;
      order.person = gp.id();
      order.starts_at = FromUnixMicros(q.starts_us());
      order.ends_at = FromUnixMicros(q.ends_us());
      p.PutQuarantine(order);
    }
    for (const v1::GatePass& gpass : gp.passes()) {
      SingleVisitPass pass;
      pass.id = gpass.id();
      pass.person = gp.id();
      pass.valid_from = FromUnixMicros(gpass.valid_from_us());
      pass.valid_until = FromUnixMicros(gpass.valid_until_us());
      p.PutPass(pass);
      local.pass_progress.push_back(
          {pass.id, PassProgress{OptTime(gpass.entered_us()), OptTime(gpass.exited_us())}});
    }
  }
  return local;
}

}  // namespace cordon::gate
