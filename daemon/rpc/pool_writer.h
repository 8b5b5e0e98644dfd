// The discipline of the security office's live streams (WatchAlerts,
// WatchEvents). gRPC calls (StartSendInitialMetadata, StartWrite, Finish)
// may run reactions inline, so they are made only from Work(), on the query
// pool, never under mu_ and never from the thread that brought the news;
// everything else records what is wanted and kicks Work(). One operation is
// in flight at a time. The initial metadata goes first, once the stream is
// registered: a client that waits for it misses nothing produced after.
// The object deletes itself when gRPC is done with it and no Work() is
// scheduled.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <mutex>
#include <optional>

#include "absl/status/status.h"
#include "daemon/rpc/admin_service.h"

namespace cordon::rpc {

// Holds `writer` until `audit` has written its entry; INTERNAL if it could not.
template <typename Writer>
void StartAfterAudit(Writer* writer, const AuditFirst& audit) {
  if (!audit) return writer->Start();
  writer->Hold();
  writer->Start();
  audit([writer](absl::Status st) {
    writer->Release(st.ok() ? grpc::Status::OK
                            : grpc::Status(grpc::StatusCode::INTERNAL,
                                           "the audit log could not be written, so the watch "
                                           "is refused: " + std::string(st.message())));
  });
}

template <typename Message>
class PoolWriter : public grpc::ServerWriteReactor<Message> {
 public:
  void OnSendInitialMetadataDone(bool ok) override { OperationDone(ok); }
  void OnWriteDone(bool ok) override { OperationDone(ok); }
  void OnCancel() override { Close(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled")); }
  void OnDone() override {
    Unregister();
    bool last;
    {
      std::lock_guard lock(mu_);
      done_ = true;
      last = tasks_ == 0;
    }
    if (last) delete this;
  }
  // Holds the stream (nothing is sent, not even the metadata) until
  // Release(): its audit entry is committed first. Call before Begin().
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
    ++tasks_;
  }
  // Lets a held stream go on, or end with `status` if it is not OK.
  void Release(const grpc::Status& status) {
    bool last;
    {
      std::lock_guard lock(mu_);
      held_ = false;
      if (!status.ok()) FailLocked(status);
      KickLocked();
      last = --tasks_ == 0 && done_;
    }
    if (last) delete this;
  }

  // Ends the stream with `status` (the first one given wins).
  void Close(const grpc::Status& status) {
    std::lock_guard lock(mu_);
    if (!close_status_) close_status_ = status;
    KickLocked();
  }

 protected:
  explicit PoolWriter(QueryRunner run) : run_(std::move(run)) {}
  ~PoolWriter() override = default;
  // Call once registered with its hub: sends the metadata, then what comes.
  void Begin() {
    std::lock_guard lock(mu_);
    KickLocked();
  }
  // Leaves the hub (from OnDone).
  virtual void Unregister() = 0;
  // On the pool at the start of each Work(), no lock held: fetch news (a
  // database read) into what NextLocked() hands out.
  virtual void Fetch() {}
  // Under mu_: the next message to write, if one is ready.
  virtual bool NextLocked(Message& out) = 0;
  // Under mu_: more to fetch even though nothing is ready to write.
  virtual bool MoreLocked() const { return false; }

  void KickLocked() {
    if (kicked_ || done_ || held_) return;
    kicked_ = true;
    ++tasks_;
    run_([this] { Work(); });
  }
  bool ClosingLocked() const { return close_status_.has_value(); }
  void FailLocked(const grpc::Status& status) {
    if (!close_status_) close_status_ = status;
  }
  // Under mu_: nothing queued may be written any more.
  bool IdleLocked() const { return !writing_ && !finished_ && !close_status_; }

  std::mutex mu_;

 private:
  void OperationDone(bool ok) {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok && !close_status_) close_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "watch stream broken");
    KickLocked();
  }

  void Work() {
    {
      std::lock_guard lock(mu_);
      kicked_ = false;
    }
    Fetch();
    enum { kNothing, kMetadata, kWrite, kFinish } action = kNothing;
    grpc::Status status;
    {
      std::lock_guard lock(mu_);
      if (!writing_ && !finished_) {
        if (!metadata_sent_ && !close_status_) {
          metadata_sent_ = writing_ = true;
          action = kMetadata;
        } else if (close_status_) {
          finished_ = true;
          status = *close_status_;
          action = kFinish;
        } else if (NextLocked(current_)) {
          writing_ = true;
          action = kWrite;
        } else if (MoreLocked()) {
          KickLocked();
        }
      }
    }
    if (action == kMetadata) this->StartSendInitialMetadata();
    if (action == kWrite) this->StartWrite(&current_);
    if (action == kFinish) this->Finish(status);
    bool last;
    {
      std::lock_guard lock(mu_);
      last = --tasks_ == 0 && done_;
    }
    if (last) delete this;
  }

  QueryRunner run_;
  Message current_;                           // the write in flight
  std::optional<grpc::Status> close_status_;  // guarded by mu_
  int tasks_ = 0;                             // guarded by mu_: Work() calls scheduled
  bool kicked_ = false;                       // guarded by mu_
  bool held_ = false;                         // guarded by mu_: Hold() until Release()
  bool writing_ = false;                      // guarded by mu_: metadata or a write in flight
  bool metadata_sent_ = false;                // guarded by mu_
  bool finished_ = false;                     // guarded by mu_
  bool done_ = false;                         // guarded by mu_
};

}  // namespace cordon::rpc
