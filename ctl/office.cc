// cordonctl: the security office's commands (movements, stays, tracing,
// occupancy, the live view, the daily briefing).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "console/text.h"
#include "ctl/commands.h"
#include "ctl/format.h"

namespace cordon::ctl {
namespace {

using console::Table;

std::string Minutes(double m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", m);
  return buf;
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items,
                 const char* sep = ",") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string ZoneText(const std::string& z) { return z.empty() ? "outside" : z; }

std::string PersonText(const v1::PersonRef& p) {
  return p.name().empty() ? p.person() : p.person() + " (" + p.name() + ")";
}

// A DOT identifier: quoted, with quotes and backslashes escaped.
std::string DotId(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::optional<v1::DecisionFilter> DecisionFilterOf(const std::string& text) {
  if (text.empty()) return v1::DECISION_FILTER_ANY;
  if (text == "allowed") return v1::DECISION_FILTER_ALLOWED;
  if (text == "denied") return v1::DECISION_FILTER_DENIED;
  return std::nullopt;
}

}  // namespace

bool Commands::CheckFormat(const std::string& format,
                           std::initializer_list<const char*> allowed) const {
  std::string list;
  for (const char* a : allowed) {
    if (format == a) return true;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  err_ << "cordonctl: --format: '" << format << "' is not one of " << list << "\n";
  return false;
}

int Commands::Movements(const MovementFlags& f) {
  std::string format = options_.json ? "json" : f.format;
  if (!CheckFormat(format, {"table", "json", "csv"})) return kUsage;
  v1::ListMovementsRequest req;
  req.set_person(f.person);
  req.set_gate_id(f.gate);
  req.set_zone(f.zone);
  auto decision = DecisionFilterOf(f.decision);
  if (!decision) return Usage("--decision: '" + f.decision + "' is not allowed or denied");
  req.set_decision(*decision);
  std::optional<TimePoint> t_from, t_to;
  if (!ParseTimeFlag("--from", f.from, t_from) || !ParseTimeFlag("--to", f.to, t_to)) return kUsage;
  if (t_from) *req.mutable_from() = ToTs(*t_from);
  if (t_to) *req.mutable_to() = ToTs(*t_to);

  // Pages are printed as they come: an export of millions of rows streams.
  bool header = true;
  int printed = 0;
  Table t({"TIME", "PERSON", "GATE", "DIR", "DECISION", "REASON", "TO ZONE", "SOURCE"});
  v1::ListMovementsResponse all;
  std::string more;
  for (;;) {
    int want = f.limit > 0 ? f.limit - printed : 10'000;
    req.set_page_size(std::min(want, 10'000));
    v1::ListMovementsResponse page;
    auto ctx = Context();
    if (auto st = security_->ListMovements(ctx.get(), req, &page); !st.ok()) return Fail(st);
    for (const auto& m : page.movements()) {
      if (format == "csv") {
        if (header) {
          out_ << "occurred_at,person,gate,direction,allowed,reason,zone,from_zone,source,"
                  "policy_version,seq,rule\n";
          header = false;
        }
        out_ << console::FormatUtc(FromTs(m.occurred_at())) << "," << CsvField(m.person()) << ","
             << CsvField(m.gate_id()) << "," << DirectionText(m.direction()) << ","
             << (m.allowed() ? "true" : "false") << "," << ReasonText(m.reason()) << ","
             << CsvField(m.zone()) << "," << CsvField(m.from_zone()) << ","
             << SourceText(m.source()) << "," << m.policy_version() << "," << m.seq() << ","
             << CsvField(m.rule()) << "\n";
      } else if (format == "json") {
        *all.add_movements() = m;
      } else {
        t.AddRow({FormatLocal(FromTs(m.occurred_at())), m.person().empty() ? "?" : m.person(),
                  m.gate_id(), DirectionText(m.direction()), m.allowed() ? "allow" : "deny",
                  ReasonText(m.reason()), m.allowed() ? ZoneText(m.zone()) : "-",
                  SourceText(m.source())});
      }
      ++printed;
    }
    more = page.next_page_token();
    if (more.empty() || (f.limit > 0 && printed >= f.limit)) break;
    req.set_page_token(more);
  }
  if (format == "json") {
    all.set_next_page_token(more);
    PrintJson(all);
  } else if (format == "table") {
    t.Print(out_);
    out_ << printed << " movement(s)";
    if (!more.empty()) out_ << " (more exist: raise --limit, or 0 for all)";
    out_ << "\n";
  }
  return kOk;
}

int Commands::Stays(const std::string& person, const std::string& zone, const std::string& from,
                    const std::string& to, const std::string& format_flag) {
  std::string format = options_.json ? "json" : format_flag;
  if (!CheckFormat(format, {"table", "json", "csv"})) return kUsage;
  if (person.empty() == zone.empty()) return Usage("give a PERSON or --zone, not both");
  v1::ListStaysRequest req;
  req.set_person(person);
  req.set_zone(zone);
  std::optional<TimePoint> t_from, t_to;
  if (!ParseTimeFlag("--from", from.empty() ? "-1d" : from, t_from) ||
      !ParseTimeFlag("--to", to, t_to)) {
    return kUsage;
  }
  *req.mutable_from() = ToTs(*t_from);
  if (t_to) *req.mutable_to() = ToTs(*t_to);
  v1::ListStaysResponse resp;
  auto ctx = Context();
  if (auto st = security_->ListStays(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (format == "json") {
    PrintJson(resp);
    return kOk;
  }
  if (format == "csv") {
    out_ << "person,zone,entered_at,exited_at,exit_inferred\n";
    for (const auto& s : resp.stays()) {
      out_ << CsvField(s.person()) << "," << CsvField(s.zone()) << ","
           << console::FormatUtc(FromTs(s.entered_at())) << ","
           << (s.has_exited_at() ? console::FormatUtc(FromTs(s.exited_at())) : "") << ","
           << (s.exit_inferred() ? "true" : "false") << "\n";
    }
    return kOk;
  }
  Table t({"PERSON", "ZONE", "ENTERED", "EXITED", "MINUTES", "EXIT"});
  for (const auto& s : resp.stays()) {
    TimePoint end = s.has_exited_at() ? FromTs(s.exited_at()) : now_;
    double minutes = static_cast<double>((end - FromTs(s.entered_at())).count()) / 60e6;
    t.AddRow({s.person(), s.zone(), FormatLocal(FromTs(s.entered_at())),
              s.has_exited_at() ? FormatLocal(FromTs(s.exited_at())) : "still there",
              Minutes(minutes), s.exit_inferred() ? "inferred" : s.has_exited_at() ? "scanned" : "-"});
  }
  t.Print(out_);
  out_ << resp.stays_size() << " stay(s)" << (resp.truncated() ? " (truncated: narrow the range)" : "")
       << "\n";
  return kOk;
}

int Commands::Trace(const TraceFlags& f) {
  std::string format = options_.json ? "json" : f.format;
  if (!CheckFormat(format, {"table", "json", "csv", "dot"})) return kUsage;
  if (f.min_minutes < 0) return Usage("--min-minutes: must not be negative");
  v1::TraceContactsRequest req;
  req.set_person(f.person);
  std::optional<TimePoint> t_from, t_to;
  if (!ParseTimeFlag("--from", f.from.empty() ? "-14d" : f.from, t_from) ||
      !ParseTimeFlag("--to", f.to.empty() ? "now" : f.to, t_to)) {
    return kUsage;
  }
  *req.mutable_from() = ToTs(*t_from);
  *req.mutable_to() = ToTs(*t_to);
  req.set_min_exposure_minutes(f.min_minutes);
  req.set_second_generation(f.second_generation);
  req.set_include_ruled_out(f.ruled_out);
  req.set_case_reference(f.case_reference);
  v1::TraceContactsResponse resp;
  auto ctx = Context(120);
  if (!options_.json && format == "table") {
    err_ << "tracing " << f.person << " from " << FormatLocal(*t_from) << " to "
         << FormatLocal(*t_to) << "...\n";
  }
  if (auto st = security_->TraceContacts(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (format == "json") {
    PrintJson(resp);
    return kOk;
  }
  if (format == "csv") {
    out_ << "generation,person,name,category,cohort,exposure_minutes,zones,first_overlap,"
            "last_overlap,inferred,via\n";
    auto row = [&](const v1::TracedContact& c, const std::string& generation) {
      out_ << generation << "," << CsvField(c.person().person()) << ","
           << CsvField(c.person().name()) << "," << CategoryText(c.person().category()) << ","
           << CsvField(c.person().cohort()) << "," << Minutes(c.exposure_minutes()) << ","
           << CsvField(Join(c.zones(), ";")) << "," << console::FormatUtc(FromTs(c.first_overlap()))
           << "," << console::FormatUtc(FromTs(c.last_overlap())) << ","
           << (c.inferred() ? "true" : "false") << "," << CsvField(c.via()) << "\n";
    };
    for (const auto& c : resp.contacts()) row(c, std::to_string(c.generation()));
    for (const auto& c : resp.below_minimum()) row(c, "below_minimum");
    for (const auto& p : resp.ruled_out()) {
      out_ << "ruled_out," << CsvField(p.person()) << "," << CsvField(p.name()) << ","
           << CategoryText(p.category()) << "," << CsvField(p.cohort()) << ",0,,,,false,\n";
    }
    return kOk;
  }
  if (format == "dot") {
    // The contact graph: the index case, first generation around it, the
    // second generation hanging off the contact they met. Edge labels are
    // exposure minutes; a dashed edge rests on an inferred exit.
    out_ << "graph contacts {\n  layout=neato; overlap=false; node [shape=box, fontsize=10];\n";
    out_ << "  " << DotId(resp.index_case().person()) << " [label=" << DotId(PersonText(resp.index_case()))
         << ", style=filled, fillcolor=\"#e06666\"];\n";
    for (const auto& c : resp.contacts()) {
      out_ << "  " << DotId(c.person().person()) << " [label=" << DotId(PersonText(c.person()))
           << ", style=filled, fillcolor=\"" << (c.generation() == 1 ? "#f6b26b" : "#ffe599")
           << "\"];\n";
    }
    for (const auto& c : resp.contacts()) {
      std::string from = c.generation() == 1 ? resp.index_case().person() : c.via();
      out_ << "  " << DotId(from) << " -- " << DotId(c.person().person()) << " [label=\""
           << Minutes(c.exposure_minutes()) << " min\"" << (c.inferred() ? ", style=dashed" : "")
           << "];\n";
    }
    out_ << "}\n";
    return kOk;
  }
  const auto& index = resp.index_case();
  out_ << "Contact trace of " << PersonText(index) << ", " << CategoryText(index.category())
       << (index.cohort().empty() ? "" : ", " + index.cohort()) << "\n"
       << FormatLocal(*t_from) << " to " << FormatLocal(*t_to) << ", at least " << f.min_minutes
       << " minute(s) in shared zones\n\n";
  std::set<std::string> zones;
  for (const auto& s : resp.index_stays()) zones.insert(s.zone());
  out_ << "Where " << index.person() << " was: " << resp.index_stays_size() << " stay(s) in "
       << zones.size() << " zone(s)\n\n";
  Table t({"GEN", "PERSON", "NAME", "CATEGORY", "COHORT", "MINUTES", "ZONES", "FIRST", "LAST",
           "INFERRED", "VIA"});
  int first = 0, second = 0;
  for (const auto& c : resp.contacts()) {
    (c.generation() == 1 ? first : second) += 1;
    t.AddRow({std::to_string(c.generation()), c.person().person(), c.person().name(),
              CategoryText(c.person().category()), c.person().cohort(),
              Minutes(c.exposure_minutes()), Join(c.zones()), FormatLocal(FromTs(c.first_overlap())),
              FormatLocal(FromTs(c.last_overlap())), c.inferred() ? "yes" : "", c.via()});
  }
  t.Print(out_);
  out_ << first << " contact(s)";
  if (f.second_generation) out_ << ", " << second << " second-generation";
  out_ << "; " << resp.below_minimum_size() << " overlapped under " << f.min_minutes << " min";
  if (f.ruled_out) out_ << "; " << resp.ruled_out_size() << " ruled out";
  out_ << " (" << resp.stays_read() << " stays read)\n";
  if (f.ruled_out && resp.ruled_out_size() > 0) {
    out_ << "\nRuled out (same zone, same day, no overlap):";
    for (const auto& p : resp.ruled_out()) out_ << " " << p.person();
    out_ << "\n";
  }
  return kOk;
}

int Commands::Occupancy(const std::string& at, const std::string& zone, bool people) {
  v1::GetOccupancyRequest req;
  std::optional<TimePoint> when;
  if (!ParseTimeFlag("--at", at, when)) return kUsage;
  if (when) *req.mutable_at() = ToTs(*when);
  req.set_zone(zone);
  req.set_include_people(people);
  v1::GetOccupancyResponse resp;
  auto ctx = Context();
  if (auto st = security_->GetOccupancy(ctx.get(), req, &resp); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(resp);
    return kOk;
  }
  std::map<std::string, int> depth;
  Table t({"ZONE", "NAME", "INSIDE", "DIRECTLY", "CAPACITY", "USE"});
  for (const auto& z : resp.zones()) {
    int d = z.parent().empty() || !depth.count(z.parent()) ? 0 : depth[z.parent()] + 1;
    depth[z.zone()] = d;
    std::string use = "-";
    if (z.capacity() > 0) {
      use = std::to_string(static_cast<int>(std::lround(100.0 * static_cast<double>(z.count()) /
                                                        z.capacity()))) + "%";
    }
    t.AddRow({std::string(static_cast<size_t>(2 * d), ' ') + z.zone(), z.name(),
              std::to_string(z.count()), std::to_string(z.directly()),
              z.capacity() > 0 ? std::to_string(z.capacity()) : "-", use});
  }
  out_ << "Occupancy " << (when ? "as of " + FormatLocal(*when) : "now") << "\n";
  t.Print(out_);
  if (people) {
    for (const auto& z : resp.zones()) {
      if (z.people_size() == 0) continue;
      out_ << "\n" << z.zone() << ":";
      for (const auto& p : z.people()) out_ << " " << p.person();
      out_ << "\n";
    }
  }
  return kOk;
}

int Commands::Watch(const MovementFlags& f, int count) {
  v1::WatchEventsRequest req;
  req.set_gate_id(f.gate);
  req.set_zone(f.zone);
  req.set_person(f.person);
  auto decision = DecisionFilterOf(f.decision);
  if (!decision) return Usage("--decision: '" + f.decision + "' is not allowed or denied");
  req.set_decision(*decision);
  grpc::ClientContext ctx;  // no deadline: it runs until interrupted
  auto reader = security_->WatchEvents(&ctx, req);
  // The daemon sends its metadata once the watch is registered: from here on
  // nothing committed is missed.
  reader->WaitForInitialMetadata();
  err_ << "watching scans (Ctrl-C to stop)\n" << std::flush;
  return Follow<v1::WatchEventsResponse>(ctx, *reader, count, [this](const v1::WatchEventsResponse& e) {
    const auto& m = e.movement();
    if (e.skipped() > 0) out_ << "... " << e.skipped() << " scan(s) skipped: reading too slowly\n";
    out_ << FormatLocal(FromTs(m.occurred_at())) << "  " << m.gate_id() << "  "
         << DirectionText(m.direction()) << "  " << (m.person().empty() ? "?" : m.person()) << "  "
         << (m.allowed() ? "allow" : "DENY") << "  " << ReasonText(m.reason())
         << (m.allowed() ? "  -> " + ZoneText(m.zone()) : "") << "\n";
  });
}

int Commands::ReportDaily(const std::string& date) {
  v1::GetDailyReportRequest req;
  req.set_date(date);  // empty: cordond says which day it is on the campus
  v1::DailyReport r;
  auto ctx = Context(120);
  if (auto st = security_->GetDailyReport(ctx.get(), req, &r); !st.ok()) return Fail(st);
  if (options_.json) {
    PrintJson(r);
    return kOk;
  }
  auto sorted = [](const google::protobuf::Map<std::string, int64_t>& m) {
    std::vector<std::pair<std::string, int64_t>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return v;
  };
  out_ << "# Campus daily briefing, " << r.date() << "\n\n"
       << "As of " << FormatLocal(FromTs(r.as_of())) << ".\n\n"
       << "## On campus\n\n| Category | People |\n|---|---:|\n";
  for (const auto& [category, n] : sorted(r.on_campus_by_category())) {
    out_ << "| " << category << " | " << n << " |\n";
  }
  out_ << "| **total** | **" << r.on_campus() << "** |\n\n";
  auto isolation = [&](const char* title, const auto& list) {
    out_ << "## " << title << ": " << list.size() << "\n\n";
    if (list.empty()) return;
    out_ << "| Person | Name | From | Until | Reason |\n|---|---|---|---|---|\n";
    for (const auto& q : list) {
      out_ << "| " << q.person().person() << " | " << q.person().name() << " | "
           << FormatLocal(FromTs(q.starts_at())) << " | " << FormatLocal(FromTs(q.ends_at())) << " | "
           << q.reason() << " |\n";
    }
    out_ << "\n";
  };
  isolation("In isolation", r.in_isolation());
  isolation("Released from isolation today", r.released_from_isolation());
  out_ << "## Visitors\n\n" << r.visitors_in() << " came in on a single-visit pass, "
       << r.visitors_out() << " left.\n\n";
  out_ << "## Leaves\n\n" << r.leaves_out_size() << " left campus on a leave, "
       << r.leaves_returned() << " came back, " << r.leaves_overdue_size() << " overdue.\n\n";
  if (r.leaves_overdue_size() > 0) {
    out_ << "| Overdue | Name | Back by | Reason |\n|---|---|---|---|\n";
    for (const auto& l : r.leaves_overdue()) {
      out_ << "| " << l.person().person() << " | " << l.person().name() << " | "
           << FormatLocal(FromTs(l.return_by())) << " | " << l.reason() << " |\n";
    }
    out_ << "\n";
  }
  out_ << "## Gates\n\n" << r.scans() << " scans, " << r.allowed() << " allowed, "
       << (r.scans() - r.allowed()) << " denied.\n\n";
  if (!r.denials_by_reason().empty()) {
    out_ << "| Denied because | Scans |\n|---|---:|\n";
    for (const auto& [reason, n] : sorted(r.denials_by_reason())) {
      out_ << "| " << reason << " | " << n << " |\n";
    }
    out_ << "\n";
  }
  int64_t alerts = 0;
  for (const auto& [kind, n] : r.alerts_by_kind()) alerts += n;
  out_ << "## Alerts: " << alerts << "\n\n";
  if (alerts > 0) {
    out_ << "| Kind | Raised |\n|---|---:|\n";
    for (const auto& [kind, n] : sorted(r.alerts_by_kind())) out_ << "| " << kind << " | " << n << " |\n";
  }
  return kOk;
}

}  // namespace cordon::ctl
