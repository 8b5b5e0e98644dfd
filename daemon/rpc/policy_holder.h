// The current policy snapshot. Readers take a shared_ptr without locking;
// an administrative change builds the next snapshot and publishes it in one
// atomic store. Every publish happens on the journal writer thread, after the
// change is committed, so versions only grow.
#pragma once

#include <atomic>
#include <memory>

#include "core/policy_snapshot.h"

namespace cordon::rpc {

class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const PolicySnapshot> initial)
      : current_(std::move(initial)) {}
  std::shared_ptr<const PolicySnapshot> Get() const { return current_.load(); }
  void Publish(std::shared_ptr<const PolicySnapshot> next) { current_.store(std::move(next)); }

 private:
  std::atomic<std::shared_ptr<const PolicySnapshot>> current_;
};

}  // namespace cordon::rpc
