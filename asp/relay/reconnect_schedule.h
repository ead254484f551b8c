// ReconnectSchedule: which manager the relay tries next, and how long it waits first
// (docs/protocol.md §9: several manager addresses, exponential backoff with jitter).
//
// A round tries every address once, in the order given (the first is the preferred
// manager), without waiting in between. A round in which no attempt gave a lasting
// stream is followed by a pause of backoff(n), n counting such rounds in a row, before
// the next round starts from the first address again. A stream that lasted at least
// `stable_after` proves the path: the count is reset and the next attempt, at once, is
// the first address. (A stream that breaks sooner counts as a failed attempt, so a
// manager that accepts and drops every stream is not hammered.)
//
// Thread-compatible: the relay's connector thread owns it.
#ifndef ASP_RELAY_RECONNECT_SCHEDULE_H_
#define ASP_RELAY_RECONNECT_SCHEDULE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asp/base/backoff_policy.h"

namespace asp::relay {

class ReconnectSchedule {
 public:
  // `managers` is not empty (the relay's options are checked before).
  ReconnectSchedule(std::vector<std::string> managers, const BackoffOptions& backoff,
                    absl::Duration stable_after);

  struct Attempt {
    std::string manager;
    absl::Duration wait_before;  // zero inside a round
  };
  Attempt next();

  // The outcome of the attempt next() gave: how long its stream lasted (zero when no
  // stream opened).
  void finished(absl::Duration stream_lasted);

  // Rounds in a row without a lasting stream.
  int failedRounds() const { return failed_rounds_; }

 private:
  const std::vector<std::string> managers_;
  BackoffPolicy backoff_;
  const absl::Duration stable_after_;
  size_t position_ = 0;
  int failed_rounds_ = 0;
};

}  // namespace asp::relay

#endif  // ASP_RELAY_RECONNECT_SCHEDULE_H_
