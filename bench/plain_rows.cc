#include "bench/plain_rows.h"

#include <algorithm>
#include <map>
#include <utility>

namespace cordon::bench {

absl::StatusOr<PlainRows> PlainRows::Open(const std::string& path) {
  auto db = sqlite::Database::Open(path, sqlite::Database::Mode::kReadWrite);
  if (!db.ok()) return db.status();
  auto insert = db->Prepare(
      "INSERT INTO events(gate_id, incarnation, seq, person_id, credential_hash, direction, "
      "occurred_at, gate_time, received_at, decided_at, allowed, reason, policy_version, source, "
      "pass_id, zone, rule, leave_id, at_zone) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
      "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)");
  if (!insert.ok()) return insert.status();
  auto open = db->Prepare(
      "INSERT INTO presence_intervals(person_id, zone, entered_at, span_class, enter_event) "
      "VALUES (?1, ?2, ?3, 63, ?4)");
  if (!open.ok()) return open.status();
  auto close = db->Prepare(
      "UPDATE presence_intervals SET exited_at = ?2, span_class = ?3, inferred = 0, "
      "exit_event = ?4 WHERE id = ?1");
  if (!close.ok()) return close.status();
  auto mark = db->Prepare(
      "INSERT INTO gate_incarnations(gate_id, incarnation, highest_seq) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (gate_id, incarnation) DO UPDATE SET highest_seq = max(highest_seq, "
      "excluded.highest_seq)");
  if (!mark.ok()) return mark.status();
  return PlainRows(std::move(*db), std::move(*insert), std::move(*open), std::move(*close),
                   std::move(*mark));
}

absl::Status PlainRows::Commit(std::span<const storage::RecordedEvent> events) {
  auto tx = sqlite::Transaction::Begin(db_);
  if (!tx.ok()) return tx.status();
  std::map<std::pair<GateRowId, uint64_t>, uint64_t> highest;
  for (const storage::RecordedEvent& e : events) {
    auto& h = highest[{e.gate, e.incarnation}];
    h = std::max(h, e.seq);
    const int64_t at = ToUnixMicros(e.occurred_at);
    absl::Status st = insert_.Bind(1, e.gate)
                          .Bind(2, static_cast<int64_t>(e.incarnation))
                          .Bind(3, static_cast<int64_t>(e.seq))
                          .Bind(4, e.person)
                          .BindBlob(5, e.credential.AsBytes())
                          .Bind(6, static_cast<int64_t>(e.direction))
                          .Bind(7, at)
                          .Bind(8, ToUnixMicros(e.gate_time))
                          .Bind(9, ToUnixMicros(e.received_at))
                          .Bind(10, ToUnixMicros(e.decided_at))
                          .Bind(11, int64_t{e.allowed})
                          .Bind(12, static_cast<int64_t>(e.reason))
                          .Bind(13, e.policy_version)
                          .Bind(14, static_cast<int64_t>(e.source))
                          .BindNull(15)
                          .Bind(16, e.zone)
                          .Bind(17, e.rule)
                          .BindNull(18)
                          .Bind(19, e.at_zone)
                          .Run();
    if (!st.ok()) return st;
    if (db_.Changes() != 1) {
      return absl::AlreadyExistsError("event (" + std::to_string(e.gate) + ", " +
                                      std::to_string(e.incarnation) + ", " +
                                      std::to_string(e.seq) + ") already stored");
    }
    const int64_t event_id = db_.LastInsertRowId();
    if (e.direction == Direction::kIn) {
      st = open_.Bind(1, e.person).Bind(2, e.zone).Bind(3, at).Bind(4, event_id).Run();
      if (!st.ok()) return st;
      open_interval_[e.person] = db_.LastInsertRowId();
    } else if (auto it = open_interval_.find(e.person); it != open_interval_.end()) {
      st = close_.Bind(1, it->second).Bind(2, at).Bind(3, int64_t{5}).Bind(4, event_id).Run();
      if (!st.ok()) return st;
      open_interval_.erase(it);
    }
  }
  for (const auto& [key, high] : highest) {
    absl::Status st = mark_.Bind(1, key.first)
                          .Bind(2, static_cast<int64_t>(key.second))
                          .Bind(3, static_cast<int64_t>(high))
                          .Run();
    if (!st.ok()) return st;
  }
  return tx->Commit();
}

}  // namespace cordon::bench
