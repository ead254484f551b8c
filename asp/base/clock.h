// Clock: the only way ASP logic reads time or waits for it.
//
// Timeouts, backoff and rate limits call now() and waitUntil() on a Clock they were
// given, never the wall clock, so tests run them on a simulated clock
// (asp/testing/simulated_clock.h) instantly and deterministically.
//
// Times are monotonic: only differences between two now() values mean something; the
// absolute value is not a calendar date.
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef ASP_BASE_CLOCK_H_
#define ASP_BASE_CLOCK_H_

#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"

namespace asp {

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic current time.
  virtual absl::Time now() = 0;

  // Blocks the caller, which holds `lock`, until `cv` is notified, `deadline` passes
  // on this clock, or a spurious wakeup; `lock` is held again on return. As with
  // std::condition_variable, callers loop and re-check their condition and now().
  // Whoever changes the condition must hold the same mutex before notifying `cv`.
  virtual void waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         absl::Time deadline) = 0;
};

// The process-wide monotonic clock (std::chrono::steady_clock). Never null.
Clock* systemClock();

}  // namespace asp

#endif  // ASP_BASE_CLOCK_H_
