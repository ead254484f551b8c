// SessionOptions: how a session waits, retries and paces (PROTOCOL.md §5, §8). One
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
};

// The smallest frame budget that still leaves room for a useful change.
inline constexpr size_t kMinFrameBudgetBytes = 1024;

// OK, or InvalidArgument naming the offending field and value.
absl::Status validateSessionOptions(const SessionOptions& options);

}  // namespace asp

#endif  // ASP_CORE_SESSION_OPTIONS_H_
