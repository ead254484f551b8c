// ProtocolImpl: the AgentSyncProtocol that AgentSyncProtocol::create() returns. It owns
// the module's durable change queue (SqliteChangeQueue, or an in-memory SQLite database
// when no path is given), the in-memory recovery set for FULL syncs, and the session
// machinery (SessionRunner, AnswerChannel). Private to asp/core: modules see only the
// interface (agent_sync_protocol.h).
//
// See AgentSyncProtocol for the contract of each method; all are thread-safe.
#ifndef ASP_CORE_PROTOCOL_IMPL_H_
#define ASP_CORE_PROTOCOL_IMPL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "asp/base/clock.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/core/answer_channel.h"
#include "asp/core/session_outcome.h"
#include "asp/core/session_runner.h"
#include "asp/storage/in_memory_change_set.h"
#include "asp/storage/sqlite_change_queue.h"

namespace asp {

class ProtocolImpl final : public AgentSyncProtocol {
 public:
  ProtocolImpl(Options options, std::unique_ptr<SqliteChangeQueue> queue);
  ~ProtocolImpl() override;

  absl::Status persistDifference(const std::string& id, Operation operation,
                                 const std::string& index, const std::string& data,
                                 uint64_t version) override;
  absl::Status persistDifferenceInMemory(const std::string& id, Operation operation,
                                         const std::string& index, const std::string& data,
                                         uint64_t version) override;
  SyncResult synchronizeModule(Mode mode, SyncOption option = SyncOption::kSync) override;
  absl::StatusOr<bool> requiresFullSync(const std::string& index,
                                        const std::string& checksum) override;
  SyncResult checkIntegrity(const std::string& index, const std::string& checksum) override;
  SyncResult synchronizeMetadataOrGroups(Mode mode, const std::vector<std::string>& indices,
                                         uint64_t global_version) override;
  SyncResult notifyDataClean(const std::vector<std::string>& indices,
                             SyncOption option = SyncOption::kSync) override;
  absl::Status parseResponseBuffer(const uint8_t* data, size_t length) override;
  void clearInMemoryData() override;
  absl::Status flush() override { return queue_->flush(); }
  ChangeRecorder& queue() override { return *queue_; }
  absl::Status deleteDatabase() override;
  void stop() override;
  void reset() override;
  Stats stats() const override;

 private:
  class RunningFlag;

  // Runs `call` once no other session runs; every result (refusals too) leaves through
  // conclude().
  SyncResult runExclusive(Mode mode, const std::function<SyncResult()>& call);
  // The streak, the log line at the outcome's level (session_outcome.h).
  SyncResult conclude(SyncResult result, Mode mode);
  // The agent's info for this call, waiting for it if the provider says "not yet";
  // false with *failure set when the call ends here.
  bool awaitPrerequisites(Mode mode, AgentInfo* agent, SyncResult* failure);
  SyncResult synchronizeDelta(SyncOption option);
  SyncResult synchronizeFull(SyncOption option);
  // One DELTA session of the call: the oldest changes within the bounds, up to `mark`.
  // *done when nothing was left to send; *last when the session took all there was (once
  // it is confirmed, the call is over).
  SyncResult deltaSession(const SessionScope& scope, SyncOption option, AgentInfo* agent,
                          bool* asked, bool* done, bool* last);
  // The context documents a session with `option` carries (none unless kVdFirst or
  // kVdSync), and adding them to a plan after its values.
  absl::StatusOr<SqliteChangeQueue::ContextSet> contextsFor(SyncOption option);
  void attachContexts(const SqliteChangeQueue::ContextSet& contexts, SessionPlan* plan);
  // Checks again after a mismatch, as SessionOptions::mismatch_rechecks says.
  SyncResult recheckMismatch(const SessionPlan& plan, SyncResult result);
  // Runs `plan`; commits or aborts `source` by the result.
  SyncResult runSession(const SessionPlan& plan, SessionSource* source);
  SyncResult rejected(SyncCode code, std::string message);
  void record(const SyncResult& result, bool succeeded);
  void log(LogLevel level, const std::string& message) const;
  // Drops what a confirmed clean could not drop; puts back changes a failed abort left
  // in flight.
  void recoverIfNeeded();

  const Options options_;
  Clock* const clock_;
  std::unique_ptr<SqliteChangeQueue> queue_;
  InMemoryChangeSet memory_;
  AnswerChannel channel_;
  SessionRunner runner_;
  std::atomic<bool> running_{false};
  // A failed abort leaves changes in flight; the next session recovers them first.
  std::atomic<bool> needs_recovery_{false};
  // A confirmed clean whose commit failed: its changes stay in flight until dropped.
  std::atomic<bool> needs_drop_{false};

  FailureStreak streak_;

  mutable std::mutex stats_mu_;
  Stats stats_;
};

}  // namespace asp

#endif  // ASP_CORE_PROTOCOL_IMPL_H_
