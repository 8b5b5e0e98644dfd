#include "daemon/rpc/audit_service.h"

#include <spdlog/spdlog.h>

#include "daemon/rpc/convert.h"
#include "daemon/rpc/paging.h"

namespace cordon::rpc {

using grpc::Status;

grpc::ServerUnaryReactor* AuditService::ListAudit(grpc::CallbackServerContext* ctx,
                                                  const v1::ListAuditRequest* req,
                                                  v1::ListAuditResponse* resp) {
  if (auto st = deps_.guard.Admit(*ctx, "AuditService/ListAudit"); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto page_size = PageSize(req->page_size());
  if (!page_size) return FinishNow(ctx, InvalidArgument("page_size: must not be negative"));
  storage::AuditQuery q;
  q.limit = *page_size;
  if (!req->page_token().empty()) {
    try {
      size_t used = 0;
      q.after_id = std::stoll(req->page_token(), &used);
      if (used != req->page_token().size() || q.after_id < 0) throw std::invalid_argument("");
    } catch (const std::exception&) {
      return FinishNow(ctx, InvalidArgument("page_token: malformed"));
    }
  }
  if (req->has_from()) {
    if (auto st = CheckTime("from", req->from()); !st.ok()) return FinishNow(ctx, st);
    q.from = FromProto(req->from());
  }
  if (req->has_to()) {
    if (auto st = CheckTime("to", req->to()); !st.ok()) return FinishNow(ctx, st);
    q.to = FromProto(req->to());
  }
  if (q.to <= q.from) return FinishNow(ctx, InvalidArgument("to: must be after from"));
  q.actor = req->actor().substr(0, 200);
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp, q] {
    auto entries = deps_.store.ListAudit(q);
    if (!entries.ok()) return reactor->Finish(ToGrpc(entries.status()));
    for (const auto& e : *entries) {
      v1::AuditEntry* out = resp->add_entries();
      out->set_id(e.id);
      ToProto(e.at, out->mutable_at());
      out->set_actor(e.actor);
      out->set_action(e.action);
      out->set_purpose(e.purpose);
      out->set_subject(e.subject);
      out->set_outcome(e.outcome);
      out->set_rows(e.rows);
    }
    if (static_cast<int>(entries->size()) == q.limit) {
      resp->set_next_page_token(std::to_string(entries->back().id));
    }
    reactor->Finish(Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AuditService::VerifyAudit(grpc::CallbackServerContext* ctx,
                                                    const v1::VerifyAuditRequest* /*req*/,
                                                    v1::VerifyAuditResponse* resp) {
  if (auto st = deps_.guard.Admit(*ctx, "AuditService/VerifyAudit"); !st.ok()) {
    return FinishNow(ctx, st);
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.run_query([this, reactor, resp] {
    auto v = deps_.log.Verify(deps_.store);
    if (!v.ok()) return reactor->Finish(ToGrpc(v.status()));
    resp->set_entries(v->entries);
    resp->set_anchor_id(v->anchor_id);
    resp->set_head_id(v->head_id);
    for (const auto& p : v->problems) {
      v1::AuditProblem* out = resp->add_problems();
      out->set_first_id(p.first_id);
      out->set_last_id(p.last_id);
      out->set_what(p.what);
      out->set_description(p.Describe());
    }
    if (v->problems.empty()) {
      spdlog::info("audit log verified: {} entries intact", v->entries);
    } else {
      spdlog::critical("audit log verify: {} problems, first: {}", v->problems.size(),
                       v->problems.front().Describe());
    }
    reactor->Finish(Status::OK);
  });
  return reactor;
}

}  // namespace cordon::rpc
