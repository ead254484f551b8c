#include "asp/base/clock.h"

#include <thread>

#include "gtest/gtest.h"

namespace asp {
namespace {

TEST(SystemClock, IsMonotonic) {
  Clock* clock = systemClock();
  absl::Time a = clock->now();
  absl::Time b = clock->now();
  EXPECT_LE(a, b);
}

TEST(SystemClock, WaitReturnsAtDeadline) {
  Clock* clock = systemClock();
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  const absl::Time deadline = clock->now() + absl::Milliseconds(5);
  while (clock->now() < deadline) clock->waitUntil(lock, cv, deadline);
  EXPECT_GE(clock->now(), deadline);
}

TEST(SystemClock, NotifyWakesAWaiterBeforeItsDeadline) {
  Clock* clock = systemClock();
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::thread notifier([&] {
    std::lock_guard<std::mutex> guard(mu);
    ready = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  const absl::Time deadline = clock->now() + absl::Hours(1);
  while (!ready && clock->now() < deadline) clock->waitUntil(lock, cv, deadline);
  lock.unlock();
  notifier.join();
  EXPECT_TRUE(ready);
  EXPECT_LT(clock->now(), deadline);
}

}  // namespace
}  // namespace asp
