#include "asp/transport/mq_functions_transport.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace asp {
namespace {

// A scripted C-style queue: start() hands out handles, send_binary() fails on demand.
struct FakeQueue {
  int starts = 0;
  int fail_starts = 0;
  int fail_sends = 0;
  std::vector<std::string> sent;
  std::vector<int> queues_used;
};
FakeQueue* fake = nullptr;

int fakeStart(const char* path, short type, short attempts) {
  EXPECT_STREQ(path, "/queue");
  EXPECT_EQ(type, ASP_MQ_WRITE);
  EXPECT_EQ(attempts, 3);
  ++fake->starts;
  if (fake->fail_starts > 0) {
    --fake->fail_starts;
    return -1;
  }
  return 100 + fake->starts;
}

int fakeSend(int queue, const void* message, size_t len, const char* module, char location) {
  EXPECT_EQ(location, 's');
  fake->queues_used.push_back(queue);
  if (fake->fail_sends > 0) {
    --fake->fail_sends;
    return -1;
  }
  fake->sent.push_back(std::string(module) + "|" +
                       std::string(static_cast<const char*>(message), len));
  return 0;
}

class MqFunctionsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { fake = &queue_; }
  void TearDown() override { fake = nullptr; }
  std::unique_ptr<MqFunctionsTransport> make() {
    auto t = MqFunctionsTransport::create(MQ_Functions{fakeStart, fakeSend}, "/queue");
    EXPECT_TRUE(t.ok());
    return *std::move(t);
  }
  FakeQueue queue_;
};

TEST_F(MqFunctionsTransportTest, StartsLazilyAndSendsWithTheSyncLocation) {
  auto transport = make();
  EXPECT_EQ(queue_.starts, 0);
  ASSERT_TRUE(transport->send("fim", "abc").ok());
  ASSERT_TRUE(transport->send("fim", "def").ok());
  EXPECT_EQ(queue_.starts, 1);
  EXPECT_EQ(queue_.sent, (std::vector<std::string>{"fim|abc", "fim|def"}));
}

TEST_F(MqFunctionsTransportTest, AFailedSendRestartsTheQueueOnceAndRetries) {
  auto transport = make();
  ASSERT_TRUE(transport->send("fim", "a").ok());
  queue_.fail_sends = 1;
  ASSERT_TRUE(transport->send("fim", "b").ok());
  EXPECT_EQ(queue_.starts, 2);
  EXPECT_EQ(queue_.queues_used.back(), 102) << "the retry used the restarted queue";
}

TEST_F(MqFunctionsTransportTest, ASecondFailureIsATransportError) {
  auto transport = make();
  queue_.fail_sends = 2;
  absl::Status s = transport->send("fim", "a");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("/queue"), absl::string_view::npos);
  EXPECT_TRUE(queue_.sent.empty());
}

TEST_F(MqFunctionsTransportTest, AQueueThatCannotStartIsATransportError) {
  auto transport = make();
  queue_.fail_starts = 2;
  EXPECT_EQ(transport->send("fim", "a").code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(transport->send("fim", "b").ok()) << "starts again next time";
}

// The queue was open, a send fails, and the queue cannot be started again (the MQueue is
// down): a transport error that says so; the handle that failed is not used again, and the
// next send starts the queue.
TEST_F(MqFunctionsTransportTest, AQueueThatCannotBeReopenedAfterAFailedSendIsATransportError) {
  auto transport = make();
  ASSERT_TRUE(transport->send("fim", "a").ok());
  queue_.fail_sends = 1;
  queue_.fail_starts = 1;
  absl::Status s = transport->send("fim", "b");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "could not send to MQueue '/queue', and could not start it again");
  EXPECT_EQ(queue_.starts, 2);
  EXPECT_EQ(queue_.queues_used, (std::vector<int>{101, 101})) << "no send without a queue";
  ASSERT_TRUE(transport->send("fim", "c").ok());
  EXPECT_EQ(queue_.starts, 3) << "the next send starts the queue again";
  EXPECT_EQ(queue_.queues_used.back(), 103);
  EXPECT_EQ(queue_.sent, (std::vector<std::string>{"fim|a", "fim|c"}));
}

TEST_F(MqFunctionsTransportTest, RefusesNullFunctionsAndOversizeMessages) {
  EXPECT_EQ(MqFunctionsTransport::create(MQ_Functions{nullptr, fakeSend}, "/q").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MqFunctionsTransport::create(MQ_Functions{fakeStart, nullptr}, "/q").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto transport = make();
  EXPECT_EQ(transport->send("fim", std::string(70000, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(transport->send("bad:module", "x").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace asp
