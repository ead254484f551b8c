#include "asp/relay/datagram_buffer.h"

#include <atomic>
#include <thread>

#include "asp/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace asp::relay {
namespace {

using testing::SimulatedClock;

TEST(DatagramBuffer, DatagramsComeOutInTheOrderTheyWentIn) {
  SimulatedClock clock;
  DatagramBuffer buffer(100, &clock);
  ASSERT_TRUE(buffer.push("one"));
  ASSERT_TRUE(buffer.push("two"));
  EXPECT_EQ(buffer.bytes(), 6u);
  EXPECT_EQ(*buffer.pop(clock.now()), "one");
  EXPECT_EQ(*buffer.pop(clock.now()), "two");
  EXPECT_FALSE(buffer.pop(clock.now() + absl::Seconds(1)).has_value())
      << "empty: waits, then nothing";
}

TEST(DatagramBuffer, AFullBufferRefusesMoreAndNeverGrowsPastItsBound) {
  SimulatedClock clock;
  DatagramBuffer buffer(10, &clock);
  ASSERT_TRUE(buffer.push(std::string(8, 'a')));
  EXPECT_FALSE(buffer.push(std::string(3, 'b')));
  EXPECT_FALSE(buffer.waitForRoom(3, clock.now() + absl::Seconds(5)));
  EXPECT_EQ(buffer.bytes(), 8u);
  EXPECT_EQ(buffer.fullWaits(), 1u);
}

TEST(DatagramBuffer, TheReaderWaitsForRoomUntilTheWriterTakesADatagram) {
  SimulatedClock clock(SimulatedClock::Mode::kManual);
  DatagramBuffer buffer(10, &clock);
  ASSERT_TRUE(buffer.push(std::string(10, 'a')));
  std::atomic<bool> room{false};
  std::thread reader([&] { room = buffer.waitForRoom(4, clock.now() + absl::Hours(1)); });
  ASSERT_TRUE(clock.awaitWaiters(1));
  EXPECT_FALSE(room);
  EXPECT_EQ(buffer.pop(clock.now())->size(), 10u);
  reader.join();
  EXPECT_TRUE(room);
}

TEST(DatagramBuffer, CloseWakesWaitersAndLeavesWhatIsThereToDrain) {
  SimulatedClock clock(SimulatedClock::Mode::kManual);
  DatagramBuffer buffer(10, &clock);
  ASSERT_TRUE(buffer.push(std::string(10, 'a')));
  std::atomic<bool> room{true};
  std::thread reader([&] { room = buffer.waitForRoom(1, clock.now() + absl::Hours(1)); });
  ASSERT_TRUE(clock.awaitWaiters(1));
  buffer.close();
  reader.join();
  EXPECT_FALSE(room);
  EXPECT_FALSE(buffer.push("late"));
  EXPECT_TRUE(buffer.pop(clock.now()).has_value());
  EXPECT_FALSE(buffer.pop(clock.now() + absl::Hours(1)).has_value()) << "closed and empty: no wait";
}

}  // namespace
}  // namespace asp::relay
