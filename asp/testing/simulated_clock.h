// SimulatedClock: a Clock whose time moves only when the simulation says so, so tests
// of timeouts, backoff and rate limits run instantly and deterministically.
//
// Events (e.g. a fake manager's answers) are scheduled at simulated times and run, in
// time order, by whichever thread waits or advances past them.
//
// Two modes:
//  - kAutoAdvance (default): a discrete-event simulation. A thread that waits runs the
//    events already due; if there are none it jumps time to the next event or to its
//    deadline, whichever is first. Nothing ever blocks in real time. Meant for tests
//    where one thread drives the protocol.
//  - kManual: waits do not move time; the test calls advance(). A waiting thread polls
//    for a wake-up every millisecond of real time. awaitWaiters() lets the test act
//    while a thread is blocked (e.g. call stop() during a wait).
//
// Thread-safe.
#ifndef ASP_TESTING_SIMULATED_CLOCK_H_
#define ASP_TESTING_SIMULATED_CLOCK_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "absl/time/time.h"
#include "asp/base/clock.h"

namespace asp::testing {

class SimulatedClock final : public Clock {
 public:
  enum class Mode { kAutoAdvance, kManual };

  explicit SimulatedClock(Mode mode = Mode::kAutoAdvance);

  absl::Time now() override;
  void waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 absl::Time deadline) override;

  // Runs `event` once the clock reaches `at`.
  void schedule(absl::Time at, std::function<void()> event);
  void scheduleAfter(absl::Duration delay, std::function<void()> event);

  // Moves time forward by `delta`, running the events due on the way (any mode).
  void advance(absl::Duration delta);

  // Blocks (in real time, up to 10 s) until at least `count` threads are waiting.
  // Returns false on timeout.
  bool awaitWaiters(int count);
  // The same, counting only threads whose deadline lies after `time`. After advance()
  // to `time` ends a wait, this tells the wait that follows it (a backoff after a
  // timeout, say) from the thread that has yet to notice its deadline came.
  bool awaitWaitersWithDeadlineAfter(absl::Time time, int count = 1);

  // Time elapsed since construction.
  absl::Duration elapsed();

 private:
  // Runs every event due at now(); true if any ran.
  bool runDueEvents();

  const Mode mode_;
  const absl::Time start_;
  std::mutex mu_;
  std::condition_variable waiters_cv_;
  absl::Time now_;
  std::multimap<absl::Time, std::function<void()>> events_;
  std::multiset<absl::Time> waiting_until_;  // the deadline of each waiting thread
};

}  // namespace asp::testing

#endif  // ASP_TESTING_SIMULATED_CLOCK_H_
