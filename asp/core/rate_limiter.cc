#include "asp/core/rate_limiter.h"

#include <algorithm>

namespace asp {

RateLimiter::RateLimiter(double per_second, absl::Time now, double burst)
    : per_second_(per_second), burst_(std::max(1.0, burst)), tokens_(burst_), updated_(now) {}

absl::Time RateLimiter::reserve(absl::Time now) {
  if (per_second_ <= 0) return now;
  if (now > updated_) {
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - updated_) * per_second_);
    updated_ = now;
  }
  tokens_ -= 1.0;
  if (tokens_ >= 0) return now;
  // In debt: the token is ours once the deficit has refilled.
  return updated_ + absl::Seconds(-tokens_ / per_second_);
}

}  // namespace asp
