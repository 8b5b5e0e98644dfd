// The gate's outbox: every scan is written here (fsync'd) before it is sent,
// keeps the decision the gate acted on, and is deleted only when the daemon
// acknowledges it as committed. After a crash or a reconnect, what is left is
// resent in sequence order.
//
// The file also holds the gate's incarnation: a random id chosen when the
// file is created. A lost or replaced outbox is a new incarnation with its
// own sequence numbers, so its scans are never mistaken for old ones.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "core/reason.h"
#include "core/time.h"
#include "sqlite/database.h"

namespace cordon::gate {

// A decision as the gate acted on it.
struct HeldDecision {
  bool allowed = false;
  Reason reason = Reason::kDenyUnknownCredential;
  int64_t policy_version = 0;
  DecisionSource source = DecisionSource::kDaemon;
  TimePoint decided_at;
};

struct NewScan {
  std::string credential;
  Direction direction = Direction::kIn;
  TimePoint gate_time;
  // Set when the gate decided it itself (offline): stored with the scan, in
  // the same fsync, before the turnstile acts on it.
  std::optional<HeldDecision> decision;
};

// The offline copy of the policy as stored: the daemon's PolicyUpdate
// message, and the last time the gate knew it was current.
struct StoredPolicy {
  int64_t version = 0;
  TimePoint confirmed_at;
  std::string body;  // serialized cordon.v1.PolicyUpdate
};

struct OutboxEntry {
  uint64_t seq = 0;
  std::string credential;
  Direction direction = Direction::kIn;
  TimePoint gate_time;
  std::optional<HeldDecision> decision;
};

// How far an input file has been consumed, saved with the scans read from it
// so a restarted agent resumes after the last line it recorded.
struct InputMark {
  std::string source;  // the file's path
  int64_t offset = 0;  // bytes consumed
};

class Outbox {
 public:
  // Opens the outbox, creating it (with a new incarnation) if it does not
  // exist. Refuses an outbox that belongs to another gate.
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(const std::string& path,
                                                      const std::string& gate_id);

  uint64_t incarnation() const { return incarnation_; }
  uint64_t last_assigned_seq() const { return last_seq_; }

  // Assigns sequence numbers and stores the scans (and how far each input
  // was read) in one durable transaction.
  absl::StatusOr<std::vector<OutboxEntry>> Append(std::span<const NewScan> scans,
                                                  std::span<const InputMark> marks);
  // Records decisions and deletes acknowledged scans in one transaction.
  // Durable against a crash of the agent; after a power loss at worst a scan
  // is resent without its decision, which the daemon recognises.
  absl::Status Settle(std::span<const std::pair<uint64_t, HeldDecision>> decisions,
                      uint64_t acked_up_to);
  absl::StatusOr<std::vector<OutboxEntry>> Unacked();
  absl::StatusOr<int64_t> Depth();
  absl::StatusOr<int64_t> InputOffset(const std::string& source);

  absl::Status SavePolicy(const StoredPolicy& policy);
  absl::Status ConfirmPolicy(TimePoint confirmed_at);
  absl::StatusOr<std::optional<StoredPolicy>> LoadPolicy();

 private:
  explicit Outbox(sqlite::Database db) : db_(std::move(db)) {}
  absl::Status Init(const std::string& gate_id);

  sqlite::Database db_;
  uint64_t incarnation_ = 0;
  uint64_t last_seq_ = 0;
};

}  // namespace cordon::gate
