#include "daemon/storage/schema.h"

#include <array>
#include <string>

namespace cordon::storage {
namespace {

// Times are integer microseconds since the Unix epoch, UTC. Enumerations are
// stored as their proto numbers (core/model.h, core/reason.h).
constexpr std::string_view kV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('policy_version', 0);

CREATE TABLE gates (
  id            INTEGER PRIMARY KEY,
  gate_id       TEXT NOT NULL UNIQUE,
  description   TEXT NOT NULL DEFAULT '',
  registered_at INTEGER NOT NULL
);

CREATE TABLE people (
  id          INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  category    INTEGER NOT NULL,
  cohort      TEXT NOT NULL DEFAULT '',
  active      INTEGER NOT NULL DEFAULT 1,
  valid_until INTEGER,
  updated_at  INTEGER NOT NULL
);

-- HMAC-SHA256(campus secret, credential), first 16 bytes. Never the credential.
CREATE TABLE credentials (
  hash      BLOB PRIMARY KEY,
  person_id INTEGER NOT NULL REFERENCES people(id)
) WITHOUT ROWID;
CREATE INDEX credentials_by_person ON credentials(person_id);

CREATE TABLE quarantines (
  id         INTEGER PRIMARY KEY,
  person_id  INTEGER NOT NULL REFERENCES people(id),
  starts_at  INTEGER NOT NULL,
  ends_at    INTEGER NOT NULL,
  reason     TEXT NOT NULL DEFAULT '',
  ordered_at INTEGER NOT NULL,
  cleared_at INTEGER
);
CREATE INDEX quarantines_by_person ON quarantines(person_id);

CREATE TABLE passes (
  id          INTEGER PRIMARY KEY,
  person_id   INTEGER NOT NULL REFERENCES people(id),
  host        TEXT NOT NULL,
  valid_from  INTEGER NOT NULL,
  valid_until INTEGER NOT NULL,
  issued_at   INTEGER NOT NULL,
  entered_at  INTEGER,
  exited_at   INTEGER
);
CREATE INDEX passes_by_person ON passes(person_id);

-- Append-only journal of every scan. No foreign keys here: the hot path pays
-- for none; gate and person ids come from the daemon's own snapshot.
CREATE TABLE events (
  id              INTEGER PRIMARY KEY,
  gate_id         INTEGER NOT NULL,
  incarnation     INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  person_id       INTEGER,
  credential_hash BLOB NOT NULL,
  direction       INTEGER NOT NULL,
  occurred_at     INTEGER NOT NULL,
  gate_time       INTEGER NOT NULL,
  received_at     INTEGER NOT NULL,
  decided_at      INTEGER NOT NULL,
  allowed         INTEGER NOT NULL,
  reason          INTEGER NOT NULL,
  policy_version  INTEGER NOT NULL,
  source          INTEGER NOT NULL,
  pass_id         INTEGER,
  UNIQUE (gate_id, incarnation, seq)
);
CREATE INDEX events_by_person ON events(person_id, occurred_at);

-- Highest committed sequence per gate incarnation, so start-up need not scan
-- the events table.
CREATE TABLE gate_incarnations (
  gate_id     INTEGER NOT NULL,
  incarnation INTEGER NOT NULL,
  highest_seq INTEGER NOT NULL,
  PRIMARY KEY (gate_id, incarnation)
) WITHOUT ROWID;

CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY,
  kind            INTEGER NOT NULL,
  severity        INTEGER NOT NULL,
  raised_at       INTEGER NOT NULL,
  person_id       INTEGER,
  gate_id         INTEGER,
  event_id        INTEGER,
  detail          TEXT NOT NULL DEFAULT '',
  acknowledged_by TEXT,
  acknowledged_at INTEGER
);
CREATE INDEX alerts_by_time ON alerts(raised_at);
)sql";

