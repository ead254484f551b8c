#include "asp/manager/identity_streams.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace asp::manager {
namespace {

TEST(IdentityStreams, AStreamBeyondTheLimitCancelsTheIdentitysOldest) {
  IdentityStreams streams(2);
  std::vector<int> cancelled;
  auto first = streams.admit("001", [&] { cancelled.push_back(1); });
  auto second = streams.admit("001", [&] { cancelled.push_back(2); });
  EXPECT_FALSE(second.evicted);
  auto third = streams.admit("001", [&] { cancelled.push_back(3); });
  EXPECT_TRUE(third.evicted);
  EXPECT_EQ(cancelled, std::vector<int>{1});
  EXPECT_EQ(streams.streams("001"), 2u);
  streams.release("001", first.ticket);  // the evicted stream's handler ends later
  EXPECT_EQ(streams.streams("001"), 2u) << "releasing an evicted stream changes nothing";
  EXPECT_EQ(streams.evictions(), 1u);
}

TEST(IdentityStreams, IdentitiesDoNotShareTheirLimit) {
  IdentityStreams streams(1);
  bool cancelled = false;
  auto mine = streams.admit("001", [&] { cancelled = true; });
  auto theirs = streams.admit("002", [] {});
  EXPECT_FALSE(cancelled);
  EXPECT_FALSE(theirs.evicted);
  streams.release("001", mine.ticket);
  streams.release("001", mine.ticket);
  EXPECT_EQ(streams.streams("001"), 0u);
  EXPECT_EQ(streams.streams("002"), 1u);
}

TEST(IdentityStreams, ConcurrentStreamsNeverExceedTheLimit) {
  IdentityStreams streams(3);
  std::atomic<int> cancels{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto admission = streams.admit("001", [&] { ++cancels; });
        EXPECT_LE(streams.streams("001"), 3u);
        streams.release("001", admission.ticket);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(streams.streams("001"), 0u);
  EXPECT_EQ(static_cast<uint64_t>(cancels.load()), streams.evictions());
}

}  // namespace
}  // namespace asp::manager
