// Importing a roster: validate every row against the current policy and the
// other rows, and plan the people to write. Pure: the caller decides whether
// to apply a plan that has problems.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/credential.h"
#include "core/model.h"
#include "core/policy_snapshot.h"

namespace cordon {

// A person with the credential hashes to store; credentials == nullopt keeps
// the stored ones.
struct PersonRecord {
  Person person;
  std::optional<std::vector<CredentialHash>> credentials;
};

struct RosterRow {
  int line = 0;  // in the source file, for the report
  std::string external_id;
  std::string name;
  std::string category;  // "resident_staff", "student", "single_visit", "contractor"
  std::string cohort;
  std::vector<std::string> credentials;  // empty: keep the person's credentials
  bool active = true;
  std::optional<TimePoint> valid_until;
};

struct RosterProblem {
  int line = 0;
  std::string field;
  std::string message;
};

struct RosterPlan {
  std::vector<PersonRecord> people;  // the good rows; ids set for existing people
  std::vector<RosterProblem> problems;
  int added = 0;
  int updated = 0;
};

inline constexpr size_t kMaxCohortLength = 256;  // several cohort ids, ";"-separated

RosterPlan PlanRosterImport(const PolicySnapshot& current, std::span<const RosterRow> rows,
                            const CredentialHasher& hasher);

}  // namespace cordon
