#include "core/offline.h"

#include <cctype>
#include <cstdlib>

namespace cordon {
namespace {

std::optional<Micros> ParseDuration(std::string_view v) {
  if (v == "0") return Micros(0);
  if (v.size() < 2) return std::nullopt;
  char unit = v.back();
  std::string digits(v.substr(0, v.size() - 1));
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  int64_t n = std::atoll(digits.c_str());
  switch (unit) {
    case 's': return std::chrono::seconds(n);
    case 'm': return std::chrono::minutes(n);
    case 'h': return std::chrono::hours(n);
    case 'd': return std::chrono::hours(24 * n);
    default: return std::nullopt;
  }
}

}  // namespace

OfflineLimits OfflineLimits::Defaults() {
  OfflineLimits l;
  l.max_age[static_cast<size_t>(PersonCategory::kResidentStaff)] = std::chrono::hours(72);
  l.max_age[static_cast<size_t>(PersonCategory::kStudent)] = std::chrono::hours(24);
  l.max_age[static_cast<size_t>(PersonCategory::kSingleVisit)] = std::chrono::hours(4);
  l.max_age[static_cast<size_t>(PersonCategory::kContractor)] = std::chrono::hours(4);
  l.max_age[static_cast<size_t>(PersonCategory::kVehicle)] = std::chrono::hours(4);
  l.max_age[static_cast<size_t>(PersonCategory::kDelivery)] = std::chrono::hours(4);
  return l;
}

absl::StatusOr<OfflineLimits> OfflineLimits::Parse(std::string_view text) {
  OfflineLimits l = Defaults();
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError("'" + std::string(item) + "': expected CATEGORY=AGE");
    }
    auto category = ParseCategory(item.substr(0, eq));
    if (!category) {
      return absl::InvalidArgumentError("'" + std::string(item.substr(0, eq)) +
                                        "' is not a category (resident_staff, student, "
                                        "single_visit, contractor)");
    }
    std::string_view value = item.substr(eq + 1);
    if (value == "none") {
      l.max_age[static_cast<size_t>(*category)] = std::nullopt;
      continue;
    }
    auto age = ParseDuration(value);
    if (!age) {
      return absl::InvalidArgumentError("'" + std::string(value) +
                                        "' is not an age such as 30m, 24h, 3d, 0 or none");
    }
    l.max_age[static_cast<size_t>(*category)] = *age;
  }
  return l;
}

Decision DecideOffline(const PolicySnapshot& policy, const AccessState& state,
                       const ScanInput& scan, TimePoint now, TimePoint policy_confirmed_at,
                       const OfflineLimits& limits) {
  if (policy.version == 0) {
    Decision d;
    d.reason = Reason::kDenyGateNoPolicy;
    d.display = "Gate offline: no policy";
    return d;
  }
  Decision d = Decide(policy, state, scan, now);
  if (!d.allowed || scan.direction != Direction::kIn) return d;
  const Person* person = policy.FindPerson(d.person);
  auto limit = person ? limits.For(person->category) : std::nullopt;
  if (limit && now - policy_confirmed_at > *limit) {
    Decision stale;
    stale.reason = Reason::kDenyGatePolicyStale;
    stale.policy_version = d.policy_version;
    stale.person = d.person;
    stale.display = "Gate offline too long: please see the guard";
    return stale;
  }
  return d;
}

}  // namespace cordon
