// One session at a time per instance, and recording under load while sessions run.
#include <atomic>
#include <thread>

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

TEST(OneSessionAtATime, ConcurrentCallsReturnAlreadyRunningAtOnce) {
  ProtocolHarness h(nullptr, SimulatedClock::Mode::kManual);
  h.record("a", Operation::kCreate, "1");
  h.manager.setSilent(true);
  BackgroundSync sync(*h.protocol);
  waitUntil([&] { return h.manager.received(Message::kStart) == 1; });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kAlreadyRunning);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kAlreadyRunning);
  EXPECT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kAlreadyRunning);
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kGroupDelta, {}, 1).code,
            SyncCode::kAlreadyRunning);
  EXPECT_EQ(h.protocol->requiresFullSync(kIndex, h.moduleChecksum()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.protocol->deleteDatabase().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "no other session reached the manager";
  Stats stats = h.protocol->stats();
  EXPECT_EQ(stats.sessions_ok + stats.sessions_failed, 0u) << "refusals are not sessions";
  // Recording never waits for a session.
  EXPECT_TRUE(h.protocol->persistDifference("b", Operation::kCreate, kIndex, "2", 1).ok());
  h.protocol->stop();
  EXPECT_EQ(sync.join().code, SyncCode::kStopped);
  EXPECT_EQ(h.protocol->stats().sessions_failed, 1u) << "the stopped session counts";
  // Stopped until reset(): refused again, and not counted again.
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kStopped);
  stats = h.protocol->stats();
  EXPECT_EQ(stats.sessions_failed, 1u);
  EXPECT_EQ(stats.sessions_ok, 0u);
}

TEST(UnderLoad, RecordingThreeHundredThousandChangesWhileSessionsRunLosesNothing) {
  ProtocolHarness h(
      [](AgentSyncProtocol::Options& o) { o.session.sync_end_delay = absl::Milliseconds(10); });
  h.transport.setRecording(false);
  h.manager.loseDataRandomly(0.01, 3);
  std::atomic<bool> recording{true};
  std::thread recorder([&] {
    for (int i = 0; i < 300000; ++i) {
      const std::string id = "/var/f" + std::to_string((static_cast<int64_t>(i) * 7919) % 40000);
      const int kind = (i / 3) % 10;
      const Operation op =
          kind == 9 ? Operation::kDelete : (kind < 3 ? Operation::kCreate : Operation::kModify);
      h.record(id, op, op == Operation::kDelete ? "" : "v" + std::to_string(i), kIndex, i);
    }
    recording = false;
  });
  int sessions = 0;
  while (recording) {
    SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
    EXPECT_TRUE(result.ok()) << syncCodeName(result.code) << ": " << result.message;
    ++sessions;
  }
  recorder.join();
  SyncResult last = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_TRUE(last.ok()) << last.message;
  EXPECT_GT(sessions, 1);
  EXPECT_EQ(h.pending(), 0u);
  EXPECT_EQ(h.managerState(), h.module) << "after " << sessions << " sessions";
}

}  // namespace
}  // namespace asp
