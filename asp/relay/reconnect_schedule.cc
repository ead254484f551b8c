#include "asp/relay/reconnect_schedule.h"

namespace asp::relay {

ReconnectSchedule::ReconnectSchedule(std::vector<std::string> managers,
                                     const BackoffOptions& backoff, absl::Duration stable_after)
    : managers_(std::move(managers)), backoff_(backoff), stable_after_(stable_after) {}

ReconnectSchedule::Attempt ReconnectSchedule::next() {
  const bool new_round = position_ == 0;
  const absl::Duration wait =
      new_round && failed_rounds_ > 0 ? backoff_.delay(failed_rounds_) : absl::ZeroDuration();
  return Attempt{managers_[position_], wait};
}

void ReconnectSchedule::finished(absl::Duration stream_lasted) {
  if (stream_lasted >= stable_after_) {
    failed_rounds_ = 0;
    position_ = 0;
    return;
  }
  if (++position_ == managers_.size()) {
    position_ = 0;
    ++failed_rounds_;
  }
}

}  // namespace asp::relay
