// AgentSyncProtocol: the library's main class, one instance per module.
//
// It owns the module's durable change queue (SqliteChangeQueue, or an in-memory SQLite
// database when no path is given), the in-memory recovery set for FULL syncs, and the
// session machinery. Create it with create(), which validates every option and opens
// the queue; wire the transport's answers to parseResponseBuffer().
//
// See IAgentSyncProtocol for the contract of each method; all are thread-safe.
#ifndef ASP_CORE_AGENT_SYNC_PROTOCOL_H_
#define ASP_CORE_AGENT_SYNC_PROTOCOL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "asp/base/clock.h"
#include "asp/core/agent_sync_protocol_interface.h"
#include "asp/core/answer_channel.h"
#include "asp/base/backoff_policy.h"
#include "asp/core/session_runner.h"
#include "asp/storage/in_memory_change_set.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/transport/transport.h"

namespace asp {

class AgentSyncProtocol final : public IAgentSyncProtocol {
 public:
  struct Options {
    // Required: 1..64 bytes of [A-Za-z0-9_-]; names the module on the wire.
    std::string module;
    // The queue's SQLite file (e.g. "/var/ossec/queue/fim_sync.db"). Empty: an
    // in-memory database, lost when the instance is destroyed.
    std::string database_path;
    // Required: where encoded messages go. Not owned; must stay alive while any call
    // into the instance runs (the destructor does not touch it).
    Transport* transport = nullptr;
    // Who the agent is, asked once per session (a resent Start repeats it). Default:
    // defaultAgentInfo(), read once at create().
    std::function<AgentInfo()> agent_info;
    // Wait for each answer; resend after it passes.
    absl::Duration timeout = absl::Seconds(30);
    // Resends of Start (and of End) after a timeout.
    int retries = 3;
    BackoffOptions backoff;
    // Pause between the last data message and End.
    absl::Duration sync_end_delay = absl::Seconds(1);
    // Frames per second; 0 = unlimited.
    double max_eps = 0;
    // Largest datagram, header included (at most 65,536).
    size_t frame_budget_bytes = 60 * 1024;
    // ReqRet rounds one session accepts before failing as a protocol error.
    int max_retransmission_rounds = 64;
    // After the manager first answers End with PROCESSING ("still applying"), how long
    // it may take in all: silences then resend End without spending a retry.
    absl::Duration max_processing_wait = absl::Minutes(15);
    Durability durability = Durability::kProcessCrash;
    // Opt-in asynchronous recording (see asp/storage/async_committer.h).
    bool asynchronous_recording = false;
    // Name of a registered SQLite VFS for the queue file (fault injection in tests,
    // or an encrypting VFS); empty: SQLite's default.
    std::string sqlite_vfs;
    // Default: systemClock().
    Clock* clock = nullptr;
    // Default: no logging.
    Logger logger;
  };

  static absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> create(Options options);
  ~AgentSyncProtocol() override;

  absl::Status persistDifference(const std::string& id, Operation operation,
                                 const std::string& index, const std::string& data,
                                 uint64_t version) override;
  absl::Status persistDifferenceInMemory(const std::string& id, Operation operation,
                                         const std::string& index, const std::string& data,
                                         uint64_t version) override;
  SyncResult synchronizeModule(Mode mode, SyncOption option = SyncOption::kSync) override;
  absl::StatusOr<bool> requiresFullSync(const std::string& index,
                                        const std::string& checksum) override;
  SyncResult synchronizeMetadataOrGroups(Mode mode, const std::vector<std::string>& indices,
                                         uint64_t global_version) override;
  SyncResult notifyDataClean(const std::vector<std::string>& indices) override;
  absl::Status parseResponseBuffer(const uint8_t* data, size_t length) override;
  void clearInMemoryData() override;
  absl::Status deleteDatabase() override;
  void stop() override;
  void reset() override;
  Stats stats() const override;

  // requiresFullSync() with the whole session result: kOk when the checksums match,
  // kChecksumMismatch when they differ, anything else on failure.
  SyncResult checkIntegrity(const std::string& index, const std::string& checksum);

  // The queue, for inspection (counts) and batch recording. Sessions and deleting the
  // database go through the protocol, so this view has neither.
  ChangeRecorder& queue() { return *queue_; }
  // Waits until every change recorded so far is durable (asynchronous mode).
  absl::Status flush() { return queue_->flush(); }

 private:
  class RunningFlag;

  AgentSyncProtocol(Options options, std::unique_ptr<SqliteChangeQueue> queue);

  // Runs `plan` once no other session runs; commits or aborts `source` by the result.
  SyncResult runExclusive(const std::function<SyncResult()>& session);
  SyncResult runSession(const SessionPlan& plan, SessionSource* source);
  SyncResult rejected(SyncCode code, std::string message);
  void record(const SyncResult& result, bool succeeded);
  void log(LogLevel level, const std::string& message) const;

  const Options options_;
  Clock* const clock_;
  std::unique_ptr<SqliteChangeQueue> queue_;
  InMemoryChangeSet memory_;
  AnswerChannel channel_;
  SessionRunner runner_;
  std::atomic<bool> running_{false};
  // A failed abort leaves changes in flight; the next session recovers them first.
  std::atomic<bool> needs_recovery_{false};

  mutable std::mutex stats_mu_;
  Stats stats_;
};

}  // namespace asp

#endif  // ASP_CORE_AGENT_SYNC_PROTOCOL_H_
