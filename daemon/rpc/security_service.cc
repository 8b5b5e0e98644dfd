#include "daemon/rpc/security_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/identifiers.h"
#include "daemon/rpc/convert.h"
#include "daemon/rpc/event_watch.h"
#include "daemon/rpc/paging.h"

namespace cordon::rpc {
namespace {

using grpc::Status;
using grpc::StatusCode;

// Reads an optional [from, to) range; unset from is the epoch, unset to is now.
std::pair<TimePoint, TimePoint> Range(const google::protobuf::Timestamp* from, bool has_from,
                                      const google::protobuf::Timestamp* to, bool has_to,
                                      TimePoint now) {
  return {has_from ? FromProto(*from) : FromUnixMicros(0),
          has_to ? FromProto(*to) : now + std::chrono::seconds(1)};
}

template <typename Request>
grpc::Status CheckRange(const Request& req) {
  if (req.has_from()) {
    if (auto st = CheckTime("from", req.from()); !st.ok()) return st;
  }
  if (req.has_to()) {
    if (auto st = CheckTime("to", req.to()); !st.ok()) return st;
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* SecurityService::ListMovements(grpc::CallbackServerContext* ctx,
                                                         const v1::ListMovementsRequest* req,
                                                         v1::ListMovementsResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/ListMovements", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto p = CheckExternalId(req->person()); !req->person().empty() && !p.empty()) {
    return FinishNow(ctx, InvalidArgument("person: " + p));
  }
  auto page_size = PageSize(req->page_size());
  if (!page_size) return FinishNow(ctx, InvalidArgument("page_size: must not be negative"));
  storage::MovementQuery q;
  if (!req->page_token().empty()) {
    q.after = ParseTimeCursorToken(req->page_token());
    if (!q.after) return FinishNow(ctx, InvalidArgument("page_token: malformed"));
  }
  auto policy = deps_.policy.Get();
  EventFilter filter;
  if (auto st = ToEventFilter(req->gate_id(), req->zone(), req->decision(), req->person(), *policy,
                              filter);
      !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (auto st = CheckRange(*req); !st.ok()) return FinishNow(ctx, st);
  std::tie(q.from, q.to) = Range(&req->from(), req->has_from(), &req->to(), req->has_to(),
                                 deps_.clock.Now());
  if (q.to <= q.from) return FinishNow(ctx, InvalidArgument("to: must be after from"));
  q.person = filter.person;
  q.allowed = filter.allowed;
  if (filter.gate) q.gates.push_back(filter.gate);
  if (!filter.zone.empty()) {
    // The zone's gates: those opening onto it or onto a zone inside it.
    ZoneIndex want = policy->zones->FindZone(filter.zone);
    std::vector<GateRowId> gates;
    for (const auto& [gate_id, gate] : *policy->gates) {
      GateZones z = policy->zones->ZonesOfGate(gate_id);
      bool touches = policy->zones->Within(z.inner, want) ||
                     (z.outer != kOutside && policy->zones->Within(z.outer, want));
      if (touches && (!filter.gate || filter.gate == gate.id)) gates.push_back(gate.id);
    }
    if (gates.empty()) return FinishNow(ctx, Status::OK);  // no gate opens onto it
    q.gates = std::move(gates);
  }
  q.limit = *page_size;

  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp, q, policy, caller, note = Note(*req)] {
    auto rows = deps_.store.ListMovements(q);
    if (!rows.ok()) {
      reactor->Finish(ToGrpc(rows.status()));
      return;
    }
    for (const auto& row : *rows) FillMovement(row, *policy, resp->add_movements());
    if (static_cast<int>(rows->size()) == q.limit) {
      resp->set_next_page_token(TimeCursorToken(rows->back().occurred_at, rows->back().id));
    }
    deps_.guard.FinishAudited(reactor, caller, "SecurityService/ListMovements", note,
                              resp->movements_size(), Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* SecurityService::ListPresence(grpc::CallbackServerContext* ctx,
                                                        const v1::ListPresenceRequest* req,
                                                        v1::ListPresenceResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/ListPresence", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (!req->zone().empty() && deps_.policy.Get()->zones->FindZone(req->zone()) == kOutside) {
    return FinishNow(ctx, Status(StatusCode::NOT_FOUND,
                                 "zone: no zone '" + req->zone() + "' in the policy"));
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp, zone = req->zone(), caller, note = Note(*req)] {
    auto policy = deps_.policy.Get();
    auto inside = deps_.presence.OnCampus();
    if (!zone.empty()) {
      std::erase_if(inside, [&](const auto& p) {
        const auto& path = p.second.path;
        return std::find(path.begin(), path.end(), zone) == path.end();
      });
    }
    std::sort(inside.begin(), inside.end(),
              [](const auto& a, const auto& b) { return a.second.since < b.second.since; });
    auto& counts = *resp->mutable_by_category();
    for (const auto& [person_id, presence] : inside) {
      const Person* person = policy->FindPerson(person_id);
      if (!person) continue;
      v1::PresentPerson* out = resp->add_people();
      out->set_person(person->external_id);
      out->set_name(person->name);
      out->set_category(ToProto(person->category));
      out->set_cohort(person->cohort);
      ToProto(presence.since, out->mutable_since());
      out->set_gate_id(GateName(*policy, presence.gate));
      if (!presence.path.empty()) out->set_zone(presence.path.back());
      counts[std::string(CategoryName(person->category))] += 1;
    }
    deps_.guard.FinishAudited(reactor, caller, "SecurityService/ListPresence", note,
                              resp->people_size(), Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* SecurityService::ListAlerts(grpc::CallbackServerContext* ctx,
                                                      const v1::ListAlertsRequest* req,
                                                      v1::ListAlertsResponse* resp) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/ListAlerts", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto page_size = PageSize(req->page_size());
  if (!page_size) return FinishNow(ctx, InvalidArgument("page_size: must not be negative"));
  storage::AlertQuery q;
  if (!req->page_token().empty()) {
    q.after = ParseTimeCursorToken(req->page_token());
    if (!q.after) return FinishNow(ctx, InvalidArgument("page_token: malformed"));
  }
  if (auto st = CheckRange(*req); !st.ok()) return FinishNow(ctx, st);
  std::tie(q.from, q.to) = Range(&req->from(), req->has_from(), &req->to(), req->has_to(),
                                 deps_.clock.Now());
  if (q.to <= q.from) return FinishNow(ctx, InvalidArgument("to: must be after from"));
  q.limit = *page_size;
  if (auto st = ToAlertQuery(req->filter(), *deps_.policy.Get(), q); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp, q, caller, note = Note(*req)] {
    auto rows = deps_.store.ListAlerts(q);
    if (!rows.ok()) {
      reactor->Finish(ToGrpc(rows.status()));
      return;
    }
    auto policy = deps_.policy.Get();
    for (const auto& row : *rows) FillAlert(row, *policy, resp->add_alerts());
    if (static_cast<int>(rows->size()) == q.limit) {
      resp->set_next_page_token(TimeCursorToken(rows->back().raised_at, rows->back().id));
    }
    deps_.guard.FinishAudited(reactor, caller, "SecurityService/ListAlerts", note,
                              resp->alerts_size(), Status::OK);
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::Alert>* SecurityService::WatchAlerts(
    grpc::CallbackServerContext* ctx, const v1::WatchAlertsRequest* req) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/WatchAlerts", &caller); !st.ok()) {
    return new RefusedStream<v1::Alert>(st);
  }
  if (req->since_id() < 0) {
    return new RefusedStream<v1::Alert>(InvalidArgument("since_id: must not be negative"));
  }
  storage::AlertQuery q;
  if (auto st = ToAlertQuery(req->filter(), *deps_.policy.Get(), q); !st.ok()) {
    return new RefusedStream<v1::Alert>(st);
  }
  auto audit = [this, caller, note = Note(*req)](std::function<void(absl::Status)> done) {
    deps_.guard.Record(caller, "SecurityService/WatchAlerts", note, 0, Status::OK, std::move(done));
  };
  return StartAlertWatch(deps_.alerts, deps_.store, deps_.policy, deps_.run_query, std::move(q),
                         req->since_id(), std::move(audit));
}

grpc::ServerUnaryReactor* SecurityService::AcknowledgeAlert(
    grpc::CallbackServerContext* ctx, const v1::AcknowledgeAlertRequest* req,
    v1::AcknowledgeAlertResponse* /*resp*/) {
  auth::Caller caller;
  if (auto st = deps_.guard.Admit(*ctx, "SecurityService/AcknowledgeAlert", &caller); !st.ok()) {
    return FinishNow(ctx, st);
  }
  if (req->id() <= 0) return FinishNow(ctx, InvalidArgument("id: required"));
  if (auto p = CheckName(req->operator_name()); !p.empty()) {
    return FinishNow(ctx, InvalidArgument("operator_name: " + p));
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.journal.Post([this, req, reactor](storage::Store& store) {
    absl::Status st = store.AcknowledgeAlert(req->id(), req->operator_name(), deps_.clock.Now());
    if (st.ok()) {
      spdlog::info("alert {} acknowledged by {}", req->id(), req->operator_name());
      deps_.alerts.Notify();
    }
    reactor->Finish(ToGrpc(st));
  });
  return reactor;
}

}  // namespace cordon::rpc
