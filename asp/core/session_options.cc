#include "asp/core/session_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace asp {

absl::Status validateSessionOptions(const SessionOptions& o) {
  if (o.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout must be positive, got ", absl::FormatDuration(o.timeout)));
  }
  if (o.retries < 0) {
    return absl::InvalidArgumentError(absl::StrCat("retries must be >= 0, got ", o.retries));
  }
  if (o.sync_end_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sync_end_delay is negative: ", absl::FormatDuration(o.sync_end_delay)));
  }
  if (!(o.max_eps >= 0) || !std::isfinite(o.max_eps)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_eps must be >= 0 (0 = unlimited), got ", o.max_eps));
  }
  if (o.frame_budget_bytes < kMinFrameBudgetBytes ||
      o.frame_budget_bytes > wire::kMaxDatagramBytes) {
    return absl::InvalidArgumentError(absl::StrCat("frame budget ", o.frame_budget_bytes,
                                                   " bytes is outside [", kMinFrameBudgetBytes,
                                                   ", ", wire::kMaxDatagramBytes, "]"));
  }
  if (o.max_retransmission_rounds < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_retransmission_rounds must be >= 1, got ", o.max_retransmission_rounds));
  }
  if (o.max_processing_wait <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("max_processing_wait must be positive, got ",
                                                   absl::FormatDuration(o.max_processing_wait)));
  }
  if (o.failure_warning_threshold < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("failure_warning_threshold must be >= 1, got ", o.failure_warning_threshold));
  }
  if (o.prerequisite_wait < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prerequisite_wait is negative: ", absl::FormatDuration(o.prerequisite_wait)));
  }
  if (o.mismatch_rechecks < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mismatch_rechecks must be >= 0, got ", o.mismatch_rechecks));
  }
  if (o.mismatch_recheck_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("mismatch_recheck_delay is negative: ",
                                                   absl::FormatDuration(o.mismatch_recheck_delay)));
  }
  return validateBackoff(o.backoff);
}

}  // namespace asp
