#include "asp/base/backoff_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace asp {

absl::Status validateBackoff(const BackoffOptions& options) {
  if (options.initial < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff initial delay is negative: ", absl::FormatDuration(options.initial)));
  }
  if (options.cap < options.initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff cap ", absl::FormatDuration(options.cap),
                     " is below the initial delay ", absl::FormatDuration(options.initial)));
  }
  if (!(options.multiplier >= 1.0) || !std::isfinite(options.multiplier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff multiplier must be >= 1, got ", options.multiplier));
  }
  if (!(options.jitter >= 0.0 && options.jitter < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff jitter must be in [0, 1), got ", options.jitter));
  }
  return absl::OkStatus();
}

BackoffPolicy::BackoffPolicy(const BackoffOptions& options)
    : options_(options), random_(options.seed != 0 ? options.seed : std::random_device{}()) {}

absl::Duration BackoffPolicy::delay(int attempt) {
  const double exponent = std::max(0, attempt - 1);
  const double initial = absl::ToDoubleSeconds(options_.initial);
  const double cap = absl::ToDoubleSeconds(options_.cap);
  // pow() may overflow to inf for large attempts; min() brings it back to the cap.
  const double base = std::min(cap, initial * std::pow(options_.multiplier, exponent));
  std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
  const double jittered = options_.jitter > 0 ? base * factor(random_) : base;
  return absl::Seconds(std::max(0.0, jittered));
}

}  // namespace asp
