#include "policydoc/policy_document.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>

namespace cordon::policydoc {
namespace {

int LineOf(const YAML::Node& n) { return n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

bool ValidId(const std::string& id) {
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (id.empty() || id.size() > 64 || !lower_or_digit(id[0])) return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return lower_or_digit(c) || c == '-' || c == '_'; });
}

constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int DayIndex(std::string_view d) {
  for (int i = 0; i < 7; ++i) {
    if (kDays[i] == d) return i;
  }
  return -1;
}

bool ParseClock(std::string_view t, int& minute) {
  int h = 0, m = 0;
  if (t.size() != 5 || t[2] != ':') return false;
  if (std::from_chars(t.data(), t.data() + 2, h).ec != std::errc{}) return false;
  if (std::from_chars(t.data() + 3, t.data() + 5, m).ec != std::errc{}) return false;
  if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  minute = h * 60 + m;
  return true;
}

// Reads one document, collecting every error rather than stopping at the first.
class Reader {
 public:
  explicit Reader(std::vector<DocumentError>& errors) : errors_(errors) {}

  void Error(const YAML::Node& n, std::string message) {
    errors_.push_back(DocumentError{LineOf(n), std::move(message)});
  }

  // Reports keys of `map` not in `allowed` (a typo must not be silently ignored).
  void OnlyKeys(const YAML::Node& map, const std::string& what,
                std::initializer_list<std::string_view> allowed) {
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        Error(kv.first, what + ": unknown key '" + key + "' (expected one of: " + list + ")");
      }
    }
  }

  bool Map(const YAML::Node& n, const std::string& what) {
    if (n.IsMap()) return true;
    Error(n, what + " must be a mapping");
    return false;
  }
  bool Seq(const YAML::Node& n, const std::string& what) {
    if (n.IsSequence()) return true;
    Error(n, what + " must be a list");
    return false;
  }
  std::optional<std::string> Str(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      Error(n, what + " must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }
  std::optional<std::string> Id(const YAML::Node& n, const std::string& what) {
    auto s = Str(n, what);
    if (s && !ValidId(*s)) {
      Error(n, what + " '" + *s +
                   "' is not an id (lower-case letters, digits, '-' and '_'; at most 64)");
      return std::nullopt;
    }
    return s;
  }
  std::optional<int64_t> Int(const YAML::Node& n, const std::string& what, int64_t min,
                             int64_t max) {
    int64_t v = 0;
    const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!n.IsScalar() || ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) {
      Error(n, what + " must be a whole number from " + std::to_string(min) + " to " +
                   std::to_string(max));
      return std::nullopt;
    }
    return v;
  }
  std::optional<bool> Bool(const YAML::Node& n, const std::string& what) {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
      return n.Scalar() == "true";
    }
    Error(n, what + " must be true or false");
    return std::nullopt;
  }

 private:
  std::vector<DocumentError>& errors_;
};

struct Builder {
  Reader& r;
  ZonePolicy& p;
  std::map<std::string, int> zone_line;

