// The current policy snapshot. Readers take a shared_ptr without locking;
// an administrative change builds the next snapshot and publishes it in one
// atomic store. Every publish happens on the journal writer thread, after the
// change is committed, so versions only grow.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "core/policy_snapshot.h"

namespace cordon::rpc {

class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const PolicySnapshot> initial)
      : current_(std::move(initial)) {}
  std::shared_ptr<const PolicySnapshot> Get() const { return current_.load(); }
  void Publish(std::shared_ptr<const PolicySnapshot> next) {
    current_.store(next);
    if (on_publish_) on_publish_(*next);
  }
  // Called after each publish, on the publishing thread (the writer): the
  // gates' offline copy is rebuilt and pushed from here. Set before serving.
  void OnPublish(std::function<void(const PolicySnapshot&)> listener) {
    on_publish_ = std::move(listener);
  }

 private:
  std::atomic<std::shared_ptr<const PolicySnapshot>> current_;
  std::function<void(const PolicySnapshot&)> on_publish_;
};

}  // namespace cordon::rpc
