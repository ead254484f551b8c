#include "asp/testing/simulated_clock.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

namespace asp::testing {

SimulatedClock::SimulatedClock(Mode mode)
    : mode_(mode), start_(absl::UnixEpoch() + absl::Hours(24)), now_(start_) {}

absl::Time SimulatedClock::now() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

absl::Duration SimulatedClock::elapsed() { return now() - start_; }

void SimulatedClock::schedule(absl::Time at, std::function<void()> event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.emplace(at, std::move(event));
}

void SimulatedClock::scheduleAfter(absl::Duration delay, std::function<void()> event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.emplace(now_ + delay, std::move(event));
}

bool SimulatedClock::runDueEvents() {
  bool ran = false;
  while (true) {
    std::function<void()> event;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (events_.empty() || events_.begin()->first > now_) return ran;
      event = std::move(events_.begin()->second);
      events_.erase(events_.begin());
    }
    event();
    ran = true;
  }
}

void SimulatedClock::advance(absl::Duration delta) {
  absl::Time target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = now_ + delta;
  }
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (events_.empty() || events_.begin()->first > target) {
        now_ = std::max(now_, target);
        break;
      }
      now_ = std::max(now_, events_.begin()->first);
    }
    runDueEvents();
  }
  runDueEvents();
}

void SimulatedClock::waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                               absl::Time deadline) {
  lock.unlock();
  if (!runDueEvents() && mode_ == Mode::kAutoAdvance) {
    {
      std::lock_guard<std::mutex> clock_lock(mu_);
      absl::Time next = deadline;
      if (!events_.empty()) next = std::min(next, events_.begin()->first);
      now_ = std::max(now_, next);
    }
    runDueEvents();
  }
  lock.lock();
  if (mode_ == Mode::kAutoAdvance) return;
  std::multiset<absl::Time>::iterator waiting;
  {
    std::lock_guard<std::mutex> clock_lock(mu_);
    if (now_ >= deadline) return;
    waiting = waiting_until_.insert(deadline);
  }
  waiters_cv_.notify_all();
  cv.wait_for(lock, std::chrono::milliseconds(1));
  std::lock_guard<std::mutex> clock_lock(mu_);
  waiting_until_.erase(waiting);
}

bool SimulatedClock::awaitWaiters(int count) {
  std::unique_lock<std::mutex> lock(mu_);
  return waiters_cv_.wait_for(lock, std::chrono::seconds(10),
                              [&] { return waiting_until_.size() >= static_cast<size_t>(count); });
}

bool SimulatedClock::awaitWaitersWithDeadlineAfter(absl::Time time, int count) {
  std::unique_lock<std::mutex> lock(mu_);
  return waiters_cv_.wait_for(lock, std::chrono::seconds(10), [&] {
    const auto after = waiting_until_.upper_bound(time);
    return std::distance(after, waiting_until_.end()) >= count;
  });
}

}  // namespace asp::testing
