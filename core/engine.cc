#include "core/engine.h"

#include <algorithm>

#include "core/identifiers.h"

namespace cordon {
namespace {

// What every rule needs to know about one scan.
struct Scan {
  const PolicySnapshot& policy;
  const AccessState& state;
  const Person& person;
  const ZonePolicy& zones;
  const CampusMode& mode;
  GateZones gate;
  TimePoint now;

  const std::string& InnerId() const { return zones.zones[static_cast<size_t>(gate.inner)].id; }
};

std::vector<std::string> PathOf(const ZonePolicy& zones, ZoneIndex zone) {
  std::vector<std::string> out;
  if (zone == kOutside) return out;
  const auto& path = zones.zones[static_cast<size_t>(zone)].path;
  out.reserve(path.size());
  for (ZoneIndex z : path) out.push_back(zones.zones[static_cast<size_t>(z)].id);
  return out;
}

bool InZone(std::span<const std::string> path, std::string_view zone) {
  return std::find(path.begin(), path.end(), zone) != path.end();
}

bool HasCohort(const Person& p, std::string_view cohort) {
  return std::find(p.cohorts.begin(), p.cohorts.end(), cohort) != p.cohorts.end();
}

Decision Deny(const PolicySnapshot& policy, PersonId person, Reason reason, std::string display,
              std::string rule) {
  Decision d;
  d.allowed = false;
  d.reason = reason;
  d.policy_version = policy.version;
  d.person = person;
  d.display = std::move(display);
  d.rule = std::move(rule);
  return d;
}

Decision Deny(const Scan& s, Reason reason, std::string display, std::string rule) {
  return Deny(s.policy, s.person.id, reason, std::move(display), std::move(rule));
}

Decision Allow(const Scan& s, Direction direction, Reason reason, std::string rule) {
  Decision d;
  d.allowed = true;
  d.reason = reason;
  d.policy_version = s.policy.version;
  d.person = s.person.id;
  d.display =
      (direction == Direction::kIn ? "Welcome, " : "Goodbye, ") + MaskName(s.person.name);
  d.rule = std::move(rule);
  d.to_path = PathOf(s.zones, direction == Direction::kIn ? s.gate.inner : s.gate.outer);
  d.cohorts = s.person.cohorts;
  return d;
}

Reason ResidentReason(PersonCategory c) {
  return c == PersonCategory::kResidentStaff ? Reason::kAllowResidentStaff : Reason::kAllowStudent;
}

// The unused pass valid at `now` that ends first. *used_up tells whether a
// pass valid now exists but was already used for an entry.
const SingleVisitPass* EntryPass(const PolicySnapshot& policy, const AccessState& state,
                                 PersonId person, TimePoint now, bool* used_up) {
  const SingleVisitPass* best = nullptr;
  for (const auto& pass : policy.PassesOf(person)) {
    if (!pass.ValidAt(now)) continue;
    if (state.ProgressOf(pass.id).entered_at) {
      *used_up = true;
      continue;
    }
    if (best == nullptr || pass.valid_until < best->valid_until) best = &pass;
  }
  return best;
}

// The pass the person entered on and has not yet left on.
const SingleVisitPass* OpenPass(const PolicySnapshot& policy, const AccessState& state,
                                PersonId person) {
  for (const auto& pass : policy.PassesOf(person)) {
    PassProgress progress = state.ProgressOf(pass.id);
    if (progress.entered_at && !progress.exited_at) return &pass;
  }
  return nullptr;
}

// The unused leave whose exit window is open at `now` and closes first.
const LeaveApproval* ExitLeave(const PolicySnapshot& policy, const AccessState& state,
                               PersonId person, TimePoint now) {
  const LeaveApproval* best = nullptr;
  for (const auto& leave : policy.LeavesOf(person)) {
    if (!leave.ExitOpenAt(now) || state.ProgressOfLeave(leave.id).exited_at) continue;
    if (best == nullptr || leave.exit_until < best->exit_until) best = &leave;
  }
  return best;
}

// The leave the person went out on and has not come back from.
const LeaveApproval* ReturningLeave(const PolicySnapshot& policy, const AccessState& state,
                                    PersonId person) {
  for (const auto& leave : policy.LeavesOf(person)) {
    LeaveProgress progress = state.ProgressOfLeave(leave.id);
    if (progress.exited_at && !progress.returned_at) return &leave;
  }
  return nullptr;
}

std::string Minutes(Micros d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::minutes>(d).count()) + " min";
}

// The mode's rule for the inner zone, its capacity and the separation
// rules; nullopt when they let the person in.
std::optional<Decision> ZoneRules(const Scan& s) {
  const std::string& zone = s.InnerId();
  const ZoneRule& rule = s.mode.zones[static_cast<size_t>(s.gate.inner)];
  switch (rule.access) {
    case ZoneAccess::kOpen: break;
    case ZoneAccess::kClosed:
      return Deny(s, Reason::kDenyZoneClosed, "Closed: " + zone,
                  "zone " + zone + " closed in " + s.mode.id);
    case ZoneAccess::kCohorts: {
      bool member = std::any_of(rule.cohorts.begin(), rule.cohorts.end(),
                                [&](const std::string& c) { return HasCohort(s.person, c); });
      if (!member) {
        return Deny(s, Reason::kDenyZoneCohort, "Not open to your group now: " + zone,
                    "zone " + zone + " open only to named cohorts in " + s.mode.id);
      }
      break;
    }
    case ZoneAccess::kRestricted: {
      bool has_permission = false;
      bool in_window = false;
      int minute = MinuteOfWeek(s.now, s.zones.utc_offset);
      for (const auto& name : s.person.cohorts) {
        const Cohort* cohort = s.zones.FindCohort(name);
        const ZonePermission* p = cohort ? cohort->PermissionFor(s.gate.inner) : nullptr;
        if (p == nullptr) continue;
        has_permission = true;
        in_window = p->windows.empty() ||
                    std::any_of(p->windows.begin(), p->windows.end(),
                                [&](const WeeklyWindow& w) { return w.Contains(minute); });
        if (in_window) break;
      }
      if (!has_permission) {
        return Deny(s, Reason::kDenyNoZonePermission, "No permission for " + zone,
                    "zone " + zone + " restricted: no cohort permission");
      }
      if (!in_window) {
        return Deny(s, Reason::kDenyOutsideTimeWindow, "Not your time slot: " + zone,
                    "zone " + zone + ": outside the cohort's time windows");
      }
      break;
    }
  }
  const Zone& z = s.zones.zones[static_cast<size_t>(s.gate.inner)];
  if (z.capacity && s.state.Occupancy(zone) >= *z.capacity) {
    Decision d = Deny(s, Reason::kDenyZoneFull, "Full: please wait",
                      "capacity " + zone + " " + std::to_string(*z.capacity));
    d.alert = AlertKind::kZoneAtCapacity;
    return d;
  }
  for (const auto& sep : s.zones.separation) {
    if (sep.zone != s.gate.inner) continue;
    const std::string* other = HasCohort(s.person, sep.a)   ? &sep.b
                               : HasCohort(s.person, sep.b) ? &sep.a
                                                            : nullptr;
    if (other == nullptr) continue;
    std::optional<Decision> d;
    if (s.state.CohortCount(zone, *other) > 0) {
      d = Deny(s, Reason::kDenyCohortSeparation, "Not now: another group is inside",
               "separation " + sep.Label(s.zones) + ": " + *other + " inside");
    } else if (auto left = s.state.CohortLastLeft(zone, *other);
               left && s.now < *left + sep.buffer) {
      d = Deny(s, Reason::kDenyCohortSeparation, "Not yet: cleaning after another group",
               "separation " + sep.Label(s.zones) + ": " + *other + " left less than " +
                   Minutes(sep.buffer) + " ago");
    }
    if (d) {
      d->alert = AlertKind::kSeparationAttempt;
      return d;
    }
  }
  return std::nullopt;
}

Decision DecideEntry(const Scan& s) {
  const Person& person = s.person;
  if (const QuarantineOrder* q = s.policy.ActiveQuarantine(person.id, s.now)) {
    Decision d = Deny(s, Reason::kDenyQuarantine, "Entry denied: isolation order in force",
                      "quarantine order " + std::to_string(q->id));
    d.alert = AlertKind::kRestrictedPerson;
    return d;
  }
  HealthColour health = s.policy.HealthOf(person.id);
  if (!s.mode.Admits(health)) {
    std::string colour(HealthColourName(health));
    Decision d = Deny(s, Reason::kDenyHealthStatus, "Entry denied: health code " + colour,
                      "health " + colour + " not admitted in " + s.mode.id);
    if (health == HealthColour::kRed) d.alert = AlertKind::kRestrictedPerson;
    return d;
  }
  std::span<const std::string> path = s.state.ZonePathOf(person.id);
  if (InZone(path, s.InnerId())) {
    bool campus = s.gate.AtCampusEdge();
    return Deny(s, campus ? Reason::kDenyAlreadyOnCampus : Reason::kDenyAlreadyInZone,
                campus ? "Already on campus: no exit recorded" : "Already inside: no exit recorded",
                "anti-passback: already in " + s.InnerId());
  }

  Reason reason = IsResident(person.category) ? ResidentReason(person.category)
                                              : Reason::kAllowZoneMove;
  std::string rule(CategoryName(person.category));
  PassId pass = 0;
  LeaveId leave = 0;
  if (s.gate.AtCampusEdge()) {
    if (NeedsDisinfection(person.category)) {
      auto last = s.state.LastDisinfection(person.id);
      if (!last || *last > s.now || s.now - *last > s.zones.disinfection_valid) {
        return Deny(s, Reason::kDenyNoDisinfection, "No recent disinfection: see the guard",
                    "disinfection within " + Minutes(s.zones.disinfection_valid));
      }
      reason = Reason::kAllowVehicle;
      rule = "disinfected " + Minutes(s.now - *last) + " ago";
    } else if (NeedsPass(person.category)) {
      bool used_up = false;
      const SingleVisitPass* p = EntryPass(s.policy, s.state, person.id, s.now, &used_up);
      if (p == nullptr && used_up) {
        return Deny(s, Reason::kDenyPassUsed, "Pass already used", "pass used");
      }
      if (p == nullptr) {
        return Deny(s, Reason::kDenyNoValidPass, "No pass valid now: contact your host",
                    "no pass valid now");
      }
      reason = Reason::kAllowPassEntry;
      pass = p->id;
      rule = "pass " + std::to_string(p->id);
    } else if (const LeaveApproval* l = ReturningLeave(s.policy, s.state, person.id)) {
      reason = Reason::kAllowLeaveReturn;
      leave = l->id;
      rule = "return from leave " + std::to_string(l->id);
    }
  }
  if (std::optional<Decision> refused = ZoneRules(s)) return *std::move(refused);

  Decision d = Allow(s, Direction::kIn, reason, std::move(rule));
  if (pass != 0) {
    d.pass = pass;
    d.pass_step = PassStep::kEntry;
  }
  if (leave != 0) {
    d.leave = leave;
    d.leave_step = LeaveStep::kReturn;
  }
  // Someone inside the campus who never came through its edge.
  if (!s.gate.AtCampusEdge() && path.empty()) d.alert = AlertKind::kNeverSeenEntering;
  return d;
}

Decision DecideExit(const Scan& s) {
  const Person& person = s.person;
  bool inside = InZone(s.state.ZonePathOf(person.id), s.InnerId());
  if (s.gate.AtCampusEdge() && s.mode.leave_required && IsResident(person.category)) {
    const LeaveApproval* leave = ExitLeave(s.policy, s.state, person.id, s.now);
    if (leave == nullptr) {
      return Deny(s, Reason::kDenyNoLeave, "Leaving needs an approved leave",
                  "no approved leave open now (" + s.mode.id + ")");
    }
    Decision d = Allow(s, Direction::kOut, Reason::kAllowLeaveExit,
                       "leave " + std::to_string(leave->id));
    d.leave = leave->id;
    d.leave_step = LeaveStep::kExit;
    if (!inside) d.alert = AlertKind::kExitWithoutEntry;
    return d;
  }
  if (!inside) {
    Decision d = Allow(s, Direction::kOut, Reason::kAllowExitWithoutEntry,
                       "never seen entering " + s.InnerId());
    d.alert = AlertKind::kExitWithoutEntry;
    return d;
  }
  std::string rule(CategoryName(person.category));
  if (IsResident(person.category)) {
    return Allow(s, Direction::kOut, ResidentReason(person.category), std::move(rule));
  }
  if (!s.gate.AtCampusEdge()) return Allow(s, Direction::kOut, Reason::kAllowZoneMove, rule);
  if (NeedsDisinfection(person.category)) {
    return Allow(s, Direction::kOut, Reason::kAllowVehicle, std::move(rule));
  }
  Decision d = Allow(s, Direction::kOut, Reason::kAllowPassExit, std::move(rule));
  if (const SingleVisitPass* pass = OpenPass(s.policy, s.state, person.id)) {
    d.pass = pass->id;
    d.pass_step = PassStep::kExit;
  }
  return d;
}

}  // namespace

