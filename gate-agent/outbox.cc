#include "gate-agent/outbox.h"

#include <openssl/rand.h>

#include <cstring>

#include "core/status_macros.h"

namespace cordon::gate {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  seq            INTEGER PRIMARY KEY,
  credential     TEXT NOT NULL,
  direction      INTEGER NOT NULL,
  gate_time      INTEGER NOT NULL,
  decided        INTEGER NOT NULL DEFAULT 0,
  allowed        INTEGER,
  reason         INTEGER,
  policy_version INTEGER,
  source         INTEGER,
  decided_at     INTEGER
);
CREATE TABLE IF NOT EXISTS policy (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  version      INTEGER NOT NULL,
  confirmed_at INTEGER NOT NULL,
  body         BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS inputs (
  source TEXT PRIMARY KEY,
  offset INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

uint64_t RandomIncarnation() {
  uint64_t v = 0;
  while (v == 0) {  // zero means "none" on the wire
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) v = 0;
  }
  return v;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(const std::string& path,
                                                     const std::string& gate_id) {
  CORDON_ASSIGN_OR_RETURN(sqlite::Database db,
                          sqlite::Database::Open(path, sqlite::Database::Mode::kReadWrite));
  std::unique_ptr<Outbox> outbox(new Outbox(std::move(db)));
  CORDON_RETURN_IF_ERROR(outbox->Init(gate_id));
  return outbox;
}

absl::Status Outbox::Init(const std::string& gate_id) {
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_));
  CORDON_RETURN_IF_ERROR(db_.Exec(kSchema));
  CORDON_ASSIGN_OR_RETURN(Statement get, db_.Prepare("SELECT value FROM meta WHERE key = ?1"));
  CORDON_ASSIGN_OR_RETURN(bool has_gate, get.Bind(1, std::string_view("gate_id")).Step());
  if (has_gate) {
    std::string stored = get.Text(0);
    if (stored != gate_id) {
      return absl::FailedPreconditionError("this outbox belongs to gate '" + stored +
                                           "', not '" + gate_id + "'");
    }
    get.Reset();
    CORDON_ASSIGN_OR_RETURN(bool row, get.Bind(1, std::string_view("incarnation")).Step());
    if (!row) return absl::DataLossError("outbox has a gate id but no incarnation");
    incarnation_ = static_cast<uint64_t>(get.Int(0));
    get.Reset();
    CORDON_ASSIGN_OR_RETURN(bool seq_row, get.Bind(1, std::string_view("last_seq")).Step());
    last_seq_ = seq_row ? static_cast<uint64_t>(get.Int(0)) : 0;
  } else {
    get.Reset();
    incarnation_ = RandomIncarnation();
    last_seq_ = 0;
    CORDON_ASSIGN_OR_RETURN(Statement put,
                            db_.Prepare("INSERT INTO meta(key, value) VALUES (?1, ?2)"));
    CORDON_RETURN_IF_ERROR(put.Bind(1, std::string_view("gate_id")).Bind(2, gate_id).Run());
    CORDON_RETURN_IF_ERROR(put.Bind(1, std::string_view("incarnation"))
                               .Bind(2, static_cast<int64_t>(incarnation_))
                               .Run());
    CORDON_RETURN_IF_ERROR(put.Bind(1, std::string_view("last_seq")).Bind(2, int64_t{0}).Run());
  }
  return txn.Commit();
}

