// stop() during every wait of every kind of session, between frames, in the transport
// and on the system clock: the session ends as kStopped at once (no simulated time
// spent waiting out a deadline), every change is pending again, and after reset() the
// same call goes through (docs/lifecycle.md, "stop() and reset()"). The test acts when the
// session's thread waits on the simulated clock or the fakes count what was sent.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::BackgroundSync;
using testing::kIndex;
using testing::ProtocolHarness;
using testing::SimulatedClock;
using testing::waitUntil;
using wire::v1::Message;

class StopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_ = std::make_unique<ProtocolHarness>(
        [this](AgentSyncProtocol::Options& o) {
          o.session.retries = 3;
          o.session.backoff.jitter = 0;
          if (customize_) customize_(o);
        },
        SimulatedClock::Mode::kManual);
    h().manager.setLatency(absl::ZeroDuration());
    for (int i = 0; i < 20; ++i)
      h().record("id" + std::to_string(i), Operation::kCreate, std::string(500, 'x'));
  }

  ProtocolHarness& h() { return *harness_; }

  // Stops the session (`call`, or a DELTA sync) once `in_wait` holds and a thread waits
  // on the clock; checks that it ends as stopped, with no simulated time spent waiting
  // out a deadline, and that the queue holds its 20 changes.
  void stopWhen(const std::function<bool()>& in_wait, std::function<SyncResult()> call = nullptr) {
    if (!call) call = [this] { return h().protocol->synchronizeModule(Mode::kDelta); };
    BackgroundSync sync(std::move(call));
    waitUntil(in_wait);
    ASSERT_TRUE(h().clock.awaitWaiters(1));
    const absl::Duration before = h().clock.elapsed();
    h().protocol->stop();
    SyncResult result = sync.join();
    EXPECT_EQ(result.code, SyncCode::kStopped) << result.message;
    EXPECT_EQ(h().clock.elapsed(), before) << "woken by stop(), not by a deadline";
    EXPECT_EQ(h().pending(), 20u) << "every change is pending again";
    // Stopped until reset(), then the same changes go through.
    EXPECT_EQ(h().protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kStopped);
    h().protocol->reset();
  }

  // With a DELTA running in the background: lets the End delay pass and returns once
  // End is sent and the session waits for its answer.
  void reachTheEndWait() {
    waitUntil([&] { return h().manager.received(Message::kDataBatch) >= 1; });
    ASSERT_TRUE(h().clock.awaitWaiters(1));
    h().clock.advance(absl::Seconds(1));  // the End delay passes; End is sent
    waitUntil([&] { return h().manager.received(Message::kEnd) == 1; });
    ASSERT_TRUE(h().clock.awaitWaiters(1));
  }

  std::function<void(AgentSyncProtocol::Options&)> customize_;
  std::unique_ptr<ProtocolHarness> harness_;
};

TEST_F(StopTest, DuringTheStartWait) {
  h().manager.setSilent(true);
  stopWhen([&] { return h().manager.received(Message::kStart) == 1; });
}

TEST_F(StopTest, DuringTheBackoffWait) {
  h().manager.setSilent(true);
  BackgroundSync sync(*h().protocol);
  ASSERT_TRUE(h().clock.awaitWaiters(1));
  h().clock.advance(absl::Seconds(30));  // the Start wait times out
  // The backoff wait: the first whose deadline lies ahead.
  ASSERT_TRUE(h().clock.awaitWaitersWithDeadlineAfter(h().clock.now()));
  const absl::Duration before = h().clock.elapsed();
  h().protocol->stop();
  EXPECT_EQ(sync.join().code, SyncCode::kStopped);
  EXPECT_EQ(h().clock.elapsed(), before);
  EXPECT_EQ(h().manager.received(Message::kStart), 1) << "stopped before resending";
  EXPECT_EQ(h().pending(), 20u);
}

TEST_F(StopTest, DuringTheEndDelay) {
  stopWhen([&] { return h().manager.received(Message::kDataBatch) >= 1; });
  EXPECT_EQ(h().manager.received(Message::kEnd), 0);
}

TEST_F(StopTest, DuringTheEndWait) {
  h().manager.corruptSessionOfNextAnswers(1000);  // End answers never match
  BackgroundSync sync(*h().protocol);
  reachTheEndWait();
  h().protocol->stop();
  EXPECT_EQ(sync.join().code, SyncCode::kStopped);
  EXPECT_EQ(h().pending(), 20u);
}