std::string_view AlertKindName(AlertKind kind) {
  switch (kind) {
    case AlertKind::kExitWithoutEntry: return "exit_without_entry";
    case AlertKind::kLateViolation: return "late_violation";
    case AlertKind::kClockSkew: return "clock_skew";
    case AlertKind::kNeverSeenEntering: return "never_seen_entering";
    case AlertKind::kRestrictedPerson: return "restricted_person_at_gate";
    case AlertKind::kSeparationAttempt: return "separation_attempt";
    case AlertKind::kZoneAtCapacity: return "zone_at_capacity";
    case AlertKind::kPassOverstay: return "pass_overstay";
    case AlertKind::kLeaveOverdue: return "leave_overdue";
    case AlertKind::kGateSilent: return "gate_silent";
  }
  return "unknown";
}

std::optional<AlertKind> AlertKindFromNumber(int number) {
  for (AlertKind k : kAllAlertKinds) {
    if (static_cast<int>(k) == number) return k;
  }
  return std::nullopt;
}

Severity SeverityOf(AlertKind kind) {
  switch (kind) {
    case AlertKind::kLateViolation:
    case AlertKind::kRestrictedPerson:
    case AlertKind::kNeverSeenEntering:
    case AlertKind::kSeparationAttempt: return Severity::kCritical;
    case AlertKind::kZoneAtCapacity: return Severity::kInfo;
    default: return Severity::kWarning;
  }
}

