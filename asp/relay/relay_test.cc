// The relay's own logic, with real Unix sockets on the module side and an in-memory
// manager stream: routing, byte-for-byte forwarding, backpressure, failover and backoff
// (on a simulated clock). Over real gRPC and TLS: asp/tools/relay_end_to_end_test.cc.
#include "asp/relay/relay.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "asp/testing/simulated_clock.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::relay {
namespace {

using std::chrono::milliseconds;
using testing::SimulatedClock;

// A manager stream held in memory: the test reads what the relay wrote, makes the
// "manager" answer, stalls the network, or breaks the stream.
class FakeStream {
 public:
  bool write(std::string payload) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !stalled_ || ended_; });
    if (ended_) return false;
    written_.push_back(std::move(payload));
    cv_.notify_all();
    return true;
  }
  bool read(std::string* payload) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !answers_.empty() || ended_; });
    if (answers_.empty()) return false;
    *payload = std::move(answers_.front());
    answers_.pop_front();
    return true;
  }
  void end() {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }
  void answer(std::string payload) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(std::move(payload));
    cv_.notify_all();
  }
  void stall(bool stalled) {
    std::lock_guard<std::mutex> lock(mu_);
    stalled_ = stalled;
    cv_.notify_all();
  }
  // Waits (real time, up to 10 s) until `count` datagrams were written; returns them all.
  std::vector<std::string> written(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return written_.size() >= count; });
    return std::vector<std::string>(written_.begin(), written_.end());
  }
  bool ended() {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> written_;
  std::deque<std::string> answers_;
  bool stalled_ = false;
  bool ended_ = false;
};

class FakeStreamHandle final : public ManagerStream {
 public:
  explicit FakeStreamHandle(std::shared_ptr<FakeStream> stream) : stream_(std::move(stream)) {}
  bool write(std::string payload) override { return stream_->write(std::move(payload)); }
  bool read(std::string* payload) override { return stream_->read(payload); }
  void cancel() override { stream_->end(); }
  absl::Status finish() override { return absl::UnavailableError("fake stream ended"); }
  WireBytes wireBytes() override { return {}; }

 private:
  std::shared_ptr<FakeStream> stream_;
};

// Managers by address: those not `reachable` refuse. Records every attempt and when.
class FakeConnector final : public ManagerConnector {
 public:
  explicit FakeConnector(Clock* clock) : clock_(clock) {}

  absl::StatusOr<std::unique_ptr<ManagerStream>> connect(const std::string& manager) override {
    std::lock_guard<std::mutex> lock(mu_);
    attempts_.push_back({manager, clock_->now()});
    cv_.notify_all();
    if (reachable_.count(manager) == 0) {
      return absl::UnavailableError("manager " + manager + ": connection refused");
    }
    auto stream = std::make_shared<FakeStream>();
    streams_.push_back(stream);
    return std::unique_ptr<ManagerStream>(new FakeStreamHandle(stream));
  }
  void interrupt() override {}

  void setReachable(const std::string& manager, bool reachable) {
    std::lock_guard<std::mutex> lock(mu_);
    if (reachable) {
      reachable_.insert(manager);
    } else {
      reachable_.erase(manager);
    }
  }
  // Waits (real time) until `count` attempts were made; returns them.
  std::vector<std::pair<std::string, absl::Time>> attempts(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return attempts_.size() >= count; });
    return attempts_;
  }
  std::shared_ptr<FakeStream> stream(size_t index) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return streams_.size() > index; });
    return streams_.size() > index ? streams_[index] : nullptr;
  }

 private:
  Clock* const clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> reachable_;
  std::vector<std::pair<std::string, absl::Time>> attempts_;
  std::vector<std::shared_ptr<FakeStream>> streams_;
};

