#include "asp/transport/unix_datagram_transport.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "asp/testing/datagram_peer.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::DatagramPeer;

class UnixTransportTest : public ::testing::Test {
 protected:
  std::unique_ptr<UnixDatagramTransport> open(absl::Duration send_timeout = absl::Seconds(5)) {
    UnixDatagramTransport::Options options;
    options.queue_path = path_;
    options.module = "fim";
    options.send_timeout = send_timeout;
    auto transport = UnixDatagramTransport::open(options);
    EXPECT_TRUE(transport.ok()) << transport.status();
    return transport.ok() ? *std::move(transport) : nullptr;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("queue");
};

TEST_F(UnixTransportTest, SendsFramedMessagesAndDeliversAnswers) {
  DatagramPeer manager(path_);
  ASSERT_TRUE(manager.ok());
  auto transport = open();
  std::mutex mu;
  std::condition_variable cv;
  std::string answer;
  transport->setAnswerHandler([&](const uint8_t* data, size_t length) {
    std::lock_guard<std::mutex> lock(mu);
    answer.assign(reinterpret_cast<const char*>(data), length);
    cv.notify_all();
  });
  ASSERT_TRUE(transport->send("fim", std::string("\x01\x00\x02", 3)).ok());
  std::optional<std::string> got = manager.receive();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::string("s:fim:\x01\x00\x02", 9));
  ASSERT_TRUE(manager.answer("fim_sync hello"));
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !answer.empty(); }));
  EXPECT_EQ(answer, "hello");
}

// docs/protocol.md §4: an abstract address is visible to every local user; only the manager
// may answer.
TEST_F(UnixTransportTest, AnswersFromAnyoneButTheManagerAreNeverDelivered) {
  DatagramPeer manager(path_);
  DatagramPeer stranger(dir_.file("stranger"));
  ASSERT_TRUE(manager.ok() && stranger.ok());
  auto transport = open();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> delivered;
  transport->setAnswerHandler([&](const uint8_t* data, size_t length) {
    std::lock_guard<std::mutex> lock(mu);
    delivered.emplace_back(reinterpret_cast<const char*>(data), length);
    cv.notify_all();
  });
  ASSERT_TRUE(transport->send("fim", "start").ok());
  ASSERT_TRUE(manager.receive().has_value());
  for (int i = 0; i < 100; ++i) (void)stranger.answerAs(manager, "fim_sync forged");
  ASSERT_TRUE(manager.answer("fim_sync genuine"));
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !delivered.empty(); }));
  lock.unlock();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // room for a late forgery
  lock.lock();
  EXPECT_EQ(delivered, std::vector<std::string>{"genuine"});
}

TEST_F(UnixTransportTest, NoManagerIsUnavailableAtOnce) {
  auto transport = open();
  const auto began = std::chrono::steady_clock::now();
  absl::Status s = transport->send("fim", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(path_), absl::string_view::npos) << s;
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(1));
}

TEST_F(UnixTransportTest, ReconnectsAfterTheManagerRestarts) {
  auto transport = open();
  {
    DatagramPeer first(path_);
    ASSERT_TRUE(transport->send("fim", "one").ok());
    EXPECT_EQ(first.receive(), "s:fim:one");
  }
  DatagramPeer second(path_);  // same path, new socket
  ASSERT_TRUE(transport->send("fim", "two").ok());
  EXPECT_EQ(second.receive(), "s:fim:two");
}

TEST_F(UnixTransportTest, AFullQueueWaitsInsteadOfDropping) {
  DatagramPeer manager(path_);
  auto transport = open();
  constexpr int kDatagrams = 2000;
  std::atomic<int> sent{0};
  std::thread sender([&] {
    for (int i = 0; i < kDatagrams; ++i) {
      ASSERT_TRUE(transport->send("fim", std::string(1000, 'x') + std::to_string(i)).ok());
      ++sent;
    }
  });
  // Nobody reads yet: the sender must stall on the full queue.
  int last = -1;
  while (sent.load() != last) {
    last = sent.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LT(last, kDatagrams);
  int received = 0;
  while (received < kDatagrams && manager.receive(2000).has_value()) ++received;
  sender.join();
  EXPECT_EQ(received, kDatagrams) << "nothing dropped";
  EXPECT_GT(transport->counters().full_buffer_waits, 0u);
}

TEST_F(UnixTransportTest, AQueueThatStaysFullFailsAfterTheSendTimeout) {
  DatagramPeer manager(path_);
  auto transport = open(absl::Milliseconds(100));
  absl::Status s;
  for (int i = 0; i < 100000 && s.ok(); ++i) s = transport->send("fim", std::string(1000, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("stayed full"), absl::string_view::npos) << s;
}

TEST_F(UnixTransportTest, InterruptWakesABlockedSend) {
  DatagramPeer manager(path_);
  auto transport = open(absl::Hours(1));
  std::atomic<bool> done{false};
  absl::Status result;
  std::thread sender([&] {
    absl::Status s;
    while (s.ok()) s = transport->send("fim", std::string(1000, 'x'));
    result = s;
    done = true;
  });
  while (transport->counters().datagrams_sent < 10) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it block
  const auto began = std::chrono::steady_clock::now();
  transport->interrupt();
  sender.join();
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(1));
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
  transport->resume();
  while (manager.receive(0).has_value()) {
  }
  EXPECT_TRUE(transport->send("fim", "after").ok());
}

TEST_F(UnixTransportTest, AFrameOver65536BytesIsRefusedNotTruncated) {
  DatagramPeer manager(path_);
  auto transport = open();
  absl::Status s = transport->send("fim", std::string(65531, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(manager.receive(100).has_value());
  EXPECT_TRUE(transport->send("fim", std::string(65530, 'x')).ok());
  std::optional<std::string> got = manager.receive();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size(), 65536u);
}

TEST_F(UnixTransportTest, AnswersForAnotherModuleAreDroppedAndCounted) {
  DatagramPeer manager(path_);
  auto transport = open();
  std::atomic<int> delivered{0};
  transport->setAnswerHandler([&](const uint8_t*, size_t) { ++delivered; });
  ASSERT_TRUE(transport->send("fim", "x").ok());
  ASSERT_TRUE(manager.receive().has_value());
  ASSERT_TRUE(manager.answer("sca_sync nope"));
  ASSERT_TRUE(manager.answer("garbage"));
  ASSERT_TRUE(manager.answer("fim_sync yes"));
  while (transport->counters().answers + transport->counters().answers_dropped < 3) {
    std::this_thread::yield();
  }
  EXPECT_EQ(delivered.load(), 1);
  EXPECT_EQ(transport->counters().answers_dropped, 2u);
}

TEST_F(UnixTransportTest, RefusesBadOptions) {
  UnixDatagramTransport::Options options;
  options.module = "fim";
  options.queue_path = "";
  EXPECT_EQ(UnixDatagramTransport::open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.queue_path = std::string(200, 'p');
  EXPECT_EQ(UnixDatagramTransport::open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.queue_path = path_;
  options.module = "bad module";
  EXPECT_EQ(UnixDatagramTransport::open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace asp
