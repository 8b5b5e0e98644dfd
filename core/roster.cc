#include "core/roster.h"

#include <unordered_map>

#include "core/identifiers.h"

namespace cordon {
namespace {

std::string CheckCohort(std::string_view cohort) {
  if (cohort.size() > kMaxCohortLength) {
    return "must be at most " + std::to_string(kMaxCohortLength) + " bytes";
  }
  return CheckFreeText(cohort);
}

}  // namespace

RosterPlan PlanRosterImport(const PolicySnapshot& current, std::span<const RosterRow> rows,
                            const CredentialHasher& hasher) {
  RosterPlan plan;
  std::unordered_map<std::string, int> line_of_external_id;
  // Who will hold each credential once the import is applied: first the
  // current owners, minus the credentials of people whose set is replaced.
  std::unordered_map<CredentialHash, std::string, CredentialHashHasher> owner;
  std::unordered_map<CredentialHash, int, CredentialHashHasher> line_of_credential;
  for (const auto& [hash, person_id] : *current.people_by_credential) {
    owner[hash] = current.FindPerson(person_id)->external_id;
  }
  for (const RosterRow& row : rows) {
    if (row.credentials.empty()) continue;
    if (const Person* existing = current.FindByExternalId(row.external_id)) {
      auto it = current.credentials_of->find(existing->id);
      if (it == current.credentials_of->end()) continue;
      for (const auto& h : it->second) {
        if (auto o = owner.find(h); o != owner.end() && o->second == row.external_id) owner.erase(o);
      }
    }
  }

  for (const RosterRow& row : rows) {
    std::vector<RosterProblem> problems;
    auto bad = [&](std::string field, std::string message) {
      problems.push_back({row.line, std::move(field), std::move(message)});
    };
    if (auto p = CheckExternalId(row.external_id); !p.empty()) bad("external_id", p);
    if (auto p = CheckName(row.name); !p.empty()) bad("name", p);
    auto category = ParseCategory(row.category);
    if (!category) {
      bad("category", "'" + row.category +
                          "' is not one of resident_staff, student, single_visit, contractor");
    }
    if (auto p = CheckCohort(row.cohort); !p.empty()) bad("cohort", p);
    if (!row.external_id.empty()) {
      auto [it, inserted] = line_of_external_id.try_emplace(row.external_id, row.line);
      if (!inserted) bad("external_id", "'" + row.external_id + "' is also on line " +
                                            std::to_string(it->second));
    }
    std::vector<CredentialHash> hashes;
    for (const std::string& credential : row.credentials) {
      if (auto p = CheckCredential(credential); !p.empty()) {
        bad("credential", p);
        continue;
      }
      CredentialHash h = hasher.Hash(credential);
      if (auto [it, inserted] = line_of_credential.try_emplace(h, row.line); !inserted) {
        bad("credential", it->second == row.line ? std::string("listed twice")
                                                 : "also on line " + std::to_string(it->second));
        continue;
      }
      if (auto o = owner.find(h); o != owner.end() && o->second != row.external_id) {
        bad("credential", "already belongs to " + o->second);
        continue;
      }
      hashes.push_back(h);
    }
    if (!problems.empty()) {
      plan.problems.insert(plan.problems.end(), problems.begin(), problems.end());
      continue;
    }
    for (const auto& h : hashes) owner[h] = row.external_id;

    PersonRecord rec;
    const Person* existing = current.FindByExternalId(row.external_id);
    if (existing) rec.person = *existing;
    rec.person.external_id = row.external_id;
    rec.person.name = row.name;
    rec.person.category = *category;
    rec.person.cohort = row.cohort;
    rec.person.active = row.active;
    rec.person.valid_until = row.valid_until;
    if (!row.credentials.empty()) rec.credentials = std::move(hashes);
    (existing ? plan.updated : plan.added)++;
    plan.people.push_back(std::move(rec));
  }
  return plan;
}

}  // namespace cordon
