// RateLimiter: a smooth token bucket pacing frames at `per_second` (docs/protocol.md §5, step 3).
//
// Tokens refill continuously at `per_second` up to `burst` (default 1: frames are
// evenly spaced, no bursts). reserve() takes one token and returns the time at which
// the caller may send: now when a token was available, else the moment the deficit is
// refilled. The caller waits until then (stop-aware, on its own clock).
// per_second == 0 means unlimited: reserve() always returns now.
//
// Thread-compatible: one session uses it at a time.
#ifndef ASP_CORE_RATE_LIMITER_H_
#define ASP_CORE_RATE_LIMITER_H_

#include "absl/time/time.h"

namespace asp {

class RateLimiter {
 public:
  RateLimiter(double per_second, absl::Time now, double burst = 1.0);

  // Takes one token; returns when it may be used (>= now).
  absl::Time reserve(absl::Time now);

 private:
  const double per_second_;
  const double burst_;
  double tokens_;
  absl::Time updated_;
};

}  // namespace asp

#endif  // ASP_CORE_RATE_LIMITER_H_
