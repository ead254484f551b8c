// SessionOptions: how a session waits, retries and paces (docs/protocol.md §5, §8). One
// source of these options and their defaults: AgentSyncProtocol::Options holds one.
//
// Value type; thread-compatible.
#ifndef ASP_CORE_SESSION_OPTIONS_H_
#define ASP_CORE_SESSION_OPTIONS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asp/base/backoff_policy.h"
#include "asp/proto/limits.h"

namespace asp {

struct SessionOptions {
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
  size_t frame_budget_bytes = wire::kDefaultFrameBudgetBytes;
  // ReqRet rounds one session accepts before failing as a protocol error.
  int max_retransmission_rounds = 64;
  // After the manager first answers End with PROCESSING ("still applying"), how long it
  // may take in all; silences meanwhile resend End without spending a retry.
  absl::Duration max_processing_wait = absl::Minutes(15);

  // Bounded sessions (docs/protocol.md §5): one session carries at most this many data
  // messages and this many bytes of id + index + data (a single larger change still goes,
  // alone). A DELTA with more pending runs consecutive sessions, oldest changes first.
  // 0: no bound. The defaults stay well below the reference manager's limits (10,000,000
  // messages; it spills beyond 64 MiB per session to disk).
  uint64_t max_session_values = 100000;
  uint64_t max_session_bytes = uint64_t{64} << 20;

  // Failed calls in a row from which the outcome is logged as a warning; below it a
  // transient failure (manager not ready, timeouts, transport) is logged at info.
  int failure_warning_threshold = 3;

  // How long a call waits for the agent's identity (and, for group modes, its groups)
  // to become available before failing with kAwaitingPrerequisite.
  absl::Duration prerequisite_wait = absl::Seconds(30);

  // Integrity checks against a manager whose store lags behind its writes: a mismatch is
  // checked again up to `mismatch_rechecks` times, `mismatch_recheck_delay` apart, and
  // reported only if every answer is a mismatch. 0: off.
  int mismatch_rechecks = 0;
  absl::Duration mismatch_recheck_delay = absl::Seconds(5);
};

// The smallest frame budget that still leaves room for a useful change.
inline constexpr size_t kMinFrameBudgetBytes = 1024;

// OK, or InvalidArgument naming the offending field and value.
absl::Status validateSessionOptions(const SessionOptions& options);

}  // namespace asp

#endif  // ASP_CORE_SESSION_OPTIONS_H_
