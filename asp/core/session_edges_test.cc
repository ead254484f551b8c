// Less travelled branches of the lifecycle: storage failures at each step, answers
// that break the protocol, unusual ReqRets, late answers during backoff, FULL with
// losses, asynchronous recording, and duplicate clean indices.
#include <atomic>
#include <set>

#include "asp/core/protocol_harness.h"
#include "asp/testing/fault_vfs.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::kIndex;
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
  for (int i = 0; i < 3000; ++i) h.record("id" + std::to_string(i), Operation::kCreate, std::string(4000, 'a' + i % 26));
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
  h.clock.scheduleAfter(absl::Milliseconds(500), [] {
    FaultVfs::get().failWritesAfter(0, FaultVfs::Error::kFull);
  });
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
  for (int i = 0; i < 3000; ++i) h.record("id" + std::to_string(i), Operation::kCreate, std::string(4000, 'a' + i % 26));
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

std::string startAck(wire::v1::Status status, uint64_t session) {
  Message m;
  m.mutable_start_ack()->set_status(status);
  m.mutable_start_ack()->set_session(session);
  return m.SerializeAsString();
}

TEST(ProtocolViolations, AStartAckWithoutStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextAnswer(Message::kStart, [](uint64_t) {
    return startAck(wire::v1::STATUS_UNSPECIFIED, 5);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("StartAck.status"), std::string::npos) << result.message;
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AnOkStartAckWithoutSessionFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextAnswer(Message::kStart, [](uint64_t) { return startAck(wire::v1::STATUS_OK, 0); });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kProtocolError);
}

TEST(ProtocolViolations, AnEndAckWithoutStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextEndAnswer([](uint64_t session) {
    Message m;
    m.mutable_end_ack()->set_session(session);
    return m.SerializeAsString();
  });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kProtocolError);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AStartAckWithAnUnknownStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextAnswer(Message::kStart, [](uint64_t) {
    return startAck(static_cast<wire::v1::Status>(42), 5);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("StartAck.status has unknown value 42"), std::string::npos)
      << result.message;
  EXPECT_EQ(h.manager.received(Message::kDataBatch), 0);
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "not retried";
  EXPECT_EQ(h.protocol->stats().answers_malformed, 1u);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AnEndAckWithAnUnknownStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextEndAnswer([](uint64_t session) {
    Message m;
    m.mutable_end_ack()->set_status(static_cast<wire::v1::Status>(42));
    m.mutable_end_ack()->set_session(session);
    return m.SerializeAsString();
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("EndAck.status has unknown value 42"), std::string::npos)
      << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "not retried";
  EXPECT_EQ(h.protocol->stats().answers_malformed, 1u);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AChecksumMismatchStartAckIsAProtocolError) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.answerStartsWith(wire::v1::STATUS_CHECKSUM_MISMATCH, 1);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("STATUS_CHECKSUM_MISMATCH"), std::string::npos) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "not retried";
  EXPECT_EQ(h.manager.received(Message::kDataBatch), 0);
  EXPECT_EQ(h.pending(), 1u);
  // Nor does it answer an integrity check: only an EndAck says the checksums differ.
  h.manager.answerStartsWith(wire::v1::STATUS_CHECKSUM_MISMATCH, 1);
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kAborted) << full.status();
  EXPECT_EQ(h.manager.received(Message::kChecksumModule), 0);
}

TEST(ProtocolViolations, AnInvalidAnswerForAnotherSessionIsOnlyCounted) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] {
    Message stray;
    stray.mutable_end_ack()->set_session(123456);  // no status, not our session
    const std::string bytes = stray.SerializeAsString();
    EXPECT_FALSE(h.protocol->parseResponseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()).ok());
  });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.protocol->stats().answers_malformed, 1u);
}

