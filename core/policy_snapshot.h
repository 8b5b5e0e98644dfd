// The policy the gates are decided by: people, credentials, quarantine
// orders, passes and registered gates, at one version.
//
// A snapshot is immutable once published (the daemon holds it as
// shared_ptr<const PolicySnapshot> and swaps the pointer). An administrative
// change copies the current snapshot, edits the copy and publishes it with
// the next version.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/credential.h"
#include "core/model.h"

namespace cordon {

struct PolicySnapshot {
  int64_t version = 0;

  std::unordered_map<PersonId, Person> people;
  std::unordered_map<std::string, PersonId> people_by_external_id;
  std::unordered_map<CredentialHash, PersonId, CredentialHashHasher> people_by_credential;
  std::unordered_map<PersonId, std::vector<CredentialHash>> credentials_of;
  std::unordered_map<PersonId, std::vector<QuarantineOrder>> quarantines_of;
  std::unordered_map<PersonId, std::vector<SingleVisitPass>> passes_of;
  std::map<std::string, Gate, std::less<>> gates;  // by gate id

  const Person* FindPerson(PersonId id) const;
  const Person* FindByExternalId(std::string_view external_id) const;
  const Person* FindByCredential(const CredentialHash& hash) const;
  const Gate* FindGate(std::string_view gate_id) const;
  const Gate* FindGateByRow(GateRowId id) const;  // linear: a campus has dozens of gates
  std::span<const QuarantineOrder> QuarantinesOf(PersonId id) const;
  std::span<const SingleVisitPass> PassesOf(PersonId id) const;
  // The order in force at t, if any.
  const QuarantineOrder* ActiveQuarantine(PersonId id, TimePoint t) const;

  // Edits used while building the next snapshot.
  void PutPerson(const Person& person);
  // Replaces the person's credentials; the caller checked none belongs to
  // someone else.
  void SetCredentials(PersonId id, std::vector<CredentialHash> hashes);
  void PutQuarantine(const QuarantineOrder& order);  // insert or replace by id
  void PutPass(const SingleVisitPass& pass);         // insert or replace by id
  void PutGate(const Gate& gate);
};

}  // namespace cordon