  void ReadZone(const YAML::Node& n, ZoneIndex parent) {
    if (!r.Map(n, "a zone")) return;
    r.OnlyKeys(n, "zone", {"id", "name", "capacity", "max_stay_hours", "zones"});
    auto id = n["id"] ? r.Id(n["id"], "zone id") : (r.Error(n, "zone: missing 'id'"), std::nullopt);
    if (!id) return;
    if (*id == "outside") {
      r.Error(n["id"], "zone id 'outside' is reserved for the world beyond the campus");
      return;
    }
    if (zone_line.count(*id)) {
      r.Error(n["id"], "zone '" + *id + "' is defined twice (first on line " +
                           std::to_string(zone_line[*id]) + ")");
      return;
    }
    zone_line[*id] = LineOf(n["id"]);
    Zone z;
    z.id = *id;
    z.name = n["name"] ? r.Str(n["name"], "zone name").value_or("") : *id;
    z.parent = parent;
    if (n["capacity"]) {
      if (auto c = r.Int(n["capacity"], "capacity of zone '" + *id + "'", 1, 10'000'000)) {
        z.capacity = static_cast<int>(*c);
      }
    }
    if (n["max_stay_hours"]) {
      if (auto h = r.Int(n["max_stay_hours"], "max_stay_hours of zone '" + *id + "'", 1, 24 * 366)) {
        z.max_stay = std::chrono::hours(*h);
      }
    }
    ZoneIndex self = static_cast<ZoneIndex>(p.zones.size());
    if (parent != kOutside) z.path = p.zones[static_cast<size_t>(parent)].path;
    z.path.push_back(self);
    p.zones.push_back(std::move(z));
    if (n["zones"] && r.Seq(n["zones"], "zones of '" + *id + "'")) {
      for (const auto& child : n["zones"]) ReadZone(child, self);
    }
  }

  // The zone `n` names (kOutside for "outside" when allowed); nullopt after
  // reporting an error.
  std::optional<ZoneIndex> ZoneRef(const YAML::Node& n, const std::string& what,
                                   bool allow_outside = false) {
    auto id = r.Str(n, what);
    if (!id) return std::nullopt;
    if (allow_outside && *id == "outside") return kOutside;
    ZoneIndex z = p.FindZone(*id);
    if (z == kOutside) {
      r.Error(n, what + ": no zone '" + *id + "'");
      return std::nullopt;
    }
    return z;
  }

  bool CohortRef(const YAML::Node& n, const std::string& what, std::string& out) {
    auto id = r.Str(n, what);
    if (!id) return false;
    if (p.FindCohort(*id) == nullptr) {
      r.Error(n, what + ": no cohort '" + *id + "'");
      return false;
    }
    out = *id;
    return true;
  }

  void ReadCohorts(const YAML::Node& list) {
    if (!r.Seq(list, "cohorts")) return;
    // Ids first, so permissions and rules may name any cohort.
    std::map<std::string, int> seen;
    for (const auto& n : list) {
      if (!r.Map(n, "a cohort")) continue;
      r.OnlyKeys(n, "cohort", {"id", "description", "permissions"});
      if (!n["id"]) {
        r.Error(n, "cohort: missing 'id'");
        continue;
      }
      auto id = r.Id(n["id"], "cohort id");
      if (!id) continue;
      if (seen.count(*id)) {
        r.Error(n["id"], "cohort '" + *id + "' is defined twice (first on line " +
                             std::to_string(seen[*id]) + ")");
        continue;
      }
      seen[*id] = LineOf(n["id"]);
      Cohort c;
      c.id = *id;
      if (n["description"]) c.description = r.Str(n["description"], "description").value_or("");
      p.cohorts.push_back(std::move(c));
    }
    for (const auto& n : list) {
      if (!n.IsMap() || !n["id"] || !n["permissions"]) continue;
      Cohort* c = nullptr;
      for (auto& x : p.cohorts) {
        if (x.id == n["id"].Scalar()) c = &x;
      }
      if (c == nullptr || !r.Seq(n["permissions"], "permissions of '" + c->id + "'")) continue;
      for (const auto& perm : n["permissions"]) {
        if (!r.Map(perm, "a permission")) continue;
        r.OnlyKeys(perm, "permission", {"zone", "windows"});
        if (!perm["zone"]) {
          r.Error(perm, "permission: missing 'zone'");
          continue;
        }
        ZonePermission zp;
        auto zone = ZoneRef(perm["zone"], "permission of '" + c->id + "'");
        if (!zone) continue;
        zp.zone = *zone;
        if (c->PermissionFor(zp.zone)) {
          r.Error(perm["zone"], "cohort '" + c->id + "' has two permissions for zone '" +
                                    perm["zone"].Scalar() + "'");
          continue;
        }
        if (perm["windows"] && r.Seq(perm["windows"], "windows")) {
          for (const auto& w : perm["windows"]) {
            auto text = r.Str(w, "a window");
            std::string error;
            if (text && !ParseWeeklyWindows(*text, zp.windows, error)) r.Error(w, error);
          }
        }
        c->permissions.push_back(std::move(zp));
      }
    }
  }

