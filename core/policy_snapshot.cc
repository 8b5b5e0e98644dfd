#include "core/policy_snapshot.h"

#include <algorithm>

namespace cordon {
namespace {

template <typename T>
void PutById(std::vector<T>& items, const T& item) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return x.id == item.id; });
  if (it == items.end()) {
    items.push_back(item);
  } else {
    *it = item;
  }
}

}  // namespace

const Person* PolicySnapshot::FindPerson(PersonId id) const {
  auto it = people->find(id);
  return it == people->end() ? nullptr : &it->second;
}

const Person* PolicySnapshot::FindByExternalId(std::string_view external_id) const {
  auto it = people_by_external_id->find(std::string(external_id));
  return it == people_by_external_id->end() ? nullptr : FindPerson(it->second);
}

const Person* PolicySnapshot::FindByCredential(const CredentialHash& hash) const {
  auto it = people_by_credential->find(hash);
  return it == people_by_credential->end() ? nullptr : FindPerson(it->second);
}

const Gate* PolicySnapshot::FindGate(std::string_view gate_id) const {
  auto it = gates->find(gate_id);
  return it == gates->end() ? nullptr : &it->second;
}

const Gate* PolicySnapshot::FindGateByRow(GateRowId id) const {
  for (const auto& [name, gate] : *gates) {
    if (gate.id == id) return &gate;
  }
  return nullptr;
}

std::span<const QuarantineOrder> PolicySnapshot::QuarantinesOf(PersonId id) const {
  auto it = quarantines_of->find(id);
  if (it == quarantines_of->end()) return {};
  return it->second;
}

std::span<const SingleVisitPass> PolicySnapshot::PassesOf(PersonId id) const {
  auto it = passes_of->find(id);
  if (it == passes_of->end()) return {};
  return it->second;
}

const QuarantineOrder* PolicySnapshot::ActiveQuarantine(PersonId id, TimePoint t) const {
  for (const auto& order : QuarantinesOf(id)) {
    if (order.ActiveAt(t)) return &order;
  }
  return nullptr;
}

void PolicySnapshot::PutPerson(const Person& person) {
  auto& all = people.Edit();
  auto& by_external_id = people_by_external_id.Edit();
  auto old = all.find(person.id);
  if (old != all.end() && old->second.external_id != person.external_id) {
    by_external_id.erase(old->second.external_id);
  }
  Person& stored = all[person.id] = person;
  stored.cohorts = SplitCohorts(stored.cohort);
  by_external_id[person.external_id] = person.id;
}

void PolicySnapshot::SetCredentials(PersonId id, std::vector<CredentialHash> hashes) {
  auto& by_credential = people_by_credential.Edit();
  auto& held = credentials_of.Edit()[id];
  for (const auto& old : held) {
    // The hash may already have moved to someone else in the same change.
    auto it = by_credential.find(old);
    if (it != by_credential.end() && it->second == id) by_credential.erase(it);
  }
  for (const auto& h : hashes) by_credential[h] = id;
  auto& all = people.Edit();
  if (auto it = all.find(id); it != all.end()) {
    it->second.credential_count = static_cast<int>(hashes.size());
  }
  held = std::move(hashes);
}

void PolicySnapshot::PutQuarantine(const QuarantineOrder& order) {
  PutById(quarantines_of.Edit()[order.person], order);
}

void PolicySnapshot::PutPass(const SingleVisitPass& pass) {
  PutById(passes_of.Edit()[pass.person], pass);
}

void PolicySnapshot::PutGate(const Gate& gate) { gates.Edit()[gate.gate_id] = gate; }

std::span<const LeaveApproval> PolicySnapshot::LeavesOf(PersonId id) const {
  auto it = leaves_of->find(id);
  if (it == leaves_of->end()) return {};
  return it->second;
}

HealthColour PolicySnapshot::HealthOf(PersonId id) const {
  auto it = health_of->find(id);
  return it == health_of->end() ? HealthColour::kGreen : it->second.colour;
}

void PolicySnapshot::PutLeave(const LeaveApproval& leave) {
  PutById(leaves_of.Edit()[leave.person], leave);
}

void PolicySnapshot::SetZones(std::shared_ptr<const ZonePolicy> layout) {
  // From the built-in default (no document yet), start in the document's initial mode.
  std::string_view current = zones && !zones->document.empty() ? Mode().id : std::string_view{};
  int keep = current.empty() ? -1 : layout->FindMode(current);
  mode = keep >= 0 ? keep : std::max(0, layout->FindMode(layout->initial_mode));
  zones = std::move(layout);
}

}  // namespace cordon
