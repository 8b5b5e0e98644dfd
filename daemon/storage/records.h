// What storage records and returns, in domain terms (no protobuf here).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/campus_state.h"
#include "core/contacts.h"
#include "core/credential.h"
#include "core/engine.h"
#include "core/model.h"
#include "core/reason.h"
#include "core/roster.h"
#include "core/time.h"

namespace cordon::storage {

// One scan as recorded: identity (gate, incarnation, seq), the decision and
// every clock involved. Append-only; unique on (gate, incarnation, seq).
struct RecordedEvent {
  GateRowId gate = 0;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  PersonId person = 0;  // 0: unknown credential
  CredentialHash credential;
  Direction direction = Direction::kIn;
  TimePoint occurred_at;  // when the person passed (daemon clock when decided online)
  TimePoint gate_time;    // the gate's clock
  TimePoint received_at;  // daemon clock on receipt
  TimePoint decided_at;
  bool allowed = false;
  Reason reason = Reason::kDenyUnknownCredential;
  int64_t policy_version = 0;
  DecisionSource source = DecisionSource::kDaemon;
  PassId pass = 0;
  PassStep pass_step = PassStep::kNone;
  LeaveId leave = 0;
  LeaveStep leave_step = LeaveStep::kNone;
  std::string zone;  // innermost zone after an allowed movement; empty: outside
  std::string at_zone;  // where the person stood at the gate; empty: outside
  std::string rule;  // the rule that decided (Decision::rule); empty for held decisions
  std::optional<AlertKind> alert;
  std::string alert_detail;
};

// One person's last allowed movement, as the presence snapshot keeps it.
struct PresenceMark {
  PersonId person = 0;
  TimePoint at;
  GateRowId gate = 0;
  std::string zone;  // innermost zone; empty: outside
};

// The highest sequence committed for one gate incarnation.
struct IncarnationMark {
  GateRowId gate = 0;
  uint64_t incarnation = 0;
  uint64_t highest_seq = 0;
};

// Unset filters match everything.
struct MovementQuery {
  PersonId person = 0;
  std::vector<GateRowId> gates;  // any of these gates
  std::optional<bool> allowed;
  TimePoint from;
  TimePoint to;
  // Paging cursor: rows after (after_at, after_id) in (occurred_at, id) order.
  std::optional<std::pair<TimePoint, int64_t>> after;
  int limit = 100;
};

struct MovementRow {
  int64_t id = 0;
  PersonId person = 0;
  GateRowId gate = 0;
  uint64_t seq = 0;
  Direction direction = Direction::kIn;
  bool allowed = false;
  Reason reason = Reason::kDenyUnknownCredential;
  TimePoint occurred_at;
  TimePoint gate_time;
  int64_t policy_version = 0;
  DecisionSource source = DecisionSource::kDaemon;
  std::string zone;     // where the movement led (allowed only); empty: outside
  std::string at_zone;  // where the person stood
  std::string rule;
};

using cordon::Severity;

// The longest believable stay in a zone: past it, an exit that never came
// is inferred.
using MaxStayFn = std::function<Micros(std::string_view zone)>;

// A zone and a time range: "who was in `zone` during [from, to)".
struct ZoneSpan {
  std::string zone;
  TimePoint from;
  TimePoint to;
};

// The figures of a daily briefing over [from, to) (one campus-local day).
struct DailyFigures {
  int64_t scans = 0;
  int64_t allowed = 0;
  std::map<Reason, int64_t> denials;
  std::map<AlertKind, int64_t> alerts;
  int64_t visitors_in = 0;   // single-visit passes used to enter that day
  int64_t visitors_out = 0;  // ... and to leave
  std::vector<QuarantineOrder> isolated;  // orders in force at `to`
  std::vector<QuarantineOrder> released;  // orders that ended during the day
  std::vector<LeaveApproval> left;        // leaves used to exit during the day
  int64_t returned = 0;                   // leaves whose return was during the day
  std::vector<LeaveApproval> overdue;     // out past return-by at `to`
};

struct AlertQuery {
  TimePoint from;
  TimePoint to;
  // Paging cursor: rows after (after_at, after_id) in (raised_at, id) order.
  std::optional<std::pair<TimePoint, int64_t>> after;
  int limit = 100;
  // Filters; empty or zero: any.
  std::vector<AlertKind> kinds;
  Severity min_severity = Severity::kInfo;
  PersonId person = 0;
  GateRowId gate = 0;
  bool unacknowledged_only = false;
  // For live watching: only alerts with a larger id, in id order (from/to
  // and `after` are ignored).
  std::optional<int64_t> after_id;
};

struct AlertRow {
  int64_t id = 0;
  AlertKind kind = AlertKind::kExitWithoutEntry;
  Severity severity = Severity::kWarning;
  TimePoint raised_at;
  PersonId person = 0;
  GateRowId gate = 0;
  std::string detail;
  std::string acknowledged_by;  // empty: not acknowledged
  std::optional<TimePoint> acknowledged_at;
};

// A recorded scan as a policy simulation replays it.
struct ReplayRow {
  int64_t id = 0;
  GateRowId gate = 0;
  CredentialHash credential;
  Direction direction = Direction::kIn;
  TimePoint occurred_at;
  Reason reason = Reason::kDenyUnknownCredential;
};

// One version of the campus policy document, or a mode switch.
struct PolicyDocumentRecord {
  int64_t version = 0;   // the policy version it took effect at
  std::string document;  // YAML, as the administrator wrote it (comments kept)
  std::string mode;      // the campus mode in force from then
  TimePoint applied_at;
  std::string applied_by;
  std::string change;    // "apply", "rollback to v12", "mode closed_management -> normal"
};

// Something due at a known time: a leave whose return-by passed with the
// person still out, a visitor inside after the pass window.
struct DueAlert {
  AlertKind kind = AlertKind::kLeaveOverdue;
  int64_t subject = 0;  // leave or pass id
  PersonId person = 0;
  TimePoint due_at;
};

// A consistent copy of the database taken online (cordonctl backup).
struct BackupInfo {
  TimePoint taken_at;
  int64_t size_bytes = 0;
  int schema_version = 0;
  int64_t policy_version = 0;
  int64_t highest_event_id = 0;  // every event up to this id is in the copy
  int64_t events = 0;
  std::string requested_by;      // the client's address
};

// One audit log entry (schema v6). `hash` chains it to the one before.
struct AuditEntry {
  int64_t id = 0;
  TimePoint at;
  std::string actor;    // "security:alice"
  std::string action;   // "SecurityService/TraceContacts"
  std::string purpose;  // case reference or reason
  std::string subject;  // what was asked for or changed
  std::string outcome;  // "ok", "denied: ...", "failed: ..."
  int64_t rows = 0;
  std::string prev_hash;  // raw bytes: the previous entry's hash
  std::string hash;       // raw bytes
};

// What one retention pass deleted (SqliteStore::PurgeBefore).
struct PurgeReport {
  int64_t events = 0, intervals = 0, alerts = 0, health = 0, quarantines = 0, passes = 0,
          leaves = 0, disinfections = 0, audit = 0;
  bool more = false;  // the row limit was reached: call again
  int64_t total() const {
    return events + intervals + alerts + health + quarantines + passes + leaves + disinfections +
           audit;
  }
};

// The ends of the audit chain (see schema v6).
struct AuditChainEnds {
  int64_t anchor_id = 0;
  std::string anchor_hash;
  int64_t head_id = 0;
  std::string head_tag;
};

struct AuditQuery {
  int64_t after_id = 0;
  TimePoint from = FromUnixMicros(0);
  TimePoint to = TimePoint::max();
  std::string actor;  // exact, or empty for all
  int limit = 1000;
};

}  // namespace cordon::storage