TEST_F(StopTest, DuringTheEndBackoffWait) {
  h().manager.corruptSessionOfNextAnswers(1000);  // End answers never match
  BackgroundSync sync(*h().protocol);
  reachTheEndWait();
  h().clock.advance(absl::Seconds(30));  // the End wait times out
  // The backoff wait: the first whose deadline lies ahead.
  ASSERT_TRUE(h().clock.awaitWaitersWithDeadlineAfter(h().clock.now()));
  const absl::Duration before = h().clock.elapsed();
  h().protocol->stop();
  SyncResult result = sync.join();
  EXPECT_EQ(result.code, SyncCode::kStopped) << result.message;
  EXPECT_EQ(h().clock.elapsed(), before) << "woken by stop(), not by the end of the backoff";
  EXPECT_EQ(h().manager.received(Message::kEnd), 1) << "stopped before resending";
  EXPECT_EQ(h().pending(), 20u);
}

// stop() in the other kinds of session, while End waits for its answer (after any data
// went out). Each ends as kStopped with the queue's 20 changes pending (stopWhen), and
// after reset() the same call goes through.
class StopInOtherSessions : public StopTest {
 protected:
  void SetUp() override {
    customize_ = [](AgentSyncProtocol::Options& o) {
      o.session.sync_end_delay = absl::ZeroDuration();
    };
    StopTest::SetUp();
    // The first End is not handled by the manager, and its answer is for another
    // session (ignored): the agent keeps waiting.
    h().manager.replaceNextEndAnswer([](uint64_t session) {
      Message m;
      m.mutable_end_ack()->set_status(wire::v1::STATUS_OK);
      m.mutable_end_ack()->set_session(session + 1);
      return m.SerializeAsString();
    });
  }

  void stopInTheEndWait(std::function<SyncResult()> call) {
    stopWhen([&] { return h().manager.received(Message::kEnd) == 1; }, std::move(call));
  }
};

TEST_F(StopInOtherSessions, AFullSessionGetsItsRecoverySetBack) {
  for (const auto& [id, doc] : h().module[kIndex]) {
    ASSERT_TRUE(
        h().protocol
            ->persistDifferenceInMemory(id, Operation::kCreate, kIndex, doc.data, doc.version)
            .ok());
  }
  auto full = [this] { return h().protocol->synchronizeModule(Mode::kFull); };
  stopInTheEndWait(full);
  EXPECT_EQ(h().manager.received(Message::kDataBatch), 1);
  EXPECT_TRUE(h().managerState().empty()) << "the manager did not apply the stopped session";
  SyncResult again = full();
  ASSERT_EQ(again.code, SyncCode::kOk) << again.message;
  EXPECT_EQ(again.changes, 20u) << "the whole recovery set came back";
  EXPECT_EQ(h().managerState(), h().module);
}

TEST_F(StopInOtherSessions, ACheckSession) {
  const std::string checksum = h().moduleChecksum();
  auto check = [this, checksum] { return h().protocol->checkIntegrity(kIndex, checksum); };
  stopInTheEndWait(check);
  EXPECT_EQ(h().manager.received(Message::kChecksumModule), 1);
  EXPECT_EQ(check().code, SyncCode::kChecksumMismatch) << "the manager holds nothing yet";
}

TEST_F(StopInOtherSessions, AMetadataSession) {
  auto metadata = [this] {
    return h().protocol->synchronizeMetadataOrGroups(Mode::kMetadataDelta, {kIndex}, 3);
  };
  stopInTheEndWait(metadata);
  EXPECT_EQ(metadata().code, SyncCode::kOk);
}

TEST_F(StopInOtherSessions, AGroupSession) {
  auto groups = [this] {
    return h().protocol->synchronizeMetadataOrGroups(Mode::kGroupCheck, {kIndex}, 3);
  };
  stopInTheEndWait(groups);
  EXPECT_EQ(groups().code, SyncCode::kOk);
}

TEST_F(StopInOtherSessions, ACleanSessionKeepsTheIndexChanges) {
  auto clean = [this] { return h().protocol->notifyDataClean({kIndex}); };
  stopInTheEndWait(clean);  // the 20 changes the clean froze are pending again
  EXPECT_EQ(h().manager.received(Message::kDataClean), 1);
  ASSERT_EQ(clean().code, SyncCode::kOk);
  EXPECT_EQ(h().pending(), 0u) << "dropped once a clean went through";
}

class StopDuringPacing : public StopTest {
 protected:
  void SetUp() override {
    customize_ = [](AgentSyncProtocol::Options& o) {
      o.session.max_eps = 1;
      o.session.frame_budget_bytes = 2048;
    };
    StopTest::SetUp();
  }
};

TEST_F(StopDuringPacing, DuringTheRateLimitWait) {
  // Start took the one token: the first data frame waits a second for the next.
  stopWhen([&] { return h().manager.received(Message::kStart) == 1; });
  EXPECT_EQ(h().manager.received(Message::kDataBatch), 0);
}

