// Data cleans (docs/protocol.md §5.3) beyond the happy path: Start and End timeouts and
// ERROR answers, a local drop that fails after the manager confirmed, several indices in
// one clean, an index with nothing queued. What the user sees: the call's code, what the
// manager holds, and what stays queued for the next sync.
#include <string>

#include "asp/core/protocol_harness.h"
#include "asp/testing/fault_vfs.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

// One retry, so a silence ends after two timeouts.
void oneRetry(AgentSyncProtocol::Options& o) { o.session.retries = 1; }

// The manager holds two documents of kIndex and one of "other"; one more change of kIndex
// is queued (pending), which a clean of kIndex makes obsolete.
void arrangeAnIndexToClean(ProtocolHarness& h) {
  h.record("a", Operation::kCreate, "A");
  h.record("b", Operation::kCreate, "B");
  h.record("x", Operation::kCreate, "X", "other");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  h.record("c", Operation::kCreate, "C");
  ASSERT_EQ(h.pending(), 1u);
}

// After a failed clean: the obsolete change is still queued, and a clean that goes
// through empties the index on the manager and drops it.
void expectTheNextCleanGoesThrough(ProtocolHarness& h) {
  EXPECT_EQ(h.pending(), 1u) << "the failed clean keeps the index's queued change";
  SyncResult next = h.protocol->notifyDataClean({kIndex});
  ASSERT_EQ(next.code, SyncCode::kOk) << next.message;
  h.module.erase(kIndex);
  EXPECT_EQ(h.managerState(), h.module);
  EXPECT_EQ(h.pending(), 0u);
}

TEST(CleanSessions, AStartTimeoutKeepsTheIndexChangesAndSendsNoClean) {
  ProtocolHarness h(oneRetry);
  arrangeAnIndexToClean(h);
  h.manager.setSilent(true);
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  EXPECT_EQ(result.code, SyncCode::kStartTimeout) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 2 + 1) << "the DELTA's Start, then two";
  EXPECT_EQ(h.manager.received(Message::kDataClean), 0);
  EXPECT_EQ(h.managerState().count(kIndex), 1u) << "the manager still holds the index";
  h.manager.setSilent(false);
  expectTheNextCleanGoesThrough(h);
}

TEST(CleanSessions, AnEndTimeoutKeepsTheIndexChanges) {
  ProtocolHarness h(oneRetry);
  arrangeAnIndexToClean(h);
  // Silent from the End delay on: the StartAck came, no answer to End does.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.setSilent(true); });
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  EXPECT_EQ(result.code, SyncCode::kEndTimeout) << result.message;
  EXPECT_EQ(h.manager.received(Message::kDataClean), 1);
  EXPECT_EQ(h.manager.received(Message::kEnd), 1 + 2) << "the DELTA's End, then two";
  h.manager.setSilent(false);
  expectTheNextCleanGoesThrough(h);
}

TEST(CleanSessions, AnErrorToStartKeepsTheIndexChangesAndSendsNoClean) {
  ProtocolHarness h;
  arrangeAnIndexToClean(h);
  h.manager.answerStartsWith(wire::v1::STATUS_ERROR, 1);
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_EQ(h.manager.received(Message::kDataClean), 0);
  EXPECT_EQ(h.managerState().count(kIndex), 1u);
  expectTheNextCleanGoesThrough(h);
}

TEST(CleanSessions, AnErrorToEndKeepsTheIndexChanges) {
  ProtocolHarness h;
  arrangeAnIndexToClean(h);
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_EQ(h.managerState().count(kIndex), 1u) << "an End answered ERROR is not applied";
  expectTheNextCleanGoesThrough(h);
}

// The manager has emptied the index: sending the index's queued changes again would put
// back documents the clean removed. The queue drops them before the next session instead.
TEST(CleanSessions, ALocalDropThatFailsAfterTheManagerConfirmedIsRetriedAndNeverSent) {
  FaultVfs::get().reset();
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.sqlite_vfs = FaultVfs::kName; });
  arrangeAnIndexToClean(h);
  // Disk full from the End delay on: the manager confirms, the queue cannot drop.
  h.clock.scheduleAfter(absl::Milliseconds(500),
                        [] { FaultVfs::get().failWritesAfter(0, FaultVfs::Error::kFull); });
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  EXPECT_EQ(result.code, SyncCode::kStorageError) << result.message;
  EXPECT_NE(result.message.find("could not drop"), std::string::npos) << result.message;
  h.module.erase(kIndex);
  EXPECT_EQ(h.managerState(), h.module) << "the manager did clean the index";

  FaultVfs::get().reset();
  const int batches = h.manager.received(Message::kDataBatch);
  SyncResult next = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(next.code, SyncCode::kNothingToDo) << next.message;
  EXPECT_EQ(h.manager.received(Message::kDataBatch), batches) << "'c' is never sent";
  EXPECT_EQ(h.pending(), 0u);
  EXPECT_EQ(h.managerState(), h.module);
  // Recording and syncing go on as usual.
  h.record("d", Operation::kCreate, "D");
  h.expectNextDeltaSendsAndConverges(1);
  FaultVfs::get().reset();
}

TEST(CleanSessions, AMultiIndexCleanDropsTheQueuedChangesOfEveryIndex) {
  ProtocolHarness h;
  for (const char* index : {"idx-1", "idx-2", "idx-3", "kept"}) {
    h.record(std::string(index) + "-old", Operation::kCreate, "v", index);
  }
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  for (const char* index : {"idx-1", "idx-2", "idx-3", "kept"}) {
    h.record(std::string(index) + "-new", Operation::kCreate, "v", index);
    h.record(std::string(index) + "-old", Operation::kDelete, "", index);
  }
  ASSERT_EQ(h.pending(), 8u);
  SyncResult result = h.protocol->notifyDataClean({"idx-1", "idx-2", "idx-3"});
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kDataClean), 3);
  EXPECT_EQ(h.pending(), 2u) << "only the index left out keeps its changes";
  for (const char* index : {"idx-1", "idx-2", "idx-3"}) h.module.erase(index);
  h.expectNextDeltaSendsAndConverges(2);
}

TEST(CleanSessions, AnIndexWithNoQueuedChangesIsStillCleanedOnTheManager) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "A");
  h.record("x", Operation::kCreate, "X", "other");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  h.record("y", Operation::kCreate, "Y", "other");  // queued, but not for the cleaned index
  ASSERT_EQ(h.pending(), 1u);
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 1u) << "one DataClean";
  const std::vector<Message> sent = h.transport.sent();
  const Message& start = sent[sent.size() - 3];  // Start, DataClean, End
  ASSERT_TRUE(start.has_start());
  EXPECT_EQ(start.start().size(), 1u);
  EXPECT_EQ(sent[sent.size() - 2].data_clean().index(), kIndex);
  EXPECT_EQ(h.pending(), 1u) << "the other index's change is untouched";
  h.module.erase(kIndex);
  h.expectNextDeltaSendsAndConverges(1);
}

}  // namespace
}  // namespace asp