TEST(ReqRet, UnsortedOverlappingRangesResendEachSeqOnceInOrder) {
  ProtocolHarness h;
  for (int i = 0; i < 20; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.replaceNextEndAnswer([](uint64_t session) {
    return reqRet(session, {{10, 12}, {2, 3}, {11, 14}, {3, 3}, {15, 15}});
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  std::vector<uint64_t> resent;
  int ends = 0;
  for (const Message& m : h.transport.sent()) {
    ends += m.has_end() ? 1 : 0;
    if (ends == 1) {
      for (const auto& v : m.data_batch().values()) resent.push_back(v.seq());
    }
  }
  EXPECT_EQ(resent, (std::vector<uint64_t>{2, 3, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(result.retransmitted, 8u);
}

TEST(ReqRet, AStaleDuplicateArrivingAfterTheRetransmissionIsNotServedTwice) {
  ProtocolHarness h;
  for (int i = 0; i < 50; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.loseSeqsOnce({4, 30});
  // Each answer comes twice; the copy lands after the agent has served the original.
  h.manager.setDuplicateAnswers(true, absl::Milliseconds(50));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 2u) << "the stale copy of the ReqRet is not served";
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(ReqRet, ARepeatedRequestWithNoFresherAnswerIsServedAgain) {
  ProtocolHarness h;
  for (int i = 0; i < 10; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // The first two Ends are answered "send seq 3 again": the second time genuinely (as if
  // the retransmission were lost too), with nothing fresher behind it.
  auto resend3 = [](uint64_t session) { return reqRet(session, {{3, 3}}); };
  h.manager.replaceNextEndAnswer(resend3);
  h.manager.replaceNextEndAnswer(resend3);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 2u) << "served twice: once per genuine request";
  EXPECT_EQ(h.manager.received(Message::kEnd), 3);
  EXPECT_EQ(h.managerState(), h.module);
}

// The grace wait after a repeated ReqRet (see ARepeatedRequestWithNoFresherAnswerIsServedAgain):
// End 1 and End 2 are both answered "send seq 3 again"; the agent then waits up to
// min(timeout, 1 s) for a fresher answer before serving the repeat.
class GraceWait : public ::testing::Test {
 protected:
  void start(ProtocolHarness& h) {
    for (int i = 0; i < 10; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
    auto resend3 = [this](uint64_t session) {
      session_ = session;
      return reqRet(session, {{3, 3}});
    };
    h.manager.replaceNextEndAnswer(resend3);
    h.manager.replaceNextEndAnswer(resend3);
  }
  std::atomic<uint64_t> session_{0};
};

TEST_F(GraceWait, IsCutToTheTimeoutWhenThatIsShorter) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.timeout = absl::Milliseconds(300);
    o.session.sync_end_delay = absl::ZeroDuration();
  });
  start(h);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 2u);
  EXPECT_GE(result.duration, absl::Milliseconds(300));
  EXPECT_LT(result.duration, absl::Milliseconds(400)) << "a 300 ms grace, not 1 s";
}

TEST_F(GraceWait, StopEndsItAsStopped) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.sync_end_delay = absl::ZeroDuration(); });
  start(h);
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.protocol->stop(); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStopped) << result.message;
  EXPECT_EQ(result.retransmitted, 1u) << "the repeat was not served";
  EXPECT_EQ(h.manager.received(Message::kEnd), 2);
  EXPECT_EQ(h.pending(), 10u);
}

TEST_F(GraceWait, AnInvalidAnswerDuringItFailsTheSession) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.sync_end_delay = absl::ZeroDuration(); });
  start(h);
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] {
    const std::string inverted = reqRet(session_, {{5, 2}});
    (void)h.protocol->parseResponseBuffer(reinterpret_cast<const uint8_t*>(inverted.data()),
                                          inverted.size());
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError) << result.message;
  EXPECT_NE(result.message.find("inverted"), std::string::npos) << result.message;
  EXPECT_EQ(result.retransmitted, 1u);
  EXPECT_EQ(h.pending(), 10u);
}

TEST(ReqRet, OnASessionWithoutDataIsAProtocolError) {
  ProtocolHarness h;
  // [0, 0], but a CHECK has no data.
  h.manager.replaceNextEndAnswer([](uint64_t session) { return reqRet(session, {{0, 0}}); });
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kAborted) << full.status();
  EXPECT_NE(full.status().message().find("protocol error"), absl::string_view::npos);
}

