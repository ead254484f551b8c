// Bounded sessions (docs/protocol.md §5): a DELTA call sends the oldest pending changes
// first, in consecutive sessions of at most max_session_values / max_session_bytes,
// until what was pending when the call began is confirmed, a session fails, or stop().
#include <atomic>
#include <string>
#include <vector>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kAgent;
using testing::kIndex;
using testing::kModule;
using testing::ProtocolHarness;
using wire::v1::Message;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kBacklog = 100000;  // sanitizers: the same rule, a tenth of the work
#else
constexpr int kBacklog = 1000000;
#endif

// A manager that answers OFFLINE to any Start above `limit` data messages.
manager::ManagerCore::Options sessionLimit(uint64_t limit) {
  manager::ManagerCore::Options o;
  o.max_session_size = limit;
  return o;
}

ProtocolHarness::Customize atMost(uint64_t values, uint64_t bytes = 0) {
  return [values, bytes](AgentSyncProtocol::Options& o) {
    o.session.max_session_values = values;
    o.session.max_session_bytes = bytes;
    o.session.sync_end_delay = absl::ZeroDuration();
  };
}

// The Start sizes the manager received, in order.
std::vector<uint64_t> startSizes(const ProtocolHarness& h) {
  std::vector<uint64_t> sizes;
  for (const Message& m : h.transport.sent()) {
    if (m.has_start()) sizes.push_back(m.start().size());
  }
  return sizes;
}

TEST(BoundedSessions, AMillionPendingDrainAgainstAManagerThatRefusesLargeSessions) {
  const uint64_t limit = kBacklog / 100;
  ProtocolHarness h(atMost(limit), testing::SimulatedClock::Mode::kAutoAdvance,
                    sessionLimit(limit));
  h.transport.setRecording(false);
  std::vector<Change> batch;
  for (int i = 0; i < kBacklog; ++i) {
    batch.push_back(
        Change{"/f/" + std::to_string(i), kIndex, Operation::kCreate, std::to_string(i), 1});
    if (batch.size() == 10000) {
      ASSERT_TRUE(h.protocol->queue().recordBatch(batch).ok());
      batch.clear();
    }
  }
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.sessions, 100u);
  EXPECT_EQ(result.changes, static_cast<uint64_t>(kBacklog));
  EXPECT_EQ(h.pending(), 0u);
  const manager::IndexState held = h.manager.documents({kAgent, kModule}, kIndex);
  ASSERT_EQ(held.size(), static_cast<size_t>(kBacklog));
  for (int i : {0, kBacklog / 2, kBacklog - 1}) {
    EXPECT_EQ(held.at("/f/" + std::to_string(i)).data, std::to_string(i));
  }
}

TEST(BoundedSessions, WithoutBoundsTheSameBacklogIsRefusedAndStaysQueued) {
  ProtocolHarness h(atMost(0), testing::SimulatedClock::Mode::kAutoAdvance, sessionLimit(10));
  for (int i = 0; i < 25; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kManagerNotReady);
  EXPECT_EQ(h.pending(), 25u);
}

TEST(BoundedSessions, TheOldestChangesGoFirstInConsecutiveSessions) {
  ProtocolHarness h(atMost(10));
  for (int i = 0; i < 25; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.sessions, 3u);
  EXPECT_EQ(result.changes, 25u);
  EXPECT_EQ(startSizes(h), (std::vector<uint64_t>{10, 10, 5}));
  std::vector<std::string> order;
  for (const Message& m : h.transport.sent()) {
    for (const auto& v : m.data_batch().values()) order.push_back(v.id());
  }
  ASSERT_EQ(order.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(order[i], "id" + std::to_string(i));
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(BoundedSessions, TheByteBoundSplitsSessionsToo) {
  // Each change weighs 4 (id) + 16 (index) + 80 (data) = 100 bytes.
  ProtocolHarness h(atMost(0, 1000));
  for (int i = 0; i < 25; ++i)
    h.record("id" + std::to_string(10 + i), Operation::kCreate, std::string(80, 'x'));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(startSizes(h), (std::vector<uint64_t>{10, 10, 5}));
}

TEST(BoundedSessions, ChangesRecordedDuringTheCallWaitForTheNextCall) {
  ProtocolHarness h(atMost(10));
  for (int i = 0; i < 20; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // While the first session runs, the module records a new document.
  std::atomic<bool> recorded{false};
  h.transport.setReceiver([&](const std::string& module, const std::string& bytes) {
    Message m;
    if (!recorded && m.ParseFromString(bytes) && m.has_end()) {
      recorded = true;
      EXPECT_TRUE(h.protocol->persistDifference("late", Operation::kCreate, kIndex, "v", 1).ok());
    }
    h.manager.receive(module, bytes);
  });
  SyncResult first = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(first.code, SyncCode::kOk) << first.message;
  EXPECT_EQ(first.changes, 20u);
  EXPECT_EQ(h.pending(), 1u);
  SyncResult second = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(second.code, SyncCode::kOk) << second.message;
  EXPECT_EQ(second.changes, 1u);
}

TEST(BoundedSessions, AFailedSessionEndsTheCallAndKeepsEverythingUnconfirmed) {
  ProtocolHarness h(atMost(10));
  for (int i = 0; i < 30; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  int starts = 0;
  h.transport.setReceiver([&](const std::string& module, const std::string& bytes) {
    Message m;
    if (m.ParseFromString(bytes) && m.has_start() && ++starts == 2) {
      h.manager.answerStartsWith(wire::v1::STATUS_OFFLINE, 1);
    }
    h.manager.receive(module, bytes);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kManagerNotReady);
  EXPECT_EQ(result.sessions, 2u);
  EXPECT_EQ(result.consecutive_failures, 1u);
  EXPECT_EQ(starts, 2) << "no third session after a failure";
  EXPECT_EQ(h.pending(), 20u);
  EXPECT_EQ(h.manager.documents({kAgent, kModule}, kIndex).size(), 10u);
  h.expectNextDeltaSendsAndConverges(20);
}

TEST(BoundedSessions, StopBetweenSessionsEndsTheCallStopped) {
  ProtocolHarness h(atMost(10));
  for (int i = 0; i < 30; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.transport.setReceiver([&](const std::string& module, const std::string& bytes) {
    Message m;
    if (m.ParseFromString(bytes) && m.has_end()) h.protocol->stop();
    h.manager.receive(module, bytes);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStopped);
  EXPECT_EQ(result.consecutive_failures, 0u) << "a stop is not a failure";
  EXPECT_EQ(h.pending(), 30u);
  h.protocol->reset();
  h.transport.setReceiver([&](const std::string& module, const std::string& bytes) {
    h.manager.receive(module, bytes);
  });
  h.expectNextDeltaSendsAndConverges(30);
}

TEST(BoundedSessions, AFullSyncIsOneSessionWhateverTheBounds) {
  ProtocolHarness h(atMost(10));
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(h.protocol
                    ->persistDifferenceInMemory("id" + std::to_string(i), Operation::kCreate,
                                                kIndex, "v", 1)
                    .ok());
  }
  SyncResult result = h.protocol->synchronizeModule(Mode::kFull);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.sessions, 1u);
  EXPECT_EQ(startSizes(h), std::vector<uint64_t>{25});
}

}  // namespace
}  // namespace asp
