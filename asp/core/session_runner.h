// SessionRunner: the session lifecycle of PROTOCOL.md §5, and the only code that knows
// it. Start with retries and backoff, data streamed in frames paged from a
// SessionSource and paced by the rate limit, End with EndAck/ReqRet handling.
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
#include "asp/base/clock.h"
#include "asp/core/answer_channel.h"
#include "asp/core/session_options.h"
#include "asp/base/backoff_policy.h"
#include "asp/core/sync_types.h"
#include "asp/proto/wire.pb.h"
#include "asp/storage/change_queue.h"
#include "asp/transport/transport.h"

namespace asp {

// What one session sends. Exactly one of `values`, `cleans`, `checksum` is used,
// or none (metadata and groups).
struct SessionPlan {
  Mode mode = Mode::kDelta;
  SyncOption option = SyncOption::kSync;
  std::vector<std::string> indices;
  uint64_t global_version = 0;
  uint64_t size = 0;                   // data messages: seq 0..size-1
  SessionSource* values = nullptr;     // DataValue per seq (DELTA, FULL)
  std::vector<std::string> cleans;     // DataClean per seq (notifyDataClean)
  std::string checksum;                // CHECK: ChecksumModule{indices[0], checksum}
};

// Counters the runner reports as it goes (for Stats).
struct SessionCounters {
  std::function<void(uint64_t frames, uint64_t bytes)> sent;
  std::function<void(uint64_t values)> values_sent;
  std::function<void(uint64_t values)> retransmitted;
};

class SessionRunner {
 public:
  SessionRunner(std::string module, std::function<AgentInfo()> agent_info,
                const SessionOptions& options, Transport* transport, Clock* clock,
                AnswerChannel* channel, SessionCounters counters, Logger logger);

  SyncResult run(const SessionPlan& plan);

 private:
  class Run;

  const std::string module_;
  const std::function<AgentInfo()> agent_info_;
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