  void ReadSeparation(const YAML::Node& list) {
    if (!r.Seq(list, "separation")) return;
    for (const auto& n : list) {
      if (!r.Map(n, "a separation rule")) continue;
      r.OnlyKeys(n, "separation rule", {"cohorts", "zone", "buffer_minutes"});
      SeparationRule rule;
      bool ok = true;
      if (!n["cohorts"] || !n["cohorts"].IsSequence() || n["cohorts"].size() != 2) {
        r.Error(n, "separation rule: 'cohorts' must list exactly two cohorts");
        ok = false;
      } else {
        ok = CohortRef(n["cohorts"][0], "separation rule", rule.a) &&
             CohortRef(n["cohorts"][1], "separation rule", rule.b) && ok;
        if (ok && rule.a == rule.b) {
          r.Error(n["cohorts"], "separation rule: a cohort cannot be kept apart from itself");
          ok = false;
        }
      }
      if (!n["zone"]) {
        r.Error(n, "separation rule: missing 'zone'");
        ok = false;
      } else {
        auto zone = ZoneRef(n["zone"], "separation rule");
        if (zone) rule.zone = *zone;
        ok = ok && zone.has_value();
      }
      if (n["buffer_minutes"]) {
        auto b = r.Int(n["buffer_minutes"], "buffer_minutes", 0, 7 * 24 * 60);
        if (b) rule.buffer = std::chrono::minutes(*b);
        ok = ok && b.has_value();
      }
      if (ok) p.separation.push_back(std::move(rule));
    }
  }

  void ReadGates(const YAML::Node& list) {
    if (!r.Seq(list, "gates")) return;
    for (const auto& n : list) {
      if (!r.Map(n, "a gate")) continue;
      r.OnlyKeys(n, "gate", {"id", "outer", "inner", "description"});
      if (!n["id"] || !n["inner"]) {
        r.Error(n, "gate: needs 'id' and 'inner' ('outer' defaults to the inner zone's parent)");
        continue;
      }
      auto id = r.Str(n["id"], "gate id");
      if (!id) continue;
      if (p.gates.count(*id)) {
        r.Error(n["id"], "gate '" + *id + "' is listed twice");
        continue;
      }
      GateZones g;
      auto inner = ZoneRef(n["inner"], "gate '" + *id + "' inner");
      if (!inner) continue;
      g.inner = *inner;
      ZoneIndex parent = p.zones[static_cast<size_t>(g.inner)].parent;
      g.outer = parent;
      if (n["outer"]) {
        auto outer = ZoneRef(n["outer"], "gate '" + *id + "' outer", true);
        if (!outer) continue;
        g.outer = *outer;
        if (g.outer != parent) {
          r.Error(n["outer"], "gate '" + *id + "' must join '" + n["inner"].Scalar() +
                                  "' to the zone it lies in ('" +
                                  std::string(p.ZoneId(parent)) + "')");
          continue;
        }
      }
      p.gates[*id] = g;
    }
  }

  bool ReadAccess(const YAML::Node& n, const std::string& what, ZoneRule& out) {
    if (n.IsSequence()) {
      out.access = ZoneAccess::kCohorts;
      bool ok = n.size() > 0;
      if (!ok) r.Error(n, what + ": the list of cohorts is empty (use 'closed')");
      for (const auto& c : n) {
        std::string id;
        if (CohortRef(c, what, id)) {
          out.cohorts.push_back(id);
        } else {
          ok = false;
        }
      }
      return ok;
    }
    auto s = r.Str(n, what);
    if (!s) return false;
    if (*s == "open") {
      out.access = ZoneAccess::kOpen;
    } else if (*s == "closed") {
      out.access = ZoneAccess::kClosed;
    } else if (*s == "restricted") {
      out.access = ZoneAccess::kRestricted;
    } else {
      r.Error(n, what + ": '" + *s +
                     "' is not an access rule (open, closed, restricted, or a list of cohorts)");
      return false;
    }
    return true;
  }