TEST(ReqRet, OnAMetadataOrGroupsSessionIsAProtocolError) {
  for (Mode mode : {Mode::kMetadataDelta, Mode::kGroupCheck}) {
    ProtocolHarness h;
    // [0, 0], but these sessions carry no data.
    h.manager.replaceNextEndAnswer([](uint64_t session) { return reqRet(session, {{0, 0}}); });
    SyncResult result = h.protocol->synchronizeMetadataOrGroups(mode, {kIndex}, 3);
    EXPECT_EQ(result.code, SyncCode::kProtocolError) << modeName(mode) << ": " << result.message;
    EXPECT_EQ(result.retransmitted, 0u);
  }
}

TEST(LateAnswers, AnEndAckArrivingDuringTheBackoffIsAcceptedWithoutResendingEnd) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.timeout = absl::Seconds(10);
    o.session.backoff.initial = absl::Seconds(2);
    o.session.backoff.jitter = 0;
  });
  h.record("a", Operation::kCreate, "1");
  h.manager.setLatency(absl::Seconds(11));  // after the timeout, within the backoff
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 1);
  EXPECT_EQ(h.manager.received(Message::kEnd), 1);
}

TEST(LateAnswers, ProcessingNeitherSpendsNorGivesBackRetries) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.retries = 1;
    o.session.backoff.jitter = 0;
  });
  h.record("a", Operation::kCreate, "1");
  // Start 1: no answer (a retry is spent). Start 2: PROCESSING, then silence.
  h.manager.answerStartsWith(wire::v1::STATUS_PROCESSING, 2);
  h.manager.dropNextAnswers(1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kStartTimeout);
  EXPECT_EQ(h.manager.received(Message::kStart), 2) << "PROCESSING did not restore the spent retry";
}

TEST(LateAnswers, AReqRetArrivingDuringTheEndBackoffIsServedWithoutResendingEnd) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.timeout = absl::Seconds(10);
    o.session.retries = 1;
    o.session.backoff.initial = absl::Seconds(2);
    o.session.backoff.jitter = 0;
  });
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.loseSeqsOnce({2});
  // Every answer comes after the timeout, within the backoff: the StartAck, the ReqRet
  // for seq 2 and the final EndAck are each taken as they come.
  h.manager.setLatency(absl::Seconds(11));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 1u);
  EXPECT_EQ(h.manager.received(Message::kStart), 1);
  EXPECT_EQ(h.manager.received(Message::kEnd), 2) << "the first End, then one after the retransmission";
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(LateAnswers, RepeatedStartAckProcessingEachRenewTheWait) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.timeout = absl::Seconds(15);
    o.session.retries = 0;
  });
  h.record("a", Operation::kCreate, "1");
  // The Start gets PROCESSING at once, then two more 10 s apart, then silence. Each
  // PROCESSING starts a fresh 15 s wait, so the session ends at 20 + 15 s.
  h.manager.answerStartsWith(wire::v1::STATUS_PROCESSING, 1);
  const std::string processing = startAck(wire::v1::STATUS_PROCESSING, 0);
  for (int at : {10, 20}) {
    h.clock.scheduleAfter(absl::Seconds(at), [&h, processing] {
      (void)h.protocol->parseResponseBuffer(reinterpret_cast<const uint8_t*>(processing.data()),
                                            processing.size());
    });
  }
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStartTimeout) << result.message;
  EXPECT_EQ(result.duration, absl::Seconds(35));
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "PROCESSING never resends Start";
  EXPECT_EQ(h.pending(), 1u);
}

