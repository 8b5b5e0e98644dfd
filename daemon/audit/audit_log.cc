#include "daemon/audit/audit_log.h"

#include <spdlog/spdlog.h>

#include "core/status_macros.h"

namespace cordon::audit {

absl::Status AuditLog::Load(storage::Store& store) {
  CORDON_ASSIGN_OR_RETURN(storage::AuditChainEnds ends, store.AuditEnds());
  head_id_ = ends.head_id;
  head_hash_ = ends.head_id == ends.anchor_id ? ends.anchor_hash : "";
  if (ends.head_id > ends.anchor_id) {
    storage::AuditQuery q;
    q.after_id = ends.head_id - 1;
    q.limit = 1;
    CORDON_ASSIGN_OR_RETURN(std::vector<storage::AuditEntry> last, store.ListAudit(q));
    if (last.size() == 1 && last[0].id == ends.head_id) {
      head_hash_ = last[0].hash;
    } else {
      spdlog::critical("audit log: entry {} (the chain's head) is missing; the log was "
                       "tampered with; `cordonctl audit verify` names what is gone",
                       ends.head_id);
    }
  }
  return absl::OkStatus();
}

void AuditLog::Record(storage::AuditEntry entry, std::function<void(absl::Status)> done) {
  bool post;
  {
    std::lock_guard lock(mu_);
    pending_.push_back({std::move(entry), std::move(done)});
    post = !flush_posted_;
    flush_posted_ = true;
  }
  if (post) journal_.Post([this](storage::Store& store) { Flush(store).IgnoreError(); });
}

absl::Status AuditLog::AppendNow(storage::Store& store, storage::AuditEntry entry) {
  return Flush(store, std::move(entry));
}

absl::Status AuditLog::Flush(storage::Store& store, std::optional<storage::AuditEntry> also) {
  std::vector<Pending> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
    flush_posted_ = false;  // a job already posted finds nothing, or what came since
  }
  if (also) batch.push_back({std::move(*also), nullptr});
  if (batch.empty()) return absl::OkStatus();
  std::vector<storage::AuditEntry> entries;
  entries.reserve(batch.size());
  int64_t id = head_id_;
  std::string previous = head_hash_;
  for (Pending& p : batch) {
    storage::AuditEntry& e = entries.emplace_back(std::move(p.entry));
    e.id = ++id;
    e.prev_hash = previous;
    e.hash = EntryHash(key_, previous, e);
    previous = e.hash;
  }
  absl::Status st = store.AppendAudit(entries, HeadTag(key_, id, previous));
  if (st.ok()) {
    head_id_ = id;
    head_hash_ = std::move(previous);
  } else {
    spdlog::error("audit log write failed ({} entries, first {} {}): {}", entries.size(),
                  entries.front().actor, entries.front().action, st.ToString());
  }
  for (Pending& p : batch) {
    if (p.done) p.done(st);
  }
  return st;
}

absl::StatusOr<Verification> AuditLog::Verify(storage::Store& store) const {
  CORDON_ASSIGN_OR_RETURN(storage::AuditChainEnds ends, store.AuditEnds());
  Verification out;
  out.anchor_id = ends.anchor_id;
  out.head_id = ends.head_id;
  ChainVerifier verifier(key_, ends);
  storage::AuditQuery q;
  q.limit = 10'000;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(std::vector<storage::AuditEntry> page, store.ListAudit(q));
    for (const auto& e : page) verifier.Add(e);
    if (static_cast<int>(page.size()) < q.limit) break;
    q.after_id = page.back().id;
  }
  out.entries = verifier.checked();
  out.problems = verifier.Finish();
  return out;
}

}  // namespace cordon::audit