  void ReadModes(const YAML::Node& list) {
    if (!r.Seq(list, "modes")) return;
    for (const auto& n : list) {
      if (!r.Map(n, "a mode")) continue;
      r.OnlyKeys(n, "mode",
                 {"id", "description", "health_admitted", "leave_required", "default_access",
                  "zones"});
      if (!n["id"]) {
        r.Error(n, "mode: missing 'id'");
        continue;
      }
      auto id = r.Id(n["id"], "mode id");
      if (!id) continue;
      if (p.FindMode(*id) >= 0) {
        r.Error(n["id"], "mode '" + *id + "' is defined twice");
        continue;
      }
      CampusMode m;
      m.id = *id;
      if (n["description"]) m.description = r.Str(n["description"], "description").value_or("");
      if (n["health_admitted"] && r.Seq(n["health_admitted"], "health_admitted")) {
        m.health_admitted.clear();
        for (const auto& c : n["health_admitted"]) {
          auto colour = c.IsScalar() ? ParseHealthColour(c.Scalar()) : std::nullopt;
          if (!colour) {
            r.Error(c, "health_admitted: '" + (c.IsScalar() ? c.Scalar() : std::string()) +
                           "' is not green, yellow or red");
          } else {
            m.health_admitted.push_back(*colour);
          }
        }
      }
      if (n["leave_required"]) {
        m.leave_required = r.Bool(n["leave_required"], "leave_required").value_or(false);
      }
      ZoneRule fallback;
      if (n["default_access"]) {
        ReadAccess(n["default_access"], "mode '" + *id + "' default_access", fallback);
      }
      m.zones.assign(p.zones.size(), fallback);
      if (n["zones"] && r.Map(n["zones"], "zones of mode '" + *id + "'")) {
        for (const auto& kv : n["zones"]) {
          auto z = ZoneRef(kv.first, "mode '" + *id + "'");
          if (!z) continue;
          ZoneRule rule;
          if (ReadAccess(kv.second, "mode '" + *id + "' zone '" + kv.first.Scalar() + "'", rule)) {
            m.zones[static_cast<size_t>(*z)] = std::move(rule);
          }
        }
      }
      p.modes.push_back(std::move(m));
    }
  }

  void ReadCampus(const YAML::Node& n) {
    if (!r.Map(n, "campus")) return;
    r.OnlyKeys(n, "campus", {"utc_offset", "disinfection_valid_minutes", "initial_mode"});
    if (n["utc_offset"]) {
      auto s = r.Str(n["utc_offset"], "utc_offset");
      int minute = 0;
      if (s && s->size() == 6 && ((*s)[0] == '+' || (*s)[0] == '-') &&
          ParseClock(std::string_view(*s).substr(1), minute) && minute < 24 * 60) {
        p.utc_offset = std::chrono::minutes((*s)[0] == '-' ? -minute : minute);
      } else if (s) {
        r.Error(n["utc_offset"], "utc_offset '" + *s + "' must look like +08:00");
      }
    }
    if (n["disinfection_valid_minutes"]) {
      if (auto m = r.Int(n["disinfection_valid_minutes"], "disinfection_valid_minutes", 1,
                         7 * 24 * 60)) {
        p.disinfection_valid = std::chrono::minutes(*m);
      }
    }
  }
};

}  // namespace

std::string DocumentError::ToString() const {
  return (line > 0 ? "line " + std::to_string(line) + ": " : std::string()) + message;
}

