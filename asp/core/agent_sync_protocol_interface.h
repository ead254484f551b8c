// IAgentSyncProtocol: what a module calls. AgentSyncProtocol implements it; modules
// depend on this interface so their unit tests can use the gmock mock
// (asp/testing/mock_agent_sync_protocol.h).
//
// Method names follow the protocol's established names. Every method is thread-safe.
// Sessions (synchronizeModule, requiresFullSync, synchronizeMetadataOrGroups,
// notifyDataClean) run one at a time per instance: a call made while another runs
// returns at once with SyncCode::kAlreadyRunning. Recording never waits for a session.
#ifndef ASP_CORE_AGENT_SYNC_PROTOCOL_INTERFACE_H_
#define ASP_CORE_AGENT_SYNC_PROTOCOL_INTERFACE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asp/core/sync_types.h"
#include "asp/storage/change.h"

namespace asp {

class IAgentSyncProtocol {
 public:
  virtual ~IAgentSyncProtocol() = default;

  // Records a change durably in the queue (docs/protocol.md §6). OK means it is committed at
  // the configured durability (Options::durability) and will reach the manager; with
  // asynchronous recording OK means buffered, and flush() is the barrier.
  // InvalidArgument for an empty id or index, an unknown operation, or data that cannot
  // fit in one frame (sizes in the message).
  virtual absl::Status persistDifference(const std::string& id, Operation operation,
                                         const std::string& index, const std::string& data,
                                         uint64_t version) = 0;

  // Adds a document to the in-memory recovery set a FULL sync sends (§5.1).
  virtual absl::Status persistDifferenceInMemory(const std::string& id, Operation operation,
                                                 const std::string& index,
                                                 const std::string& data,
                                                 uint64_t version) = 0;

  // Runs a session: kDelta sends the queue's pending changes, kFull the recovery set
  // (the manager replaces the listed indices). Other modes: kInvalidArgument.
  virtual SyncResult synchronizeModule(Mode mode, SyncOption option = SyncOption::kSync) = 0;

  // Integrity check of one index (§5.1): true only when the manager answers
  // CHECKSUM_MISMATCH; any other failure is an error status (see toStatus()).
  // `checksum` must be a lowercase hex SHA-1 (see asp/base/checksum.h).
  virtual absl::StatusOr<bool> requiresFullSync(const std::string& index,
                                                const std::string& checksum) = 0;

  // Metadata or groups session (§5.2): mode is one of kMetadataDelta, kMetadataCheck,
  // kGroupDelta, kGroupCheck.
  virtual SyncResult synchronizeMetadataOrGroups(Mode mode,
                                                 const std::vector<std::string>& indices,
                                                 uint64_t global_version) = 0;

  // Tells the manager to drop every document of `indices` (§5.3); on success the queue
  // drops their pending changes (not ones recorded during the session).
  virtual SyncResult notifyDataClean(const std::vector<std::string>& indices) = 0;

  // Hands one answer from the manager (header already removed) to the session.
  // InvalidArgument for bytes that are not a valid answer; answers for another session
  // or phase are ignored and counted (OK). Never crashes, whatever the bytes.
  virtual absl::Status parseResponseBuffer(const uint8_t* data, size_t length) = 0;

  // Empties the recovery set.
  virtual void clearInMemoryData() = 0;

  // Deletes the queue database and its files and opens a fresh one. FailedPrecondition
  // while a session runs. If the files cannot be removed or the new one cannot be
  // opened the error says why and the queue stays closed (recording then fails).
  virtual absl::Status deleteDatabase() = 0;

  // Wakes any session wait at once (the session returns kStopped, changes stay queued),
  // interrupts a send blocked in a transport that supports Transport::interrupt()
  // (UnixDatagramTransport: within 20 ms; a C send_binary cannot be interrupted), and
  // makes later sessions return kStopped until reset().
  virtual void stop() = 0;

  // Undoes stop(): sessions may run again.
  virtual void reset() = 0;

  virtual Stats stats() const = 0;
};

}  // namespace asp

#endif  // ASP_CORE_AGENT_SYNC_PROTOCOL_INTERFACE_H_