// The StartAck for the first Start arrives after the resend. The agent adopts it; the
// manager answered the identical resend with the same session (docs/protocol.md §7), so the
// session goes on and succeeds. (Before the manager knew resends, it replaced the
// session and End was answered ERROR.)
TEST(LateAnswers, AStartAckForAnEarlierStartAfterTheResendIsTheSameSessionAndSucceeds) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.timeout = absl::Seconds(10);
    o.session.retries = 1;
    o.session.backoff.initial = absl::Seconds(1);
    o.session.backoff.jitter = 0;
  });
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // Start 1 at 0 s, resent at 11 s; its StartAck lands at 12 s. The later answers come
  // 12 s late too: within the End backoff, so they are still taken.
  h.manager.setLatency(absl::Seconds(12));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(h.manager.received(Message::kStart), 2);
  EXPECT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.managerState(), h.module);
  EXPECT_EQ(h.pending(), 0u);
}

std::string endAck(wire::v1::Status status, uint64_t session) {
  Message m;
  m.mutable_end_ack()->set_status(status);
  m.mutable_end_ack()->set_session(session);
  return m.SerializeAsString();
}

// Timeout 30 s, one retry, backoff 1 s, End delay 1 s: End 1 at 1.001 s, End 2 at 32.001 s.
void oneRetry(AgentSyncProtocol::Options& o) {
  o.session.timeout = absl::Seconds(30);
  o.session.retries = 1;
  o.session.backoff.initial = absl::Seconds(1);
  o.session.backoff.jitter = 0;
  o.session.sync_end_delay = absl::Seconds(1);
}

// docs/protocol.md §5 step 4: after PROCESSING, a silence resends End after `timeout` without
// spending a retry, until max_processing_wait has passed since the first PROCESSING; the
// reason then says what the manager last answered.
TEST(LateAnswers, ASilenceAfterProcessingSpendsNoRetryUntilMaxProcessingWait) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    oneRetry(o);
    o.session.max_processing_wait = absl::Minutes(2);
  });
  h.record("a", Operation::kCreate, "1");
  // The manager goes silent after the StartAck: End 1 is not answered (the one retry is
  // spent). End 2 (at 32.001 s) gets only PROCESSING, then silence again.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.setSilent(true); });
  h.clock.scheduleAfter(absl::Seconds(10), [&] {
    h.manager.replaceNextEndAnswer(
        [](uint64_t session) { return endAck(wire::v1::STATUS_PROCESSING, session); });
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kEndTimeout) << result.message;
  // End 2's PROCESSING lands at 32.002 s; Ends 3, 4, 5 follow 30 s apart; at 152.002 s,
  // two minutes after the PROCESSING, the session gives up.
  EXPECT_EQ(h.manager.received(Message::kEnd), 5) << "silences after PROCESSING spent no retry";
  EXPECT_EQ(result.duration, absl::Seconds(152) + absl::Milliseconds(2));
  EXPECT_NE(result.message.find("1 Ends answered PROCESSING, then silence"), std::string::npos)
      << result.message;
  EXPECT_EQ(h.pending(), 1u);
}

// A manager that answers every End once with PROCESSING and then needs a resend to
// answer again: all of them were answered, so none spends a retry.
TEST(LateAnswers, AManagerAnsweringEachEndWithProcessingOnceStillSucceeds) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    oneRetry(o);
    o.session.retries = 0;
  });
  h.record("a", Operation::kCreate, "1");
  // Ends 1..6 each get one PROCESSING and no more; End 7 gets the real answer.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] {
    for (int i = 0; i < 6; ++i) {
      h.manager.replaceNextEndAnswer(
          [](uint64_t session) { return endAck(wire::v1::STATUS_PROCESSING, session); });
    }
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 7);
  EXPECT_EQ(h.managerState(), h.module);
}

// docs/protocol.md §5 step 4: the wait is bounded from the first PROCESSING even when the
// manager keeps answering PROCESSING within every timeout.
TEST(LateAnswers, AManagerForeverProcessingIsGivenUpAfterMaxProcessingWait) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    oneRetry(o);
    o.session.max_processing_wait = absl::Minutes(1);
  });
  h.record("a", Operation::kCreate, "1");
  h.manager.answerEndsWith(wire::v1::STATUS_PROCESSING, 1000, absl::Seconds(10));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kEndTimeout) << result.message;
  EXPECT_NE(result.message.find("still applying 1m"), std::string::npos) << result.message;
  EXPECT_LE(result.duration, absl::Seconds(1) + absl::Minutes(1) + absl::Milliseconds(10));
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "answered all along: End never resent";
  EXPECT_EQ(h.pending(), 1u);
}

