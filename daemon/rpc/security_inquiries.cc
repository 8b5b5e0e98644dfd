// SecurityService: the inquiries of a case (stays, contact tracing,
// occupancy, the live view, the daily briefing). Each checks its request on
// gRPC's thread and runs on the query pool; the logic is in daemon/office.
#include <algorithm>

#include "core/identifiers.h"
#include "daemon/office/daily_report.h"
#include "daemon/office/occupancy.h"
#include "daemon/office/tracing.h"
#include "daemon/rpc/convert.h"
#include "daemon/rpc/security_service.h"

namespace cordon::rpc {
namespace {

using grpc::Status;
using grpc::StatusCode;

constexpr int kMaxStays = 10'000;
constexpr auto kMaxZoneStaysWindow = std::chrono::days(31);
constexpr auto kMaxTraceWindow = std::chrono::days(60);

Status NotFound(std::string message) { return Status(StatusCode::NOT_FOUND, std::move(message)); }

void FillPersonRef(const PolicySnapshot& policy, PersonId id, v1::PersonRef* out) {
  const Person* p = policy.FindPerson(id);
  if (!p) {
    out->set_person("#" + std::to_string(id));
    return;
  }
  out->set_person(p->external_id);
  out->set_name(p->name);
  out->set_category(ToProto(p->category));
  out->set_cohort(p->cohort);
}

void FillStay(const PolicySnapshot& policy, const Stay& s, TimePoint now, v1::Stay* out) {
  if (const Person* p = policy.FindPerson(s.person)) out->set_person(p->external_id);
  out->set_zone(s.zone);
  ToProto(s.begin, out->mutable_entered_at());
  // An open stay read at `now` has no exit yet (unless its maximum passed).
  if (s.end < now || s.inferred) ToProto(s.end, out->mutable_exited_at());
  out->set_exit_inferred(s.inferred);
}

void FillContact(const PolicySnapshot& policy, const Contact& c, int generation,
                 v1::TracedContact* out) {
  FillPersonRef(policy, c.person, out->mutable_person());
  out->set_generation(generation);
  if (c.via) {
    const Person* via = policy.FindPerson(c.via);
    out->set_via(via ? via->external_id : "#" + std::to_string(c.via));
  }
  out->set_exposure_minutes(static_cast<double>(c.exposure.count()) / 60e6);
  for (const auto& z : c.zones) out->add_zones(z);
  ToProto(c.first, out->mutable_first_overlap());
  ToProto(c.last, out->mutable_last_overlap());
  out->set_inferred(c.inferred);
}

// A required or optional time field, checked.
Status ReadTime(std::string_view field, bool has, const google::protobuf::Timestamp& ts,
                TimePoint fallback, TimePoint& out) {
  if (!has) {
    out = fallback;
    return Status::OK;
  }
  if (auto st = CheckTime(field, ts); !st.ok()) return st;
  out = FromProto(ts);
  return Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* SecurityService::ListStays(grpc::CallbackServerContext* ctx,
                                                     const v1::ListStaysRequest* req,
                                                     v1::ListStaysResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/ListStays", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (req->person().empty() == req->zone().empty()) {
    return FinishNow(ctx, InvalidArgument("person, zone: give exactly one"));
  }
  if (!req->has_from()) return FinishNow(ctx, InvalidArgument("from: required"));
  auto policy = deps_.policy.Get();
  TimePoint now = deps_.clock.Now();
  TimePoint from, to;
  if (auto st = ReadTime("from", true, req->from(), now, from); !st.ok()) return FinishNow(ctx, st);
  if (auto st = ReadTime("to", req->has_to(), req->to(), now, to); !st.ok()) return FinishNow(ctx, st);
  if (to <= from) return FinishNow(ctx, InvalidArgument("to: must be after from"));
  PersonId person = 0;
  if (!req->person().empty()) {
    const Person* p = policy->FindByExternalId(req->person());
    if (!p) return FinishNow(ctx, NotFound("person: '" + req->person() + "' not found"));
    person = p->id;
  } else if (policy->zones->FindZone(req->zone()) == kOutside) {
    return FinishNow(ctx, NotFound("zone: no zone '" + req->zone() + "' in the policy"));
  } else if (to - from > kMaxZoneStaysWindow) {
    // Everything read is held before the answer is cut at kMaxStays.
    return FinishNow(ctx, InvalidArgument("to: a zone's stays may span at most 31 days"));
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp, policy, person, zone = req->zone(), from, to, now, caller,
                   note = Note(*req)] {
    absl::StatusOr<std::vector<Stay>> stays;
    if (person) {
      stays = deps_.store.StaysOf(person, from, to, now);
    } else {
      storage::ZoneSpan span{zone, from, to};
      stays = deps_.store.StaysInZones({&span, 1}, now);
      if (stays.ok()) {
        std::sort(stays->begin(), stays->end(), [](const Stay& a, const Stay& b) {
          return a.begin != b.begin ? a.begin < b.begin : a.id < b.id;
        });
      }
    }
    if (!stays.ok()) return reactor->Finish(ToGrpc(stays.status()));
    for (const Stay& s : *stays) {
      if (resp->stays_size() == kMaxStays) {
        resp->set_truncated(true);
        break;
      }
      FillStay(*policy, s, now, resp->add_stays());
    }
    deps_.guard.FinishAudited(reactor, caller, "SecurityService/ListStays", note,
                              resp->stays_size(), Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* SecurityService::TraceContacts(grpc::CallbackServerContext* ctx,
                                                         const v1::TraceContactsRequest* req,
                                                         v1::TraceContactsResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/TraceContacts", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (req->person().empty()) return FinishNow(ctx, InvalidArgument("person: required"));
  // PIPL: a trace names the case it is for, and the audit log keeps it.
  if (req->case_reference().empty()) {
    return FinishNow(ctx, InvalidArgument("case_reference: required (the case or purpose of "
                                          "this trace, kept in the audit log)"));
  }
  if (auto p = CheckFreeText(req->case_reference()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("case_reference: " + p));
  }
  if (!req->has_from()) return FinishNow(ctx, InvalidArgument("from: required"));
  if (!req->has_to()) return FinishNow(ctx, InvalidArgument("to: required"));
  if (req->min_exposure_minutes() < 0 || req->min_exposure_minutes() > 24 * 60) {
    return FinishNow(ctx, InvalidArgument("min_exposure_minutes: must be 0 to 1440"));
  }
  auto policy = deps_.policy.Get();
  office::TraceRequest r;
  r.now = deps_.clock.Now();
  if (auto st = ReadTime("from", true, req->from(), r.now, r.from); !st.ok()) return FinishNow(ctx, st);
  if (auto st = ReadTime("to", true, req->to(), r.now, r.to); !st.ok()) return FinishNow(ctx, st);
  if (r.to <= r.from) return FinishNow(ctx, InvalidArgument("to: must be after from"));
  if (r.to - r.from > kMaxTraceWindow) {
    return FinishNow(ctx, InvalidArgument("to: the window may be at most 60 days"));
  }
  const Person* index = policy->FindByExternalId(req->person());
  if (!index) return FinishNow(ctx, NotFound("person: '" + req->person() + "' not found"));
  r.person = index->id;
  r.min_exposure = std::chrono::minutes(req->has_min_exposure_minutes() ? req->min_exposure_minutes() : 15);
  r.second_generation = req->second_generation();
  r.ruled_out = req->include_ruled_out();

  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp, policy, r, caller,
                   note = Note(*req, req->case_reference())] {
    auto report = office::TraceContacts(deps_.store, *policy->zones, r);
    if (!report.ok()) return reactor->Finish(ToGrpc(report.status()));
    FillPersonRef(*policy, r.person, resp->mutable_index_case());
    for (const Stay& s : report->index_stays) FillStay(*policy, s, r.now, resp->add_index_stays());
    for (const auto& c : report->contacts) {
      FillContact(*policy, c.contact, c.generation, resp->add_contacts());
    }
    for (const auto& c : report->below_minimum) FillContact(*policy, c, 1, resp->add_below_minimum());
    for (PersonId id : report->ruled_out) FillPersonRef(*policy, id, resp->add_ruled_out());
    resp->set_stays_read(report->stays_read);
    deps_.guard.FinishAudited(reactor, caller, "SecurityService/TraceContacts", note,
                              resp->contacts_size() + resp->below_minimum_size() +
                                  resp->ruled_out_size() + resp->index_stays_size(),
                              Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* SecurityService::GetOccupancy(grpc::CallbackServerContext* ctx,
                                                        const v1::GetOccupancyRequest* req,
                                                        v1::GetOccupancyResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/GetOccupancy", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto policy = deps_.policy.Get();
  TimePoint now = deps_.clock.Now();
  TimePoint at;
  if (auto st = ReadTime("at", req->has_at(), req->at(), now, at); !st.ok()) return FinishNow(ctx, st);
  if (at > now) return FinishNow(ctx, InvalidArgument("at: must not be in the future"));
  ZoneIndex within = 0;
  if (!req->zone().empty()) {
    within = policy->zones->FindZone(req->zone());
    if (within == kOutside) {
      return FinishNow(ctx, NotFound("zone: no zone '" + req->zone() + "' in the policy"));
    }
  }
  auto fill = [policy, resp, at](const std::vector<office::ZoneCount>& counts) {
    const ZonePolicy& zones = *policy->zones;
    ToProto(at, resp->mutable_at());
    for (const auto& c : counts) {
      const Zone& z = zones.zones[static_cast<size_t>(c.zone)];
      v1::ZoneOccupancy* out = resp->add_zones();
      out->set_zone(z.id);
      out->set_name(z.name);
      if (z.parent != kOutside) out->set_parent(std::string(zones.ZoneId(z.parent)));
      out->set_capacity(z.capacity.value_or(0));
      out->set_count(c.count);
      out->set_directly(c.directly);
      for (PersonId id : c.people) FillPersonRef(*policy, id, out->add_people());
    }
  };
  if (!req->has_at() && !req->include_people()) {
    // From memory: a copy of the counters, answered on this thread.
    fill(office::OccupancyNow(deps_.presence, *policy->zones, within, false));
    return FinishNow(ctx, Status::OK);
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, policy, within, at, now, fill, past = req->has_at(),
                   people = req->include_people(), caller, note = Note(*req), resp] {
    // Counts are not personal data; the names of who is where are.
    auto finish = [&] {
      if (!people) return reactor->Finish(Status::OK);
      int64_t named = 0;
      for (const auto& z : resp->zones()) named += z.people_size();
      deps_.guard.FinishAudited(reactor, caller, "SecurityService/GetOccupancy", note, named,
                                Status::OK);
    };
    if (!past) {  // everyone on campus is read: not on gRPC's thread
      fill(office::OccupancyNow(deps_.presence, *policy->zones, within, people));
      return finish();
    }
    auto counts = office::OccupancyAt(deps_.store, *policy->zones, within, at, now, people);
    if (!counts.ok()) return reactor->Finish(ToGrpc(counts.status()));
    fill(*counts);
    finish();
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::WatchEventsResponse>* SecurityService::WatchEvents(
    grpc::CallbackServerContext* ctx, const v1::WatchEventsRequest* req) {
  auto refuse = [](Status st) { return new RefusedStream<v1::WatchEventsResponse>(std::move(st)); };
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/WatchEvents", &caller); !st.ok()) {
    return refuse(st);
  }
  EventFilter filter;
  if (auto st = ToEventFilter(req->gate_id(), req->zone(), req->decision(), req->person(),
                              *deps_.policy.Get(), filter);
      !st.ok()) {
    return refuse(st);
  }
  return StartEventWatch(deps_.events, deps_.policy, deps_.run_query, std::move(filter),
                         [this, caller, note = Note(*req)](std::function<void(absl::Status)> done) {
                           deps_.guard.Record(caller, "SecurityService/WatchEvents", note, 0,
                                              Status::OK, std::move(done));
                         });
}

grpc::ServerUnaryReactor* SecurityService::GetDailyReport(grpc::CallbackServerContext* ctx,
                                                          const v1::GetDailyReportRequest* req,
                                                          v1::DailyReport* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/GetDailyReport", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto policy = deps_.policy.Get();
  std::string date = req->date().empty()
                         ? office::CampusDate(deps_.clock.Now(), policy->zones->utc_offset)
                         : req->date();
  if (!office::LocalDay(date, policy->zones->utc_offset)) {
    return FinishNow(ctx, InvalidArgument("date: '" + date.substr(0, 40) +
                                          "' is not a date YYYY-MM-DD"));
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp, policy, date, caller, note = Note(*req)] {
    auto r = office::BuildDailyReport(deps_.store, deps_.presence, *policy, date,
                                      deps_.clock.Now());
    if (!r.ok()) return reactor->Finish(ToGrpc(r.status()));
    resp->set_date(r->date);
    ToProto(r->from, resp->mutable_from());
    ToProto(r->to, resp->mutable_to());
    ToProto(r->as_of, resp->mutable_as_of());
    int64_t total = 0;
    for (const auto& [category, n] : r->on_campus) {
      (*resp->mutable_on_campus_by_category())[std::string(CategoryName(category))] = n;
      total += n;
    }
    resp->set_on_campus(total);
    auto isolation = [&](const QuarantineOrder& q, v1::IsolationEntry* out) {
      FillPersonRef(*policy, q.person, out->mutable_person());
      ToProto(q.starts_at, out->mutable_starts_at());
      ToProto(q.cleared_at ? std::min(*q.cleared_at, q.ends_at) : q.ends_at, out->mutable_ends_at());
      out->set_reason(q.reason);
    };
    for (const auto& q : r->figures.isolated) isolation(q, resp->add_in_isolation());
    for (const auto& q : r->figures.released) isolation(q, resp->add_released_from_isolation());
    resp->set_visitors_in(r->figures.visitors_in);
    resp->set_visitors_out(r->figures.visitors_out);
    auto leave = [&](const LeaveApproval& l, v1::LeaveEntry* out) {
      FillPersonRef(*policy, l.person, out->mutable_person());
      ToProto(l.return_by, out->mutable_return_by());
      out->set_reason(l.reason);
    };
    for (const auto& l : r->figures.left) leave(l, resp->add_leaves_out());
    resp->set_leaves_returned(r->figures.returned);
    for (const auto& l : r->figures.overdue) leave(l, resp->add_leaves_overdue());
    resp->set_scans(r->figures.scans);
    resp->set_allowed(r->figures.allowed);
    for (const auto& [reason, n] : r->figures.denials) {
      (*resp->mutable_denials_by_reason())[std::string(ReasonName(reason))] = n;
    }
    for (const auto& [kind, n] : r->figures.alerts) {
      (*resp->mutable_alerts_by_kind())[std::string(AlertKindName(kind))] = n;
    }
    // The people it names (isolation, leaves); the rest are counts.
    deps_.guard.FinishAudited(reactor, caller, "SecurityService/GetDailyReport", note,
                              resp->in_isolation_size() + resp->released_from_isolation_size() +
                                  resp->leaves_out_size() + resp->leaves_overdue_size(),
                              Status::OK);
  });
  return reactor;
}

}  // namespace cordon::rpc
