// The vocabulary of the public API: modes, options, agent info, session results,
// counters and logging.
#ifndef ASP_CORE_SYNC_TYPES_H_
#define ASP_CORE_SYNC_TYPES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace asp {

// What a session does (docs/protocol.md §2). synchronizeModule takes kFull or kDelta;
// synchronizeMetadataOrGroups the metadata and group modes; kCheck is
// requiresFullSync's.
enum class Mode {
  kFull,
  kDelta,
  kCheck,
  kMetadataDelta,
  kMetadataCheck,
  kGroupDelta,
  kGroupCheck,
};

// A hint the manager may use for ordering (docs/protocol.md §3). With kVdFirst and
// kVdSync a DELTA also sends the module's context documents; kVdClean is for
// notifyDataClean.
enum class SyncOption { kSync, kVdFirst, kVdSync, kVdClean };

std::string syncOptionName(SyncOption option);

std::string modeName(Mode mode);

// Who the agent is; sent in every Start.
struct AgentInfo {
  std::string id;
  std::string name;
  std::string version;
  std::string hostname;
  std::string architecture;
  std::string os_name;
  std::string os_platform;
  std::string os_type;
  std::string os_version;
  std::vector<std::string> groups;
  std::string cluster_name;
  std::string cluster_node;
};

// Who the agent is, asked before each session call (the Starts of one call all carry
// the same answer). Unavailable means "not known yet" (the agent is still enrolling, its
// groups are not assigned): the call waits for it, up to SessionOptions::
// prerequisite_wait, then fails with SyncCode::kAwaitingPrerequisite. Any other error
// fails the call as kInvalidArgument. A provider returning a plain AgentInfo converts.
using AgentInfoProvider = std::function<absl::StatusOr<AgentInfo>()>;

// This host's info from uname/gethostname, with id "000" (the local agent).
AgentInfo defaultAgentInfo();

// OK, or InvalidArgument naming the first field that is not valid UTF-8 and its byte
// (every field travels as text in every Start, docs/protocol.md §2).
absl::Status validateAgentInfo(const AgentInfo& info);

// The outcome of a session.
enum class SyncCode {
  kOk,
  kNothingToDo,           // nothing to send; the manager was not contacted
  kAlreadyRunning,        // another session of this instance is running
  kStopped,               // stop() was called
  kManagerNotReady,       // StartAck/EndAck OFFLINE: defer, do not alarm
  kStartTimeout,          // no StartAck after every retry
  kEndTimeout,            // no EndAck after every retry
  kManagerError,          // StartAck/EndAck ERROR
  kChecksumMismatch,      // EndAck CHECKSUM_MISMATCH
  kProtocolError,         // the manager broke the protocol (e.g. ReqRet out of range)
  kTransportError,        // the message could not be sent
  kStorageError,          // the queue failed
  kInvalidArgument,       // the call itself was wrong (e.g. a mode this call does not take)
  kAwaitingPrerequisite,  // the agent's identity (or groups) did not become available in time
};

// "ok", "nothing to do", "already running", ...
std::string syncCodeName(SyncCode code);

struct SyncResult {
  SyncCode code = SyncCode::kOk;
  std::string message;
  uint64_t session = 0;        // the manager's session id, 0 if none was opened
  uint64_t changes = 0;        // data messages in the session (its Start size)
  uint64_t frames_sent = 0;    // datagrams sent, all kinds
  uint64_t bytes_sent = 0;     // encoded message bytes sent
  uint64_t retransmitted = 0;  // data messages sent again on ReqRet
  absl::Duration duration;     // on the protocol's clock
  // Sessions the call ran: a DELTA with a backlog above the session bounds runs several
  // (the counts above are their sums; `session` is the last one's id).
  uint64_t sessions = 0;
  // Failed calls in a row, this one included (0 after a success). A stop, "already
  // running", "nothing to do" and refused arguments leave it as it was.
  uint64_t consecutive_failures = 0;

  // kOk or kNothingToDo.
  bool ok() const { return code == SyncCode::kOk || code == SyncCode::kNothingToDo; }
};

// A status for a failed result (OK for ok()): kManagerNotReady and kTransportError ->
// Unavailable, timeouts -> DeadlineExceeded, kStopped -> Cancelled, kAlreadyRunning ->
// FailedPrecondition, kInvalidArgument -> InvalidArgument, kStorageError -> Internal,
// the rest -> Aborted. The message starts with syncCodeName().
absl::Status toStatus(const SyncResult& result);

// Counters since the instance was created. Calls refused before a session begins
// (invalid arguments, already running, stopped) count in neither sessions field; an
// integrity check answered CHECKSUM_MISMATCH counts as ok (it is the answer asked for).
struct Stats {
  uint64_t sessions_ok = 0;
  uint64_t sessions_failed = 0;
  uint64_t values_sent = 0;  // data messages, first transmissions
  uint64_t frames_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t retransmitted = 0;
  uint64_t answers_ignored = 0;    // wrong session, wrong phase, duplicates
  uint64_t answers_malformed = 0;  // bytes parseResponseBuffer refused
  std::string last_failure;        // "<code>: <message>" of the latest failed session
};

enum class LogLevel { kDebug, kInfo, kWarning, kError };

std::string logLevelName(LogLevel level);

// Receives the library's log lines. Called from the thread doing the work; must be
// thread-safe and must not call back into the protocol instance.
using Logger = std::function<void(LogLevel, absl::string_view)>;

// Calls `logger` if set; a logger that throws loses that line, nothing else.
void logSafely(const Logger& logger, LogLevel level, absl::string_view message);

// Calls the module's agent-info provider; an exception it throws becomes
// InvalidArgument ("agent_info threw: ...").
absl::StatusOr<AgentInfo> askAgentInfo(const AgentInfoProvider& provider);

}  // namespace asp

#endif  // ASP_CORE_SYNC_TYPES_H_