// PROCESSING followed by ERROR: the reason names both.
TEST(LateAnswers, ProcessingThenErrorNamesBoth) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextEndAnswer(
      [](uint64_t session) { return endAck(wire::v1::STATUS_PROCESSING, session); });
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);  // End 2, resent after the silence
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_NE(result.message.find("after 1 PROCESSING"), std::string::npos) << result.message;
  EXPECT_EQ(h.pending(), 1u);
}

TEST(LateAnswers, AReqRetRoundRenewsTheEndRetryBudget) {
  ProtocolHarness h(oneRetry);
  h.record("a", Operation::kCreate, "1");
  // End 1: no answer (the one retry is spent). End 2: ReqRet for seq 0. End 3, sent after
  // the retransmission: no answer again, so it needs a renewed retry. End 4: answered.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.setSilent(true); });
  h.clock.scheduleAfter(absl::Seconds(10), [&] {
    h.manager.replaceNextEndAnswer([](uint64_t session) { return reqRet(session, {{0, 0}}); });
  });
  h.clock.scheduleAfter(absl::Seconds(62) + absl::Milliseconds(500),
                        [&] { h.manager.setSilent(false); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 1u);
  EXPECT_EQ(h.manager.received(Message::kEnd), 4);
  EXPECT_EQ(h.pending(), 0u);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(FullSync, LostDataIsRetransmittedFromTheRecoverySet) {
  ProtocolHarness h;
  for (int i = 0; i < 500; ++i) {
    const std::string id = "doc" + std::to_string(i);
    ASSERT_TRUE(h.protocol->persistDifferenceInMemory(id, Operation::kCreate, kIndex, "v", 1).ok());
    h.module[kIndex][id] = manager::Document{"v", 1};
  }
  h.manager.loseDataRandomly(0.1, 8);
  SyncResult result = h.protocol->synchronizeModule(Mode::kFull);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, h.manager.dataLost());
  EXPECT_GT(result.retransmitted, 0u);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(AsynchronousRecording, ASessionIncludesEverythingRecordedBeforeIt) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.asynchronous_recording = true; });
  for (int i = 0; i < 2000; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 2000u);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(Refusals, BadArgumentsAreNeitherSentNorCountedAsSessions) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kCheck).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->checkIntegrity("", h.moduleChecksum()).code, SyncCode::kInvalidArgument);
  SyncResult bad_checksum = h.protocol->checkIntegrity(kIndex, "ABC");
  EXPECT_EQ(bad_checksum.code, SyncCode::kInvalidArgument);
  EXPECT_NE(bad_checksum.message.find("'ABC'"), std::string::npos) << bad_checksum.message;
  EXPECT_EQ(h.protocol->requiresFullSync(kIndex, "ABC").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->notifyDataClean({}).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->notifyDataClean({kIndex, ""}).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kDelta, {kIndex}, 1).code,
            SyncCode::kInvalidArgument);
  EXPECT_TRUE(h.transport.sent().empty()) << "nothing reached the manager";
  const Stats stats = h.protocol->stats();
  EXPECT_EQ(stats.sessions_ok + stats.sessions_failed, 0u);
  EXPECT_EQ(stats.last_failure, "");
  EXPECT_EQ(h.pending(), 1u) << "the queue is untouched";
}

TEST(DataClean, RepeatedIndexNamesAreCleanedOnce) {
  ProtocolHarness h;
  SyncResult result = h.protocol->notifyDataClean({kIndex, "other", kIndex});
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 2u);
  EXPECT_EQ(h.transport.count(Message::kDataClean), 2);
}

}  // namespace
}  // namespace asp