// v2: a record of every online backup (cordonctl backup): when, how big,
// up to which event, and who asked.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE backups (
  id               INTEGER PRIMARY KEY,
  taken_at         INTEGER NOT NULL,
  size_bytes       INTEGER NOT NULL,
  highest_event_id INTEGER NOT NULL,
  requested_by     TEXT NOT NULL DEFAULT ''
);
)sql";

// v3: zones and the campus policy document. Each event records the zone it
// led to and the rule that decided it; the policy documents, health codes,
// leaves and disinfections are kept; timed alerts are raised once.
constexpr std::string_view kV3 = R"sql(
ALTER TABLE events ADD COLUMN zone TEXT;
ALTER TABLE events ADD COLUMN rule TEXT;
ALTER TABLE events ADD COLUMN leave_id INTEGER;

-- Every version of the campus policy document (zones, cohorts, modes...),
-- and every mode switch, as the policy version it took effect at.
CREATE TABLE policy_documents (
  version    INTEGER PRIMARY KEY,
  document   TEXT NOT NULL,
  mode       TEXT NOT NULL,
  applied_at INTEGER NOT NULL,
  applied_by TEXT NOT NULL DEFAULT '',
  change     TEXT NOT NULL
);

CREATE TABLE health_records (
  id          INTEGER PRIMARY KEY,
  person_id   INTEGER NOT NULL REFERENCES people(id),
  colour      INTEGER NOT NULL,
  source      TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX health_by_person ON health_records(person_id, recorded_at);

CREATE TABLE leaves (
  id           INTEGER PRIMARY KEY,
  person_id    INTEGER NOT NULL REFERENCES people(id),
  exit_from    INTEGER NOT NULL,
  exit_until   INTEGER NOT NULL,
  return_by    INTEGER NOT NULL,
  reason       TEXT NOT NULL DEFAULT '',
  approved_by  TEXT NOT NULL DEFAULT '',
  approved_at  INTEGER NOT NULL,
  exited_at    INTEGER,
  returned_at  INTEGER,
  overdue_alerted_at INTEGER
);
CREATE INDEX leaves_by_person ON leaves(person_id);

CREATE TABLE disinfections (
  id          INTEGER PRIMARY KEY,
  person_id   INTEGER NOT NULL REFERENCES people(id),
  at          INTEGER NOT NULL,
  recorded_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX disinfections_by_person ON disinfections(person_id, at);

ALTER TABLE passes ADD COLUMN overstay_alerted_at INTEGER;
)sql";

// v4: the security office. Each event records where the person stood (the
// gate side they came from), so presence intervals can be derived; intervals
// are kept as events are recorded, indexed for "who overlapped [a, b) in
// zone Z" by duration class (core/presence_interval.h).
constexpr std::string_view kV4 = R"sql(
ALTER TABLE events ADD COLUMN at_zone TEXT;
-- Covers the daily briefing's denials by reason.
CREATE INDEX events_by_time ON events(occurred_at, allowed, reason);
CREATE INDEX events_by_gate ON events(gate_id, occurred_at);

CREATE TABLE presence_intervals (
  id          INTEGER PRIMARY KEY,
  person_id   INTEGER NOT NULL,
  zone        TEXT NOT NULL,
  entered_at  INTEGER NOT NULL,
  exited_at   INTEGER,                  -- NULL: no exit yet
  span_class  INTEGER NOT NULL,         -- duration class; 63 while open
  inferred    INTEGER NOT NULL DEFAULT 0,  -- the exit was inferred, not scanned
  enter_event INTEGER NOT NULL,
  exit_event  INTEGER
);
CREATE INDEX intervals_by_person ON presence_intervals(person_id, entered_at);
CREATE INDEX intervals_by_zone ON presence_intervals(zone, span_class, entered_at);
-- Bit k set: some interval has duration class k (queries skip the others).
INSERT INTO meta(key, value) VALUES ('span_classes', 0);
-- 0 until the intervals of events recorded before v4 are derived.
INSERT INTO meta(key, value) VALUES ('intervals_built', 0);
)sql";