std::string ParseResult::ErrorText(size_t most) const {
  std::string out;
  for (size_t i = 0; i < errors.size() && i < most; ++i) out += errors[i].ToString() + "\n";
  if (errors.size() > most) {
    out += "... and " + std::to_string(errors.size() - most) + " more error(s)\n";
  }
  return out;
}

bool ParseWeeklyWindows(std::string_view text, std::vector<WeeklyWindow>& out,
                        std::string& error) {
  error = "window '" + std::string(text) +
          "' must look like 'mon-fri 11:00-13:30', 'daily 22:00-02:00' or 'sat,sun 10:00-12:00'";
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return false;
  std::string_view days = text.substr(0, space);
  std::string_view times = text.substr(space + 1);
  std::vector<int> day_list;
  if (days == "daily") {
    for (int d = 0; d < 7; ++d) day_list.push_back(d);
  } else {
    while (!days.empty()) {
      size_t comma = days.find(',');
      std::string_view part = days.substr(0, comma);
      size_t dash = part.find('-');
      int from = DayIndex(part.substr(0, dash));
      int to = dash == std::string_view::npos ? from : DayIndex(part.substr(dash + 1));
      if (from < 0 || to < 0) return false;
      for (int d = from;; d = (d + 1) % 7) {  // "sat-mon" runs over the week's end
        day_list.push_back(d);
        if (d == to) break;
      }
      if (comma == std::string_view::npos) break;
      days.remove_prefix(comma + 1);
    }
  }
  size_t dash = times.find('-');
  int begin = 0, end = 0;
  if (dash == std::string_view::npos || !ParseClock(times.substr(0, dash), begin) ||
      !ParseClock(times.substr(dash + 1), end) || begin == 24 * 60) {
    return false;
  }
  if (begin == end) {
    error = "window '" + std::string(text) + "' is empty (start equals end)";
    return false;
  }
  int length = end > begin ? end - begin : end + 24 * 60 - begin;  // past midnight
  for (int d : day_list) {
    int b = d * 24 * 60 + begin;
    out.push_back(WeeklyWindow{b, (b + length) % kMinutesPerWeek});
  }
  error.clear();
  return true;
}

ParseResult ParsePolicyDocument(std::string_view yaml) {
  ParseResult result;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    result.errors.push_back(DocumentError{e.mark.line + 1, e.msg});
    return result;
  }
  Reader r(result.errors);
  if (!root.IsMap()) {
    result.errors.push_back(DocumentError{0, "the policy must be a mapping with 'zones' and 'modes'"});
    return result;
  }
  auto policy = std::make_shared<ZonePolicy>();
  policy->document = std::string(yaml);
  Builder b{r, *policy, {}};
  r.OnlyKeys(root, "policy", {"campus", "zones", "cohorts", "separation", "gates", "modes"});
  if (root["campus"]) b.ReadCampus(root["campus"]);
  if (!root["zones"]) {
    result.errors.push_back(DocumentError{0, "missing 'zones': the campus zone tree"});
  } else if (r.Seq(root["zones"], "zones")) {
    if (root["zones"].size() != 1) {
      r.Error(root["zones"], "zones: exactly one top zone, the campus itself, with the "
                             "others under it");
    }
    for (const auto& z : root["zones"]) b.ReadZone(z, kOutside);
  }
  if (root["cohorts"]) b.ReadCohorts(root["cohorts"]);
  if (root["separation"]) b.ReadSeparation(root["separation"]);
  if (root["gates"]) b.ReadGates(root["gates"]);
  if (!root["modes"]) {
    result.errors.push_back(DocumentError{0, "missing 'modes': at least one campus mode"});
  } else {
    b.ReadModes(root["modes"]);
    if (policy->modes.empty() && result.errors.empty()) {
      r.Error(root["modes"], "modes: at least one campus mode");
    }
  }
  if (root["campus"] && root["campus"].IsMap() && root["campus"]["initial_mode"]) {
    const YAML::Node& n = root["campus"]["initial_mode"];
    auto id = r.Str(n, "initial_mode");
    if (id && policy->FindMode(*id) < 0) {
      r.Error(n, "initial_mode: no mode '" + *id + "'");
    } else if (id) {
      policy->initial_mode = *id;
    }
  } else if (!policy->modes.empty()) {
    policy->initial_mode = policy->modes.front().id;
  }
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const DocumentError& x, const DocumentError& y) { return x.line < y.line; });
  if (result.errors.empty()) result.policy = std::move(policy);
  return result;
}