// A module's socket as UnixDatagramTransport makes it: autobound, connected to the
// queue path.
class TestModule {
 public:
  explicit TestModule(const std::string& queue_path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un self;
    std::memset(&self, 0, sizeof(self));
    self.sun_family = AF_UNIX;
    bind(fd_, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t));
    sockaddr_un peer;
    std::memset(&peer, 0, sizeof(peer));
    peer.sun_family = AF_UNIX;
    std::memcpy(peer.sun_path, queue_path.data(), queue_path.size());
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&peer), sizeof(peer)) == 0;
  }
  ~TestModule() { close(fd_); }

  bool connected() const { return connected_; }
  // 0, or the errno of a send that did not go (EAGAIN when the relay's queue is full).
  int send(const std::string& bytes, bool wait = true) {
    return ::send(fd_, bytes.data(), bytes.size(), wait ? 0 : MSG_DONTWAIT) ==
                   static_cast<ssize_t>(bytes.size())
               ? 0
               : errno;
  }
  std::optional<std::string> receive(int timeout_ms = 5000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    std::string buffer(70000, '\0');
    const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    buffer.resize(static_cast<size_t>(n));
    return buffer;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class RelayTest : public ::testing::Test {
 protected:
  std::unique_ptr<Relay> startRelay(std::vector<std::string> managers, Clock* clock = systemClock(),
                                    size_t max_buffered_bytes = size_t{1} << 20) {
    auto connector = std::make_unique<FakeConnector>(clock);
    connector_ = connector.get();
    for (const std::string& m : reachable_) connector_->setReachable(m, true);
    Relay::Options options;
    options.socket.path = path_;
    options.managers = std::move(managers);
    options.max_buffered_bytes = max_buffered_bytes;
    options.backoff = defaultRelayBackoff();
    options.backoff.jitter = 0;
    options.clock = clock;
    options.log = [this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_ += std::string(line) + "\n";
    };
    auto relay = Relay::start(options, std::move(connector));
    EXPECT_TRUE(relay.ok()) << relay.status();
    return relay.ok() ? *std::move(relay) : nullptr;
  }

  std::string log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("queue");
  std::set<std::string> reachable_ = {"manager-a:7443"};
  FakeConnector* connector_ = nullptr;
  std::mutex log_mu_;
  std::string log_;
};

TEST_F(RelayTest, AgentDatagramsReachTheStreamByteForByteInOrder) {
  auto relay = startRelay({"manager-a:7443"});
  TestModule fim(path_);
  ASSERT_TRUE(fim.connected());
  const std::vector<std::string> sent = {"s:fim:" + std::string("\0\x01\xff", 3), "s:fim:second",
                                         "s:fim:" + std::string(65530, 'x')};
  for (const std::string& d : sent) ASSERT_EQ(fim.send(d), 0);
  EXPECT_EQ(connector_->stream(0)->written(3), sent);
  // The relay counts a datagram after its write returns, so the stream may hold the third
  // before the count does: wait for the count, boundedly.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (relay->counters().datagrams_forwarded < 3u &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_EQ(relay->counters().datagrams_forwarded, 3u);
}

TEST_F(RelayTest, EachAnswerGoesToTheModuleItNames) {
  auto relay = startRelay({"manager-a:7443"});
  TestModule fim(path_);
  TestModule sca(path_);
  ASSERT_EQ(fim.send("s:fim:start"), 0);
  ASSERT_EQ(sca.send("s:sca:start"), 0);
  std::shared_ptr<FakeStream> stream = connector_->stream(0);
  ASSERT_EQ(stream->written(2).size(), 2u);
  stream->answer("sca_sync for sca");
  stream->answer("fim_sync for fim");
  EXPECT_EQ(fim.receive(), "fim_sync for fim");
  EXPECT_EQ(sca.receive(), "sca_sync for sca");
  EXPECT_FALSE(fim.receive(100).has_value());
}

TEST_F(RelayTest, AnswersForModulesNeverHeardFromAreCountedAndNotSent) {
  auto relay = startRelay({"manager-a:7443"});
  TestModule fim(path_);
  ASSERT_EQ(fim.send("s:fim:start"), 0);
  std::shared_ptr<FakeStream> stream = connector_->stream(0);
  ASSERT_EQ(stream->written(1).size(), 1u);
  stream->answer("inventory_sync x");
  stream->answer("no header at all");
  stream->answer("fim_sync last");
  EXPECT_EQ(fim.receive(), "fim_sync last") << "nothing else reached fim";
  EXPECT_EQ(relay->counters().answers_unroutable, 2u);
}

TEST_F(RelayTest, DatagramsWithoutTheAgentHeaderAreDroppedAndCounted) {
  auto relay = startRelay({"manager-a:7443"});
  TestModule module(path_);
  ASSERT_EQ(module.send("hello"), 0);
  ASSERT_EQ(module.send("s:bad name:x"), 0);
  ASSERT_EQ(module.send("s:fim:good"), 0);
  EXPECT_EQ(connector_->stream(0)->written(1), std::vector<std::string>{"s:fim:good"});
  EXPECT_EQ(relay->counters().bad_datagrams, 2u);
}

TEST_F(RelayTest, AStalledNetworkMakesModulesWaitAndTheBufferNeverPassesItsBound) {
  const size_t bound = 4 * 65536;
  auto relay = startRelay({"manager-a:7443"}, systemClock(), bound);
  TestModule fim(path_);
  std::shared_ptr<FakeStream> stream = connector_->stream(0);
  stream->stall(true);
  const std::string datagram = "s:fim:" + std::string(60000, 'd');
  // Send without waiting until the relay's socket stays full for half a second: the relay
  // stopped reading it.
  int sent = 0;
  auto full_since = std::chrono::steady_clock::now();
  while (sent < 1000 && std::chrono::steady_clock::now() - full_since < milliseconds(500)) {
    if (fim.send(datagram, /*wait=*/false) == 0) {
      ++sent;
      full_since = std::chrono::steady_clock::now();
    } else {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  EXPECT_LT(sent, 1000) << "a send had to wait";
  EXPECT_EQ(fim.send(datagram, /*wait=*/false), EAGAIN);
  const Relay::Counters stalled = relay->counters();
  EXPECT_LE(stalled.bytes_in - stalled.bytes_forwarded, bound + datagram.size())
      << "what the relay holds stays within its buffer (and the one datagram being written)";
  EXPECT_GT(stalled.full_buffer_waits, 0u);
  stream->stall(false);
  EXPECT_EQ(stream->written(static_cast<size_t>(sent)).size(), static_cast<size_t>(sent))
      << "nothing lost once the network moves again";
}

TEST_F(RelayTest, TheNextManagerIsTriedWhenTheFirstRefuses) {
  reachable_ = {"manager-b:7443"};
  auto relay = startRelay({"manager-a:7443", "manager-b:7443"});
  ASSERT_TRUE(relay->waitUntilConnected(absl::Seconds(10)));
  EXPECT_EQ(relay->connectedManager(), "manager-b:7443");
  std::vector<std::pair<std::string, absl::Time>> attempts = connector_->attempts(2);
  EXPECT_EQ(attempts[0].first, "manager-a:7443");
  EXPECT_EQ(attempts[1].first, "manager-b:7443");
  EXPECT_NE(log().find("manager manager-a:7443: connection refused"), std::string::npos) << log();
}

TEST_F(RelayTest, AStreamThatBreaksIsReplacedAndLaterDatagramsGoOnTheNewOne) {
  auto relay = startRelay({"manager-a:7443"});
  TestModule fim(path_);
  ASSERT_EQ(fim.send("s:fim:one"), 0);
  std::shared_ptr<FakeStream> first = connector_->stream(0);
  ASSERT_EQ(first->written(1).size(), 1u);
  first->end();  // the manager went away
  std::shared_ptr<FakeStream> second = connector_->stream(1);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(fim.send("s:fim:two"), 0);
  EXPECT_EQ(second->written(1), std::vector<std::string>{"s:fim:two"});
  second->answer("fim_sync back");
  EXPECT_EQ(fim.receive(), "fim_sync back") << "routes outlive the stream";
}

TEST_F(RelayTest, FailedRoundsAreSpacedByTheBackoffOnTheClock) {
  reachable_ = {};
  SimulatedClock clock(SimulatedClock::Mode::kManual);
  auto relay = startRelay({"manager-a:7443", "manager-b:7443"}, &clock);
  const absl::Time t0 = clock.now();
  ASSERT_EQ(connector_->attempts(2).size(), 2u);  // round 1 at once
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(absl::Milliseconds(499));
  std::this_thread::sleep_for(milliseconds(50));  // time for an early attempt to show
  EXPECT_EQ(connector_->attempts(2).size(), 2u) << "nothing before backoff(1) = 500 ms";
  clock.advance(absl::Milliseconds(1));
  std::vector<std::pair<std::string, absl::Time>> attempts = connector_->attempts(4);
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[2].first, "manager-a:7443");
  EXPECT_EQ(attempts[2].second - t0, absl::Milliseconds(500));
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(absl::Seconds(1));  // backoff(2)
  attempts = connector_->attempts(6);
  ASSERT_EQ(attempts.size(), 6u);
  EXPECT_EQ(attempts[4].second - t0, absl::Milliseconds(1500));
  connector_->setReachable("manager-a:7443", true);
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(absl::Seconds(2));  // backoff(3)
  EXPECT_TRUE(relay->waitUntilConnected(absl::Seconds(1)));
  relay->stop();
}

TEST_F(RelayTest, StopEndsTheStreamAndRemovesTheSocket) {
  auto relay = startRelay({"manager-a:7443"});
  std::shared_ptr<FakeStream> stream = connector_->stream(0);
  ASSERT_TRUE(relay->waitUntilConnected(absl::Seconds(10)));
  relay->stop();
  EXPECT_TRUE(stream->ended());
  EXPECT_NE(access(path_.c_str(), F_OK), 0) << "the socket path is gone";
}

TEST_F(RelayTest, ASocketPathInUseIsAClearError) {
  auto first = startRelay({"manager-a:7443"});
  Relay::Options options;
  options.socket.path = path_;
  options.managers = {"manager-a:7443"};
  auto second = Relay::start(options, std::make_unique<FakeConnector>(systemClock()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find(path_), std::string::npos) << second.status();
}

TEST_F(RelayTest, BadOptionsAreRefusedNamingTheValue) {
  Relay::Options options;
  options.socket.path = path_;
  auto none = Relay::start(options, std::make_unique<FakeConnector>(systemClock()));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  options.managers = {"m:1"};
  options.max_buffered_bytes = 1000;
  auto small = Relay::start(options, std::make_unique<FakeConnector>(systemClock()));
  EXPECT_NE(small.status().message().find("1000"), std::string::npos) << small.status();
}

}  // namespace
}  // namespace asp::relay