Decision Decide(const PolicySnapshot& policy, const AccessState& state, const ScanInput& scan,
                TimePoint now) {
  const Person* person = policy.FindByCredential(scan.credential);
  if (person == nullptr) {
    return Deny(policy, 0, Reason::kDenyUnknownCredential, "Card not recognised",
                "unknown credential");
  }
  if (!person->active) {
    return Deny(policy, person->id, Reason::kDenyPersonInactive,
                "Access suspended: see the security office", "person inactive");
  }
  if (person->ExpiredAt(now)) {
    return Deny(policy, person->id, Reason::kDenyPersonExpired,
                "Access expired: see the security office", "person expired");
  }
  const ZonePolicy& zones = *policy.zones;
  Scan s{policy, state, *person, zones, policy.Mode(), zones.ZonesOfGate(scan.gate), now};
  return scan.direction == Direction::kIn ? DecideEntry(s) : DecideExit(s);
}

Movement HeldMovement(const PolicySnapshot& policy, const AccessState& state, PersonId person,
                      Direction direction, Reason reason, std::string_view gate, TimePoint at,
                      GateRowId gate_row) {
  Movement m;
  m.person = person;
  m.direction = direction;
  m.at = at;
  m.gate = gate_row;
  GateZones zones = policy.zones->ZonesOfGate(gate);
  m.to_path = PathOf(*policy.zones, direction == Direction::kIn ? zones.inner : zones.outer);
  if (const Person* p = policy.FindPerson(person)) m.cohorts = p->cohorts;
  if (reason == Reason::kAllowPassEntry) {
    bool used_up = false;
    if (const SingleVisitPass* pass = EntryPass(policy, state, person, at, &used_up)) {
      m.pass = pass->id;
      m.pass_step = PassStep::kEntry;
    }
  } else if (reason == Reason::kAllowPassExit) {
    if (const SingleVisitPass* pass = OpenPass(policy, state, person)) {
      m.pass = pass->id;
      m.pass_step = PassStep::kExit;
    }
  } else if (reason == Reason::kAllowLeaveExit) {
    if (const LeaveApproval* leave = ExitLeave(policy, state, person, at)) {
      m.leave = leave->id;
      m.leave_step = LeaveStep::kExit;
    }
  } else if (reason == Reason::kAllowLeaveReturn) {
    if (const LeaveApproval* leave = ReturningLeave(policy, state, person)) {
      m.leave = leave->id;
      m.leave_step = LeaveStep::kReturn;
    }
  }
  return m;
}

Movement MovementOf(const Decision& d, Direction direction, TimePoint at, GateRowId gate) {
  Movement m;
  m.person = d.person;
  m.direction = direction;
  m.at = at;
  m.gate = gate;
  m.pass = d.pass;
  m.pass_step = d.pass_step;
  m.leave = d.leave;
  m.leave_step = d.leave_step;
  m.to_path = d.to_path;
  m.cohorts = d.cohorts;
  return m;
}

}  // namespace cordon
