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

absl::Status AuditLog::Append(storage::Store& store, storage::AuditEntry entry) {
  entry.id = head_id_ + 1;
  entry.prev_hash = head_hash_;
  entry.hash = EntryHash(key_, head_hash_, entry);
  CORDON_RETURN_IF_ERROR(store.AppendAudit(entry, HeadTag(key_, entry.id, entry.hash)));
  head_id_ = entry.id;
  head_hash_ = std::move(entry.hash);
  return absl::OkStatus();
}

void AuditLog::Record(storage::AuditEntry entry, std::function<void(absl::Status)> done) {
  journal_.Post([this, entry = std::move(entry), done = std::move(done)](storage::Store& store) {
    absl::Status st = Append(store, entry);
    if (!st.ok()) {
      spdlog::error("audit log write failed ({} {}): {}", entry.actor, entry.action, st.ToString());
    }
    if (done) done(st);
  });
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