TEST(StopInTheTransport, ASendBlockedOnAFullQueueEndsAsStopped) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.transport.blockNextSend();
  BackgroundSync sync(*h.protocol);
  waitUntil([&] { return h.transport.blocked(); });
  h.protocol->stop();
  SyncResult result = sync.join();
  EXPECT_EQ(result.code, SyncCode::kStopped) << result.message;
  EXPECT_EQ(h.pending(), 1u);
  h.protocol->reset();
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok()) << "the transport resumed too";
  EXPECT_EQ(h.managerState(), h.module);
}

// stop() called while a data frame is being sent (from the manager's side of the send,
// on the session's own thread), with no pacing between frames: nothing more goes out.
class StopBetweenFrames : public ::testing::Test {
 protected:
  StopBetweenFrames()
      : h_([](AgentSyncProtocol::Options& o) {
          o.session.frame_budget_bytes = 2048;
          o.session.sync_end_delay = absl::ZeroDuration();
        }) {
    for (int i = 0; i < 40; ++i)
      h_.record("id" + std::to_string(i), Operation::kCreate, std::string(500, 'x'));
  }

  // Stops the session when the manager receives the first DataBatch sent after an End
  // (`after_end`: a retransmission), or else the first DataBatch of all.
  void stopAtDataBatch(bool after_end) {
    h_.transport.setReceiver(
        [this, after_end](const std::string& module, const std::string& bytes) {
          h_.manager.receive(module, bytes);
          Message m;
          if (!m.ParseFromString(bytes)) return;
          ends_ += m.has_end() ? 1 : 0;
          if (m.has_data_batch() && (after_end ? ends_ > 0 : true) && !stopped_) {
            stopped_ = true;
            h_.protocol->stop();
          }
        });
  }

  void expectStoppedWithEverythingPending(const SyncResult& result) {
    EXPECT_EQ(result.code, SyncCode::kStopped) << result.message;
    EXPECT_EQ(h_.pending(), 40u);
    EXPECT_TRUE(h_.managerState().empty());
    h_.protocol->reset();
    h_.manager.attach(h_.transport);
    h_.expectNextDeltaSendsAndConverges(40);
  }

  ProtocolHarness h_;
  int ends_ = 0;
  bool stopped_ = false;
};

TEST_F(StopBetweenFrames, NoFurtherDatagramAfterTheStop) {
  stopAtDataBatch(false);
  SyncResult result = h_.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(h_.transport.count(Message::kDataBatch), 1) << "the frame being sent, no more";
  EXPECT_EQ(h_.transport.count(Message::kEnd), 0);
  expectStoppedWithEverythingPending(result);
}

TEST_F(StopBetweenFrames, DuringARetransmission) {
  // The manager asks for every seq again: the retransmission takes many frames.
  h_.manager.replaceNextEndAnswer([](uint64_t session) {
    return testing::reqRet(session, {{0, 39}});
  });
  stopAtDataBatch(true);
  SyncResult result = h_.protocol->synchronizeModule(Mode::kDelta);
  const int first_transmission = h_.manager.received(Message::kDataBatch) - 1;
  ASSERT_GT(first_transmission, 5) << "the session has many frames";
  size_t per_frame = 0;
  for (const Message& m : h_.transport.sent()) {
    if (m.has_data_batch()) per_frame = std::max<size_t>(per_frame, m.data_batch().values_size());
  }
  EXPECT_EQ(result.retransmitted, per_frame) << "one frame of retransmission, no more";
  EXPECT_EQ(h_.transport.count(Message::kEnd), 1) << "no End after the stopped retransmission";
  expectStoppedWithEverythingPending(result);
}

TEST(StopOnTheSystemClock, InterruptsALongWaitPromptly) {
  testing::FakeTransport transport;  // nobody answers
  AgentSyncProtocol::Options options;
  options.module = "fim";
  options.transport = &transport;
  options.session.timeout = absl::Seconds(60);
  auto protocol = AgentSyncProtocol::create(options);
  ASSERT_TRUE(protocol.ok());
  ASSERT_TRUE((*protocol)->persistDifference("a", Operation::kCreate, kIndex, "x", 1).ok());
  const auto began = std::chrono::steady_clock::now();
  BackgroundSync sync(**protocol);
  waitUntil([&] { return transport.count(Message::kStart) == 1; });
  (*protocol)->stop();
  EXPECT_EQ(sync.join().code, SyncCode::kStopped);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(10))
      << "a 60 s wait was interrupted";
}

}  // namespace
}  // namespace asp
