// BackoffPolicy: how long to wait before retry number `attempt` (docs/protocol.md §5, §8;
// the relay's reconnects, §9).
//
// delay(n) = min(cap, initial * multiplier^(n-1)) scaled by a uniform random factor in
// [1 - jitter, 1 + jitter]; never negative, never above cap * (1 + jitter). The random
// source is seeded (seed 0 picks a random seed), so tests can fix it.
//
// Thread-compatible: one user (a session, the relay's connector) at a time.
#ifndef ASP_BASE_BACKOFF_POLICY_H_
#define ASP_BASE_BACKOFF_POLICY_H_

#include <cstdint>
#include <random>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace asp {

struct BackoffOptions {
  absl::Duration initial = absl::Seconds(1);
  absl::Duration cap = absl::Seconds(30);
  double multiplier = 2.0;
  double jitter = 0.2;  // fraction, 0 <= jitter < 1
  uint64_t seed = 0;    // 0: random
};

// OK, or InvalidArgument naming the offending field and value.
absl::Status validateBackoff(const BackoffOptions& options);

class BackoffPolicy {
 public:
  explicit BackoffPolicy(const BackoffOptions& options);

  // The wait before retry `attempt` (1 = the first retry).
  absl::Duration delay(int attempt);

 private:
  BackoffOptions options_;
  std::mt19937_64 random_;
};

}  // namespace asp

#endif  // ASP_BASE_BACKOFF_POLICY_H_
