// Storage failures at each step of a session: the queue cannot begin, an asynchronous
// buffer cannot be committed, reads fail while streaming or retransmitting, the commit
// after the manager confirmed fails, an abort fails. Each is a storage error, and the
// next session sends everything that was not confirmed (docs/lifecycle.md).
#include <string>

#include "asp/core/protocol_harness.h"
#include "asp/testing/fault_vfs.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::ProtocolHarness;
using testing::reqRet;
using wire::v1::Message;

void withFaultVfs(AgentSyncProtocol::Options& o) { o.sqlite_vfs = FaultVfs::kName; }

class StorageFaults : public ::testing::Test {
 protected:
  void SetUp() override { FaultVfs::get().reset(); }
  void TearDown() override { FaultVfs::get().reset(); }
};

TEST_F(StorageFaults, AQueueThatCannotBeginIsAStorageErrorAndNothingIsSent) {
  ProtocolHarness h(withFaultVfs);
  h.record("a", Operation::kCreate, "1");
  FaultVfs::get().failWritesAfter(0);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStorageError) << result.message;
  EXPECT_TRUE(h.transport.sent().empty());
  FaultVfs::get().reset();
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST_F(StorageFaults, AnAsynchronousBufferThatCannotBeCommittedIsAStorageErrorAndIsKept) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    withFaultVfs(o);
    o.asynchronous_recording = true;
  });
  FaultVfs::get().failWritesAfter(0, FaultVfs::Error::kFull);
  // Accepted into the buffer; the committer cannot write them.
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStorageError) << result.message;
  EXPECT_TRUE(h.transport.sent().empty()) << "nothing is sent before the flush succeeds";
  EXPECT_EQ(h.protocol->stats().sessions_failed, 1u);
  FaultVfs::get().reset();
  h.expectNextDeltaSendsAndConverges(5);  // the buffer was kept and committed on retry
}

TEST_F(StorageFaults, AFailedReadWhileStreamingIsAStorageError) {
  ProtocolHarness h(withFaultVfs);
  // More data than SQLite's page cache holds, so streaming reads reach the file.
  for (int i = 0; i < 3000; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, std::string(4000, 'a' + i % 26));
  // Reads fail from the moment the session has begun (when the manager sees Start).
  h.manager.replaceNextAnswer(Message::kStart, [](uint64_t) {
    FaultVfs::get().failReadsAfter(5);
    Message ack;
    ack.mutable_start_ack()->set_status(wire::v1::STATUS_OK);
    ack.mutable_start_ack()->set_session(99);
    return ack.SerializeAsString();
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStorageError) << result.message;
  FaultVfs::get().reset();
  // The abort may have failed too (reads still failing); the next session recovers.
  h.expectNextDeltaSendsAndConverges(3000);  // nothing lost
}

TEST_F(StorageFaults, ACommitFailureAfterEndAckIsReportedAndTheChangesAreSentAgain) {
  ProtocolHarness h(withFaultVfs);
  for (int i = 0; i < 10; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // Disk full from the End delay on: the manager confirms but the queue cannot drop.
  h.clock.scheduleAfter(absl::Milliseconds(500),
                        [] { FaultVfs::get().failWritesAfter(0, FaultVfs::Error::kFull); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStorageError);
  EXPECT_NE(result.message.find("sent again"), std::string::npos) << result.message;
  EXPECT_EQ(h.managerState(), h.module) << "the manager did apply it";
  FaultVfs::get().reset();
  h.record("id3", Operation::kDelete);
  h.expectNextDeltaSendsAndConverges(10);  // all ten resent (idempotent), id3 now as a delete
}

TEST_F(StorageFaults, AnAbortThatFailsIsRecoveredBeforeTheNextSession) {
  ProtocolHarness h(withFaultVfs);
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  h.clock.scheduleAfter(absl::Milliseconds(500), [] { FaultVfs::get().failWritesAfter(0); });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kManagerError);
  FaultVfs::get().reset();
  h.expectNextDeltaSendsAndConverges(5);
}

TEST_F(StorageFaults, AFailedReadDuringARetransmissionIsAStorageError) {
  ProtocolHarness h(withFaultVfs);
  // More data than SQLite's page cache holds, so re-reading seq 0 at the end reaches the
  // file.
  for (int i = 0; i < 3000; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, std::string(4000, 'a' + i % 26));
  // The manager asks for seq 0 again, and from that moment reads fail.
  h.manager.replaceNextEndAnswer([](uint64_t session) {
    FaultVfs::get().failReadsAfter(0);
    return reqRet(session, {{0, 0}});
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStorageError) << result.message;
  EXPECT_EQ(result.retransmitted, 0u) << "nothing could be read to resend";
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "no End after a failed retransmission";
  EXPECT_TRUE(h.managerState().empty()) << "the manager applied nothing";
  FaultVfs::get().reset();
  h.expectNextDeltaSendsAndConverges(3000);  // nothing lost
}

}  // namespace
}  // namespace asp