// v5: the zone index carries the whole interval, so "who overlapped [a, b)
// in zone Z" is answered from the index alone, without a table lookup per
// candidate (tracing reads thousands of them; docs/BENCHMARKS.md).
constexpr std::string_view kV5 = R"sql(
DROP INDEX intervals_by_zone;
CREATE INDEX intervals_by_zone
  ON presence_intervals(zone, span_class, entered_at, exited_at, person_id, inferred);
)sql";

// v6: the audit log (who read or changed what, when, why, how many rows).
// Entries are numbered without gaps and hash-chained: each hash is an HMAC,
// keyed from the campus secret, of the previous hash and the entry, so an
// edited entry no longer matches and a deleted one leaves a gap. Each entry
// keeps its predecessor's hash too, so it can be checked on its own even
// when the one before it is gone.
// audit_chain holds the ends: entries up to anchor_id were purged (anchor_hash
// was the last one's hash); head_id is the last written, and head_tag
// authenticates it, so entries cut from the end are seen too.
constexpr std::string_view kV6 = R"sql(
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,              -- "security:alice" (role:certificate name)
  action  TEXT NOT NULL,              -- "SecurityService/TraceContacts"
  purpose TEXT NOT NULL DEFAULT '',   -- the case reference or reason given
  subject TEXT NOT NULL DEFAULT '',   -- what was asked for or changed
  outcome TEXT NOT NULL,              -- "ok", "denied: ...", "failed: ..."
  rows    INTEGER NOT NULL DEFAULT 0, -- records returned or changed
  prev_hash BLOB NOT NULL,            -- the previous entry's hash
  hash    BLOB NOT NULL               -- HMAC(key, prev_hash and the fields above)
);
CREATE INDEX audit_by_time ON audit_log(at);
CREATE TABLE audit_chain (
  one         INTEGER PRIMARY KEY CHECK (one = 1),
  anchor_id   INTEGER NOT NULL,
  anchor_hash BLOB NOT NULL,
  head_id     INTEGER NOT NULL,
  head_tag    BLOB NOT NULL
);
INSERT INTO audit_chain VALUES (1, 0, x'', 0, x'');
)sql";

// v7: who is where, each person's last allowed movement, written every few
// minutes and at a clean stop, with the id of the last event it includes. A
// start reads it and then the events after that id, instead of seeking each
// person's latest event in a journal of millions (a year of history: 7 s
// from a cold page cache). Without that event (purged) it is not trusted.
constexpr std::string_view kV7 = R"sql(
CREATE TABLE presence_snapshot (
  person_id INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  gate_id   INTEGER NOT NULL,
  zone      TEXT NOT NULL             -- innermost zone; empty: outside
);
INSERT INTO meta(key, value) VALUES ('presence_snapshot_event', 0);
)sql";

// v8: no index of events by gate. Each event wrote a page of it per commit
// (200 gates: 50 events of a commit land on ~50 different leaves), 5 of the
// 66 µs plain SQLite spends per event on a 10 M-event store. A gate's
// movements in a time range are read through events_by_time and filtered:
// the office asks for hours or days, not years.
constexpr std::string_view kV8 = R"sql(
DROP INDEX events_by_gate;
)sql";

// v9: the people left out of the presence snapshot because their latest
// movement was decided but not yet committed when it was taken. The
// snapshot holds committed movements only; a start seeks these few in the
// journal (a crash before that commit means it never happened).
constexpr std::string_view kV9 = R"sql(
CREATE TABLE presence_snapshot_unsettled (
  person_id INTEGER PRIMARY KEY
);
)sql";

// v10: the per-person indexes keyed by day first (daemon/storage/person_days.h).
// Keyed by person first, each event dirtied a cold page of events_by_person
// and each stay one of intervals_by_person: a commit's people are random.
// Rebuilding both takes about 30 s on a 10 M-event store, once.
constexpr std::string_view kV10 = R"sql(
DROP INDEX events_by_person;
CREATE INDEX events_by_person ON events(occurred_at / 86400000000, person_id, occurred_at);
DROP INDEX intervals_by_person;
CREATE INDEX intervals_by_person
  ON presence_intervals(entered_at / 86400000000, person_id, entered_at);
)sql";

