#include "asp/relay/reconnect_schedule.h"

#include "gtest/gtest.h"

namespace asp::relay {
namespace {

BackoffOptions noJitter() {
  BackoffOptions backoff;
  backoff.initial = absl::Milliseconds(500);
  backoff.cap = absl::Seconds(4);
  backoff.jitter = 0;
  return backoff;
}

TEST(ReconnectSchedule, ARoundTriesEveryManagerInOrderWithoutWaiting) {
  ReconnectSchedule schedule({"a:1", "b:2", "c:3"}, noJitter(), absl::Seconds(10));
  for (const char* manager : {"a:1", "b:2", "c:3"}) {
    ReconnectSchedule::Attempt attempt = schedule.next();
    EXPECT_EQ(attempt.manager, manager);
    EXPECT_EQ(attempt.wait_before, absl::ZeroDuration());
    schedule.finished(absl::ZeroDuration());
  }
  EXPECT_EQ(schedule.failedRounds(), 1);
}

TEST(ReconnectSchedule, FailedRoundsWaitLongerEachTimeUpToTheCap) {
  ReconnectSchedule schedule({"a:1", "b:2"}, noJitter(), absl::Seconds(10));
  std::vector<absl::Duration> waits;
  for (int round = 0; round < 6; ++round) {
    waits.push_back(schedule.next().wait_before);
    schedule.finished(absl::ZeroDuration());
    EXPECT_EQ(schedule.next().wait_before, absl::ZeroDuration()) << "no wait inside a round";
    schedule.finished(absl::ZeroDuration());
  }
  EXPECT_EQ(waits, (std::vector<absl::Duration>{absl::ZeroDuration(), absl::Milliseconds(500),
                                                absl::Seconds(1), absl::Seconds(2),
                                                absl::Seconds(4), absl::Seconds(4)}));
}

TEST(ReconnectSchedule, JitterKeepsEachWaitWithinItsBand) {
  BackoffOptions backoff = noJitter();
  backoff.jitter = 0.2;
  backoff.seed = 7;
  ReconnectSchedule schedule({"a:1"}, backoff, absl::Seconds(10));
  schedule.finished(absl::ZeroDuration());
  schedule.finished(absl::ZeroDuration());
  const absl::Duration wait = schedule.next().wait_before;  // backoff(2) = 1 s +- 20 %
  EXPECT_GE(wait, absl::Milliseconds(800));
  EXPECT_LE(wait, absl::Milliseconds(1200));
}

TEST(ReconnectSchedule, ALastingStreamResetsTheBackoffAndReturnsToTheFirstManager) {
  ReconnectSchedule schedule({"a:1", "b:2"}, noJitter(), absl::Seconds(10));
  schedule.finished(absl::ZeroDuration());  // a refused
  EXPECT_EQ(schedule.next().manager, "b:2");
  schedule.finished(absl::Minutes(3));  // b served for minutes, then broke
  EXPECT_EQ(schedule.failedRounds(), 0);
  ReconnectSchedule::Attempt attempt = schedule.next();
  EXPECT_EQ(attempt.manager, "a:1");
  EXPECT_EQ(attempt.wait_before, absl::ZeroDuration());
}

TEST(ReconnectSchedule, AStreamThatBreaksAtOnceCountsAsAFailure) {
  ReconnectSchedule schedule({"a:1"}, noJitter(), absl::Seconds(10));
  schedule.finished(absl::Seconds(1));
  schedule.finished(absl::Seconds(1));
  EXPECT_EQ(schedule.failedRounds(), 2);
  EXPECT_EQ(schedule.next().wait_before, absl::Seconds(1));
}

}  // namespace
}  // namespace asp::relay
