// The policy as gates receive it for deciding offline (PolicyUpdate): built
// once per policy version, on the thread that publishes the version, then
// sent to every connected gate and to each gate that connects later.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "cordon/v1/gate.pb.h"
#include "core/policy_snapshot.h"
#include "core/time.h"
#include "daemon/presence/campus_presence.h"
#include "daemon/rpc/gate_ledger.h"

namespace cordon::rpc {

// Compacts `policy` for gates, as a serialized DaemonMessage holding a
// PolicyUpdate. Pass progress (used entries and exits) comes from presence
// as of now; the credential lookups are the stored hashes, keyed with
// `lookup_key`.
grpc::ByteBuffer SerializeGatePolicyUpdate(const PolicySnapshot& policy,
                                           const presence::CampusPresence& presence,
                                           const std::string& lookup_key, TimePoint now);

// One version's update, serialized once and shared by every stream it is
// sent to (an in-memory message of 100,000 people is ~30 MB; its bytes ~5 MB).
struct GatePolicyCopy {
  int64_t version = 0;
  grpc::ByteBuffer bytes;
};

class GatePolicyFeed {
 public:
  GatePolicyFeed(std::string lookup_key, const presence::CampusPresence& presence,
                 GateLedger& ledger, const Clock& clock)
      : lookup_key_(std::move(lookup_key)), presence_(presence), ledger_(ledger), clock_(clock) {}

  // A new version: rebuild and push to every connected gate.
  void Publish(const PolicySnapshot& policy);
  // The latest update, for a gate that just connected (null before the first).
  std::shared_ptr<const GatePolicyCopy> Current() const;

 private:
  const std::string lookup_key_;
  const presence::CampusPresence& presence_;
  GateLedger& ledger_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::shared_ptr<const GatePolicyCopy> current_;  // guarded by mu_
};

}  // namespace cordon::rpc