namespace {

std::string WindowsText(const std::vector<WeeklyWindow>& windows) {
  if (windows.empty()) return "any time";
  std::string out;
  for (const auto& w : windows) {
    auto clock = [](int m) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%s %02d:%02d", std::string(kDays[m / 1440]).c_str(),
                    (m % 1440) / 60, m % 60);
      return std::string(buf);
    };
    out += (out.empty() ? "" : ", ") + clock(w.begin) + "-" + clock(w.end).substr(4);
  }
  return out;
}

std::string AccessText(const ZoneRule& rule) {
  if (rule.access != ZoneAccess::kCohorts) return std::string(ZoneAccessName(rule.access));
  std::string out = "only ";
  for (size_t i = 0; i < rule.cohorts.size(); ++i) out += (i ? ", " : "") + rule.cohorts[i];
  return out;
}

// Each item of a policy as (key, description): a change is a key whose
// description differs.
std::map<std::string, std::string> Items(const ZonePolicy& p) {
  std::map<std::string, std::string> items;
  items["campus utc_offset"] =
      std::to_string(std::chrono::duration_cast<std::chrono::minutes>(p.utc_offset).count()) +
      " min";
  items["campus disinfection"] =
      std::to_string(std::chrono::duration_cast<std::chrono::minutes>(p.disinfection_valid).count()) +
      " min";
  items["campus initial_mode"] = p.initial_mode;
  for (const auto& z : p.zones) {
    items["zone " + z.id] = "in " + std::string(p.ZoneId(z.parent)) +
                            (z.capacity ? ", capacity " + std::to_string(*z.capacity) : "") +
                            " (" + z.name + ")";
  }
  for (const auto& c : p.cohorts) {
    items["cohort " + c.id] = c.description;
    for (const auto& perm : c.permissions) {
      items["cohort " + c.id + " may enter " + std::string(p.ZoneId(perm.zone))] =
          WindowsText(perm.windows);
    }
  }
  for (const auto& s : p.separation) {
    items["separation " + s.Label(p)] =
        "buffer " +
        std::to_string(std::chrono::duration_cast<std::chrono::minutes>(s.buffer).count()) +
        " min";
  }
  for (const auto& [id, g] : p.gates) {
    items["gate " + id] = std::string(p.ZoneId(g.outer)) + " -> " + std::string(p.ZoneId(g.inner));
  }
  for (const auto& m : p.modes) {
    std::string health;
    for (auto c : m.health_admitted) health += (health.empty() ? "" : ",") + std::string(HealthColourName(c));
    items["mode " + m.id] = "admits " + health + (m.leave_required ? ", leave required" : "");
    for (size_t z = 0; z < m.zones.size(); ++z) {
      items["mode " + m.id + ": " + p.zones[z].id] = AccessText(m.zones[z]);
    }
  }
  return items;
}

}  // namespace

std::vector<std::string> DescribeChanges(const ZonePolicy& before, const ZonePolicy& after) {
  auto a = Items(before);
  auto b = Items(after);
  std::vector<std::string> out;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end()) {
      out.push_back("- " + key + ": " + value);
    } else if (it->second != value) {
      out.push_back("~ " + key + ": " + value + " -> " + it->second);
    }
  }
  for (const auto& [key, value] : b) {
    if (!a.count(key)) out.push_back("+ " + key + ": " + value);
  }
  return out;
}

}  // namespace cordon::policydoc