absl::StatusOr<std::vector<OutboxEntry>> Outbox::Append(std::span<const NewScan> scans,
                                                        std::span<const InputMark> marks) {
  // A scan must survive a power cut once accepted: fsync this commit.
  CORDON_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=FULL"));
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_));
  CORDON_ASSIGN_OR_RETURN(Statement ins, db_.Prepare(
      "INSERT INTO outbox(seq, credential, direction, gate_time, decided, allowed, reason, "
      "policy_version, source, decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  std::vector<OutboxEntry> out;
  out.reserve(scans.size());
  uint64_t seq = last_seq_;
  for (const NewScan& s : scans) {
    ++seq;
    ins.Bind(1, static_cast<int64_t>(seq))
        .Bind(2, s.credential)
        .Bind(3, static_cast<int64_t>(s.direction))
        .Bind(4, ToUnixMicros(s.gate_time));
    if (s.decision) {
      ins.Bind(5, int64_t{1})
          .Bind(6, int64_t{s.decision->allowed})
          .Bind(7, static_cast<int64_t>(s.decision->reason))
          .Bind(8, s.decision->policy_version)
          .Bind(9, static_cast<int64_t>(s.decision->source))
          .Bind(10, ToUnixMicros(s.decision->decided_at));
    } else {
      ins.Bind(5, int64_t{0}).BindNull(6).BindNull(7).BindNull(8).BindNull(9).BindNull(10);
    }
    CORDON_RETURN_IF_ERROR(ins.Run());
    out.push_back(OutboxEntry{seq, s.credential, s.direction, s.gate_time, s.decision});
  }
  CORDON_ASSIGN_OR_RETURN(Statement set_seq,
                          db_.Prepare("UPDATE meta SET value = ?1 WHERE key = 'last_seq'"));
  CORDON_RETURN_IF_ERROR(set_seq.Bind(1, static_cast<int64_t>(seq)).Run());
  if (!marks.empty()) {
    CORDON_ASSIGN_OR_RETURN(Statement set_mark, db_.Prepare(
        "INSERT INTO inputs(source, offset) VALUES (?1, ?2) "
        "ON CONFLICT (source) DO UPDATE SET offset = excluded.offset"));
    for (const InputMark& mark : marks) {
      CORDON_RETURN_IF_ERROR(set_mark.Bind(1, mark.source).Bind(2, mark.offset).Run());
    }
  }
  CORDON_RETURN_IF_ERROR(txn.Commit());
  last_seq_ = seq;
  return out;
}

absl::Status Outbox::Settle(std::span<const std::pair<uint64_t, HeldDecision>> decisions,
                            uint64_t acked_up_to) {
  if (decisions.empty() && acked_up_to == 0) return absl::OkStatus();
  CORDON_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=NORMAL"));
  CORDON_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_));
  CORDON_ASSIGN_OR_RETURN(Statement upd, db_.Prepare(
      "UPDATE outbox SET decided = 1, allowed = ?2, reason = ?3, policy_version = ?4, "
      "source = ?5, decided_at = ?6 WHERE seq = ?1 AND decided = 0"));
  for (const auto& [seq, d] : decisions) {
    CORDON_RETURN_IF_ERROR(upd.Bind(1, static_cast<int64_t>(seq))
                               .Bind(2, int64_t{d.allowed})
                               .Bind(3, static_cast<int64_t>(d.reason))
                               .Bind(4, d.policy_version)
                               .Bind(5, static_cast<int64_t>(d.source))
                               .Bind(6, ToUnixMicros(d.decided_at))
                               .Run());
  }
  if (acked_up_to > 0) {
    CORDON_ASSIGN_OR_RETURN(Statement del, db_.Prepare("DELETE FROM outbox WHERE seq <= ?1"));
    CORDON_RETURN_IF_ERROR(del.Bind(1, static_cast<int64_t>(acked_up_to)).Run());
  }
  return txn.Commit();
}

absl::StatusOr<std::vector<OutboxEntry>> Outbox::Unacked() {
  CORDON_ASSIGN_OR_RETURN(Statement s, db_.Prepare(
      "SELECT seq, credential, direction, gate_time, decided, allowed, reason, policy_version, "
      "source, decided_at FROM outbox ORDER BY seq"));
  std::vector<OutboxEntry> out;
  for (;;) {
    CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    OutboxEntry e;
    e.seq = static_cast<uint64_t>(s.Int(0));
    e.credential = s.Text(1);
    e.direction = static_cast<Direction>(s.Int(2));
    e.gate_time = FromUnixMicros(s.Int(3));
    if (s.Int(4) != 0) {
      auto reason = ReasonFromNumber(static_cast<int>(s.Int(6)));
      if (reason) {
        e.decision = HeldDecision{s.Int(5) != 0, *reason, s.Int(7),
                                  static_cast<DecisionSource>(s.Int(8)), FromUnixMicros(s.Int(9))};
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<int64_t> Outbox::Depth() {
  CORDON_ASSIGN_OR_RETURN(Statement s, db_.Prepare("SELECT count(*) FROM outbox"));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

absl::StatusOr<int64_t> Outbox::InputOffset(const std::string& source) {
  CORDON_ASSIGN_OR_RETURN(Statement s, db_.Prepare("SELECT offset FROM inputs WHERE source = ?1"));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Bind(1, source).Step());
  return row ? s.Int(0) : 0;
}

absl::Status Outbox::SavePolicy(const StoredPolicy& policy) {
  CORDON_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=FULL"));
  CORDON_ASSIGN_OR_RETURN(Statement s, db_.Prepare(
      "INSERT INTO policy(id, version, confirmed_at, body) VALUES (1, ?1, ?2, ?3) "
      "ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
      "confirmed_at = excluded.confirmed_at, body = excluded.body"));
  return s.Bind(1, policy.version)
      .Bind(2, ToUnixMicros(policy.confirmed_at))
      .BindBlob(3, policy.body)
      .Run();
}

absl::Status Outbox::ConfirmPolicy(TimePoint confirmed_at) {
  CORDON_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=NORMAL"));
  CORDON_ASSIGN_OR_RETURN(Statement s, db_.Prepare(
      "UPDATE policy SET confirmed_at = max(confirmed_at, ?1) WHERE id = 1"));
  return s.Bind(1, ToUnixMicros(confirmed_at)).Run();
}

absl::StatusOr<std::optional<StoredPolicy>> Outbox::LoadPolicy() {
  CORDON_ASSIGN_OR_RETURN(Statement s,
                          db_.Prepare("SELECT version, confirmed_at, body FROM policy WHERE id = 1"));
  CORDON_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<StoredPolicy>();
  return std::optional<StoredPolicy>(StoredPolicy{s.Int(0), FromUnixMicros(s.Int(1)), s.Blob(2)});
}

}  // namespace cordon::gate
