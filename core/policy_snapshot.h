// The policy the gates are decided by: people, credentials, quarantine
// orders, passes, health codes, leaves, registered gates, the campus layout
// and its rules (ZonePolicy) and the campus mode in force, at one version.
//
// A snapshot is immutable once published (the daemon holds it as
// shared_ptr<const PolicySnapshot> and swaps the pointer). An administrative
// change copies the current snapshot, edits the copy and publishes it with
// the next version; the tables it does not edit stay shared (SharedTable).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/credential.h"
#include "core/model.h"
#include "core/zones.h"

namespace cordon {

// A table shared by consecutive snapshots until one of them changes it.
// Copying a snapshot copies pointers; the first edit of a table copies that
// table only. A gate registration no longer copies 100,000 people (50 MB,
// tens of milliseconds on the writer thread).
template <typename T>
class SharedTable {
 public:
  SharedTable() : table_(std::make_shared<T>()) {}
  const T& operator*() const { return *table_; }
  const T* operator->() const { return table_.get(); }
  // For the snapshot being built, on one thread. A count of 1 means no other
  // snapshot holds the table; one about to let go of it costs a copy at most.
  T& Edit() {
    if (table_.use_count() != 1) table_ = std::make_shared<T>(*table_);
    return *table_;
  }
  bool SharedWith(const SharedTable& other) const { return table_ == other.table_; }

 private:
  std::shared_ptr<T> table_;
};

struct PolicySnapshot {
  int64_t version = 0;

  SharedTable<std::unordered_map<PersonId, Person>> people;
  SharedTable<std::unordered_map<std::string, PersonId>> people_by_external_id;
  SharedTable<std::unordered_map<CredentialHash, PersonId, CredentialHashHasher>>
      people_by_credential;
  SharedTable<std::unordered_map<PersonId, std::vector<CredentialHash>>> credentials_of;
  SharedTable<std::unordered_map<PersonId, std::vector<QuarantineOrder>>> quarantines_of;
  SharedTable<std::unordered_map<PersonId, std::vector<SingleVisitPass>>> passes_of;
  SharedTable<std::map<std::string, Gate, std::less<>>> gates;  // by gate id
  SharedTable<std::unordered_map<PersonId, HealthRecord>> health_of;
  SharedTable<std::unordered_map<PersonId, std::vector<LeaveApproval>>> leaves_of;
  std::shared_ptr<const ZonePolicy> zones = ZonePolicy::Default();
  int mode = 0;  // index into zones->modes

  const Person* FindPerson(PersonId id) const;
  const Person* FindByExternalId(std::string_view external_id) const;
  const Person* FindByCredential(const CredentialHash& hash) const;
  const Gate* FindGate(std::string_view gate_id) const;
  const Gate* FindGateByRow(GateRowId id) const;  // linear: a campus has dozens of gates
  std::span<const QuarantineOrder> QuarantinesOf(PersonId id) const;
  std::span<const SingleVisitPass> PassesOf(PersonId id) const;
  // The order in force at t, if any.
  const QuarantineOrder* ActiveQuarantine(PersonId id, TimePoint t) const;
  std::span<const LeaveApproval> LeavesOf(PersonId id) const;
  // Green when no record exists: a missing code is a data gap, not a red code.
  HealthColour HealthOf(PersonId id) const;
  const CampusMode& Mode() const { return zones->modes[static_cast<size_t>(mode)]; }

  // Edits used while building the next snapshot.
  void PutPerson(const Person& person);
  // Replaces the person's credentials; the caller checked none belongs to
  // someone else.
  void SetCredentials(PersonId id, std::vector<CredentialHash> hashes);
  void PutQuarantine(const QuarantineOrder& order);  // insert or replace by id
  void PutPass(const SingleVisitPass& pass);         // insert or replace by id
  void PutGate(const Gate& gate);
  void PutLeave(const LeaveApproval& leave);  // insert or replace by id
  // Installs a new layout and keeps the current mode when the new layout
  // still has it, otherwise (or coming from the default) switches to the
  // layout's initial mode.
  void SetZones(std::shared_ptr<const ZonePolicy> layout);
};

}  // namespace cordon
