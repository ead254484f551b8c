// AgentSyncProtocol: what a module calls (docs/protocol.md §5, §6). One instance per module;
// create() opens its durable change queue and returns it. Modules depend on this
// interface alone, so their unit tests can use the gmock mock
// (asp/testing/mock_agent_sync_protocol.h); how sessions run is not part of it.
//
// Method names follow the protocol's established names. Every method is thread-safe.
// Sessions (synchronizeModule, requiresFullSync/checkIntegrity,
// synchronizeMetadataOrGroups, notifyDataClean) run one at a time per instance: a call
// made while another runs returns at once with SyncCode::kAlreadyRunning. Recording
// never waits for a session.
#ifndef ASP_CORE_AGENT_SYNC_PROTOCOL_H_
#define ASP_CORE_AGENT_SYNC_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asp/base/clock.h"
#include "asp/core/session_options.h"
#include "asp/core/sync_types.h"
#include "asp/storage/change.h"
#include "asp/storage/change_recorder.h"
#include "asp/transport/transport.h"

namespace asp {

class AgentSyncProtocol {
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
    // Who the agent is, asked once per session call (resent Starts and the consecutive
    // sessions of a bounded DELTA repeat the answer); it may answer Unavailable ("not
    // yet"), see AgentInfoProvider. Default: defaultAgentInfo(), read once at create().
    // Every field must be valid UTF-8.
    AgentInfoProvider agent_info;
    // Waits, retries, pacing.
    SessionOptions session;
    Durability durability = Durability::kProcessCrash;
    // Opt-in asynchronous recording: persistDifference() returns once the change is
    // buffered; flush() is the durability barrier.
    bool asynchronous_recording = false;
    // Name of a registered SQLite VFS for the queue file (fault injection in tests,
    // or an encrypting VFS); empty: SQLite's default.
    std::string sqlite_vfs;
    // Default: systemClock().
    Clock* clock = nullptr;
    // Default: no logging.
    Logger logger;
  };

  // Validates every option and opens the queue. InvalidArgument naming a bad option;
  // the queue's errors (a file that cannot be opened, of an unknown version, ...).
  static absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> create(Options options);

  virtual ~AgentSyncProtocol() = default;

  // Records a change durably in the queue (§6). OK means it is committed at the
  // configured durability and will reach the manager; with asynchronous recording OK
  // means buffered, and flush() is the barrier. InvalidArgument for an empty id or
  // index, one that is not UTF-8, an unknown operation, or data that cannot fit in one
  // frame (the offending value in the message).
  virtual absl::Status persistDifference(const std::string& id, Operation operation,
                                         const std::string& index, const std::string& data,
                                         uint64_t version) = 0;

  // Adds a document to the in-memory recovery set a FULL sync sends (§5.1).
  virtual absl::Status persistDifferenceInMemory(const std::string& id, Operation operation,
                                                 const std::string& index, const std::string& data,
                                                 uint64_t version) = 0;

  // Runs a session call. kDelta sends the queue's pending changes, oldest first, in
  // consecutive sessions of at most SessionOptions::max_session_values /
  // max_session_bytes each, until everything pending when the call began is confirmed,
  // a session fails, or stop(); with kVdFirst or kVdSync each session also carries the
  // module's context documents (ChangeRecorder::recordContext) after its values, and
  // its bounds leave room for them. kFull sends the recovery set in one session (the
  // manager replaces the listed indices with it), followed by the context documents with
  // kVdFirst or kVdSync. Context documents alone are not something to send: with no
  // value the call returns kNothingToDo. Sessions never drop context documents
  // (ChangeRecorder::clearContexts does). Other modes, and kVdClean: kInvalidArgument.
  virtual SyncResult synchronizeModule(Mode mode, SyncOption option = SyncOption::kSync) = 0;

  // Integrity check of one index (§5.1): true only when the manager answers
  // CHECKSUM_MISMATCH (every time, with SessionOptions::mismatch_rechecks); any other
  // failure is an error status (see toStatus()).
  // `checksum` must be a lowercase hex SHA-1 (see asp/base/checksum.h).
  virtual absl::StatusOr<bool> requiresFullSync(const std::string& index,
                                                const std::string& checksum) = 0;

  // requiresFullSync() with the whole session result: kOk when the checksums match,
  // kChecksumMismatch when they differ, anything else on failure.
  virtual SyncResult checkIntegrity(const std::string& index, const std::string& checksum) = 0;

  // Metadata or groups session (§5.2): mode is one of kMetadataDelta, kMetadataCheck,
  // kGroupDelta, kGroupCheck.
  virtual SyncResult synchronizeMetadataOrGroups(Mode mode, const std::vector<std::string>& indices,
                                                 uint64_t global_version) = 0;

  // Tells the manager to drop every document of `indices` (§5.3); on success the queue
  // drops their pending changes (not ones recorded during the session). `option` goes in
  // the Start (kVdClean for a vulnerability-detection clean).
  virtual SyncResult notifyDataClean(const std::vector<std::string>& indices,
                                     SyncOption option = SyncOption::kSync) = 0;

  // Hands one answer from the manager (header already removed) to the session.
  // InvalidArgument for bytes that are not a valid answer; answers for another session
  // or phase are ignored and counted (OK). Never crashes, whatever the bytes.
  virtual absl::Status parseResponseBuffer(const uint8_t* data, size_t length) = 0;

  // Empties the recovery set.
  virtual void clearInMemoryData() = 0;

  // Waits until every change recorded so far is durable (asynchronous recording; a
  // no-op otherwise).
  virtual absl::Status flush() = 0;

  // The queue, for inspection (counts) and batch recording. Sessions and deleting the
  // database go through the protocol, so this view has neither.
  virtual ChangeRecorder& queue() = 0;

  // Deletes the queue database and its files and opens a fresh one (files already missing
  // count as deleted). FailedPrecondition while a session runs. A file that cannot be
  // removed is FailedPrecondition naming it, and the queue opens it again with every
  // change in it; only when that, or the new file, cannot be opened does the queue stay
  // closed (recording then fails).
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

#endif  // ASP_CORE_AGENT_SYNC_PROTOCOL_H_
