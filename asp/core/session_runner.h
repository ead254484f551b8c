// SessionRunner: the session lifecycle of docs/protocol.md §5, and the only code that knows
// it. Start with retries and backoff, data streamed in frames paged from a
// SessionSource (then the context documents, if any) and paced by the rate limit, End
// with EndAck/ReqRet handling; a retransmission packs the values of every requested
// range into full frames.
//
// run() does not commit or abort the source: the caller does, by the result. It
// returns a SyncResult whatever happens (no exceptions, no crashes) and leaves the
// AnswerChannel closed.
//
// Thread-compatible: one run() at a time (AgentSyncProtocol guarantees it); answers
// arrive concurrently through the AnswerChannel.
#ifndef ASP_CORE_SESSION_RUNNER_H_
#define ASP_CORE_SESSION_RUNNER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asp/base/backoff_policy.h"
#include "asp/base/clock.h"
#include "asp/core/answer_channel.h"
#include "asp/core/session_options.h"
#include "asp/core/sync_types.h"
#include "asp/proto/wire.pb.h"
#include "asp/storage/change_queue.h"
#include "asp/transport/transport.h"

namespace asp {

// Reads the context documents of a session by rank (0..context_count-1), in pages like
// SessionSource::readInFlight (SessionChange::seq holds the rank).
using ContextReader =
    std::function<absl::StatusOr<SessionPage>(uint64_t first, uint64_t last, size_t max_bytes)>;

// What one session sends. Exactly one of `values`, `cleans`, `checksum` is used,
// or none (metadata and groups).
struct SessionPlan {
  Mode mode = Mode::kDelta;
  SyncOption option = SyncOption::kSync;
  std::vector<std::string> indices;
  uint64_t global_version = 0;
  AgentInfo agent;                  // sent in the Start (and in every resend of it)
  uint64_t size = 0;                // data messages: seq 0..size-1
  SessionSource* values = nullptr;  // DataValue per seq (DELTA, FULL)
  // DataContext messages after the values: seqs size-context_count..size-1.
  uint64_t context_count = 0;
  ContextReader contexts;
  std::vector<std::string> cleans;  // DataClean per seq (notifyDataClean)
  std::string checksum;             // CHECK: ChecksumModule{indices[0], checksum}
};

// Counters the runner reports as it goes (for Stats).
struct SessionCounters {
  std::function<void(uint64_t frames, uint64_t bytes)> sent;
  std::function<void(uint64_t values)> values_sent;
  std::function<void(uint64_t values)> retransmitted;
};

class SessionRunner {
 public:
  SessionRunner(std::string module, const SessionOptions& options, Transport* transport,
                Clock* clock, AnswerChannel* channel, SessionCounters counters, Logger logger);

  SyncResult run(const SessionPlan& plan);

 private:
  class Run;

  const std::string module_;
  const SessionOptions options_;
  Transport* const transport_;
  Clock* const clock_;
  AnswerChannel* const channel_;
  const SessionCounters counters_;
  const Logger logger_;
  BackoffPolicy backoff_;
};

}  // namespace asp

#endif  // ASP_CORE_SESSION_RUNNER_H_
