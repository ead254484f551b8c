#include "asp/storage/async_committer.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "asp/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using Parts = std::vector<absl::Span<const Change>>;

Change change(int i) {
  return Change{"id" + std::to_string(i), "idx", Operation::kCreate, std::string(100, 'x'), 0};
}

TEST(AsyncCommitter, CommitsEverythingInOrderAndFlushWaitsForIt) {
  std::mutex mu;
  std::vector<std::string> committed;
  AsyncCommitter committer(
      [&](const Parts& parts) {
        std::lock_guard<std::mutex> lock(mu);
        for (auto part : parts)
          for (const Change& c : part) committed.push_back(c.id);
        return absl::OkStatus();
      },
      {});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(committer.add({change(i)}).ok());
  ASSERT_TRUE(committer.flush().ok());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(committed.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(committed[i], "id" + std::to_string(i));
  EXPECT_EQ(committer.bufferedBytes(), 0u);
}

TEST(AsyncCommitter, AddBlocksWhileTheBufferIsFull) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> commits{0};
  AsyncCommitter::Options options;
  options.buffer_bytes = 2000;
  AsyncCommitter committer(
      [&](const Parts& parts) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return release; });
        commits += static_cast<int>(parts.size());
        return absl::OkStatus();
      },
      options);
  std::atomic<int> added{0};
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(committer.add({change(i)}).ok());
      ++added;
    }
  });
  // The committer is stuck, so the producer must stall once the buffer is full.
  while (committer.bufferedBytes() + sizeof(Change) + 200 <= options.buffer_bytes) {
    std::this_thread::yield();
  }
  const int stalled_at = added.load();
  EXPECT_LT(stalled_at, 100);
  EXPECT_LE(committer.bufferedBytes(), options.buffer_bytes);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  producer.join();
  ASSERT_TRUE(committer.flush().ok());
  EXPECT_EQ(commits.load(), 100);
}

TEST(AsyncCommitter, RetriesAFailedCommitWithExponentialBackoff) {
  testing::SimulatedClock clock;
  std::vector<absl::Duration> attempts;
  int failures_left = 3;
  AsyncCommitter::Options options;
  options.clock = &clock;
  options.retry_initial = absl::Milliseconds(50);
  options.retry_max = absl::Milliseconds(150);
  AsyncCommitter committer(
      [&](const Parts&) {
        attempts.push_back(clock.elapsed());
        if (failures_left-- > 0) return absl::ResourceExhaustedError("disk full");
        return absl::OkStatus();
      },
      options);
  ASSERT_TRUE(committer.add({change(1)}).ok());
  while (!committer.flush().ok()) {
  }
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[1] - attempts[0], absl::Milliseconds(50));
  EXPECT_EQ(attempts[2] - attempts[1], absl::Milliseconds(100));
  EXPECT_EQ(attempts[3] - attempts[2], absl::Milliseconds(150)) << "capped";
}

TEST(AsyncCommitter, FlushReportsTheErrorWhileCommitsFailAndLosesNothing) {
  testing::SimulatedClock clock;
  std::atomic<bool> disk_full{true};
  std::atomic<int> committed{0};
  AsyncCommitter::Options options;
  options.clock = &clock;
  AsyncCommitter committer(
      [&](const Parts& parts) {
        if (disk_full) return absl::ResourceExhaustedError("disk full");
        for (auto part : parts) committed += static_cast<int>(part.size());
        return absl::OkStatus();
      },
      options);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(committer.add({change(i)}).ok());
  absl::Status s = committer.flush();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(committed.load(), 0);
  EXPECT_GT(committer.bufferedBytes(), 0u) << "kept for the retry";
  disk_full = false;
  while (!committer.flush().ok()) {
  }
  EXPECT_EQ(committed.load(), 10);
}

TEST(AsyncCommitter, AFailingAttemptUnderWayWhenFlushIsCalledDoesNotDecideIt) {
  testing::SimulatedClock clock(testing::SimulatedClock::Mode::kManual);
  std::mutex mu;
  std::condition_variable cv;
  bool in_first_attempt = false;
  bool release_first = false;
  int calls = 0;
  AsyncCommitter::Options options;
  options.clock = &clock;
  AsyncCommitter committer(
      [&](const Parts&) {
        std::unique_lock<std::mutex> lock(mu);
        if (++calls > 1) return absl::OkStatus();  // the disk has room again
        in_first_attempt = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release_first; });
        return absl::ResourceExhaustedError("disk full");
      },
      options);
  ASSERT_TRUE(committer.add({change(1)}).ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_first_attempt; });
  }
  // flush() starts while the first attempt is still running; that attempt then fails.
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      std::lock_guard<std::mutex> lock(mu);
      release_first = true;
      cv.notify_all();
    }
    // The committer waits out its retry delay on the clock, then tries again.
    ASSERT_TRUE(clock.awaitWaiters(1));
    clock.advance(absl::Seconds(1));
  });
  absl::Status s = committer.flush();
  release.join();
  EXPECT_TRUE(s.ok()) << "decided by the retry begun after flush(), which succeeded: " << s;
  EXPECT_EQ(committer.bufferedBytes(), 0u);
}

TEST(AsyncCommitter, DestructionCommitsWhatIsBuffered) {
  std::atomic<int> committed{0};
  {
    AsyncCommitter committer(
        [&](const Parts& parts) {
          for (auto part : parts) committed += static_cast<int>(part.size());
          return absl::OkStatus();
        },
        {});
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(committer.add({change(i)}).ok());
  }
  EXPECT_EQ(committed.load(), 500);
}

TEST(AsyncCommitter, ABatchIsCommittedInOneTransaction) {
  std::vector<size_t> sizes;
  std::mutex mu;
  AsyncCommitter committer(
      [&](const Parts& parts) {
        std::lock_guard<std::mutex> lock(mu);
        for (auto part : parts) sizes.push_back(part.size());
        return absl::OkStatus();
      },
      {});
  ASSERT_TRUE(committer.add({change(1), change(2), change(3)}).ok());
  ASSERT_TRUE(committer.flush().ok());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(sizes, std::vector<size_t>{3});
}

}  // namespace
}  // namespace asp
