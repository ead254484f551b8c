#include "asp/testing/simulated_clock.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace asp::testing {
namespace {

TEST(SimulatedClock, AutoAdvanceJumpsToTheDeadlineWhenNothingIsScheduled) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  const absl::Time deadline = clock.now() + absl::Seconds(30);
  clock.waitUntil(lock, cv, deadline);
  EXPECT_EQ(clock.now(), deadline);
  EXPECT_EQ(clock.elapsed(), absl::Seconds(30));
}

TEST(SimulatedClock, AutoAdvanceStopsAtTheFirstEventBeforeTheDeadline) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool answered = false;
  clock.scheduleAfter(absl::Seconds(2), [&] {
    std::lock_guard<std::mutex> guard(mu);
    answered = true;
  });
  std::unique_lock<std::mutex> lock(mu);
  const absl::Time deadline = clock.now() + absl::Seconds(30);
  while (!answered && clock.now() < deadline) clock.waitUntil(lock, cv, deadline);
  EXPECT_TRUE(answered);
  EXPECT_EQ(clock.elapsed(), absl::Seconds(2));
}

TEST(SimulatedClock, EventsRunInTimeOrderThenInScheduleOrder) {
  SimulatedClock clock;
  std::vector<int> order;
  clock.scheduleAfter(absl::Seconds(3), [&] { order.push_back(3); });
  clock.scheduleAfter(absl::Seconds(1), [&] { order.push_back(1); });
  clock.scheduleAfter(absl::Seconds(1), [&] { order.push_back(2); });
  clock.advance(absl::Seconds(5));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(clock.elapsed(), absl::Seconds(5));
}

TEST(SimulatedClock, AdvanceRunsEventsAtTheirOwnTime) {
  SimulatedClock clock;
  absl::Duration seen;
  clock.scheduleAfter(absl::Seconds(2), [&] { seen = clock.elapsed(); });
  clock.advance(absl::Seconds(10));
  EXPECT_EQ(seen, absl::Seconds(2));
}

TEST(SimulatedClock, ManualModeWaitsUntilTheTestAdvances) {
  SimulatedClock clock(SimulatedClock::Mode::kManual);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    const absl::Time deadline = clock.now() + absl::Seconds(30);
    while (clock.now() < deadline) clock.waitUntil(lock, cv, deadline);
    done = true;
  });
  ASSERT_TRUE(clock.awaitWaiters(1));
  EXPECT_EQ(clock.elapsed(), absl::ZeroDuration());
  clock.advance(absl::Seconds(30));
  waiter.join();
  EXPECT_TRUE(done);
}

TEST(SimulatedClock, AwaitingWaitersPastATimeSkipsThoseWhoseDeadlineCame) {
  SimulatedClock clock(SimulatedClock::Mode::kManual);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> second_wait_began{false};
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    const absl::Time timeout = clock.now() + absl::Seconds(30);
    while (clock.now() < timeout) clock.waitUntil(lock, cv, timeout);
    second_wait_began = true;  // a backoff after the timeout
    const absl::Time backoff = clock.now() + absl::Seconds(1);
    while (clock.now() < backoff) clock.waitUntil(lock, cv, backoff);
  });
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(absl::Seconds(30));
  ASSERT_TRUE(clock.awaitWaitersWithDeadlineAfter(clock.now()));
  EXPECT_TRUE(second_wait_began) << "not the first wait, whose deadline is now";
  clock.advance(absl::Seconds(1));
  waiter.join();
}

}  // namespace
}  // namespace asp::testing