// v11: events without the unique (gate, incarnation, seq) index. Its keys
// are gate first, so a commit wrote a leaf of it per gate: at 1,000
// scans/s over 200 gates, a page per event. Resends are told apart without
// it (daemon/storage/committed_seqs.h, from gate_incarnations). SQLite
// drops a table constraint only by copying the table: about a minute, once,
// on a store of 10 M events; the old pages are zeroed (secure_delete) and
// reused by later events.
constexpr std::string_view kV11 = R"sql(
CREATE TABLE events_v11 (
  id              INTEGER PRIMARY KEY,
  gate_id         INTEGER NOT NULL,
  incarnation     INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  person_id       INTEGER,
  credential_hash BLOB NOT NULL,
  direction       INTEGER NOT NULL,
  occurred_at     INTEGER NOT NULL,
  gate_time       INTEGER NOT NULL,
  received_at     INTEGER NOT NULL,
  decided_at      INTEGER NOT NULL,
  allowed         INTEGER NOT NULL,
  reason          INTEGER NOT NULL,
  policy_version  INTEGER NOT NULL,
  source          INTEGER NOT NULL,
  pass_id         INTEGER,
  zone            TEXT,
  rule            TEXT,
  leave_id        INTEGER,
  at_zone         TEXT
);
INSERT INTO events_v11(id, gate_id, incarnation, seq, person_id, credential_hash, direction,
                       occurred_at, gate_time, received_at, decided_at, allowed, reason,
                       policy_version, source, pass_id, zone, rule, leave_id, at_zone)
  SELECT id, gate_id, incarnation, seq, person_id, credential_hash, direction,
         occurred_at, gate_time, received_at, decided_at, allowed, reason,
         policy_version, source, pass_id, zone, rule, leave_id, at_zone FROM events;
DROP TABLE events;
ALTER TABLE events_v11 RENAME TO events;
CREATE INDEX events_by_time ON events(occurred_at, allowed, reason);
CREATE INDEX events_by_person ON events(occurred_at / 86400000000, person_id, occurred_at);
)sql";

constexpr std::array<Migration, 11> kMigrations{{
    {1, "initial schema", kV1},
    {2, "backups log", kV2},
    {3, "zones, policy documents, health codes, leaves, disinfections", kV3},
    {4, "presence intervals for tracing and occupancy", kV4},
    {5, "zone index covers the interval", kV5},
    {6, "hash-chained audit log", kV6},
    {7, "presence snapshot", kV7},
    {8, "no index of events by gate", kV8},
    {9, "people the presence snapshot leaves to the journal", kV9},
    {10, "per-person indexes keyed by day", kV10},
    {11, "events without the unique (gate, incarnation, seq) index", kV11},
}};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }
int LatestSchemaVersion() { return kMigrations.back().version; }

absl::StatusOr<int> SchemaVersion(Database& db) {
  auto stmt = db.Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(stmt->Int(0));
}

absl::Status Migrate(Database& db, int target) {
  if (target < 0) target = LatestSchemaVersion();
  auto txn = Transaction::Begin(db);
  if (!txn.ok()) return txn.status();
  auto current = SchemaVersion(db);
  if (!current.ok()) return current.status();
  if (*current > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        "database schema version " + std::to_string(*current) +
        " is newer than this cordond understands (" + std::to_string(LatestSchemaVersion()) +
        "); run a newer cordond or restore a backup");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= *current || m.version > target) continue;
    if (auto st = db.Exec(m.sql); !st.ok()) {
      return absl::InternalError("migration " + std::to_string(m.version) + " (" +
                                 std::string(m.name) + "): " + std::string(st.message()));
    }
    if (auto st = db.Exec("PRAGMA user_version = " + std::to_string(m.version)); !st.ok()) {
      return st;
    }
  }
  return txn->Commit();
}

}  // namespace cordon::storage
