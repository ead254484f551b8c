// Every way the manager or the transport can fail a session, and what the agent does
// about it (docs/protocol.md §5, steps 2 and 4), on the simulated clock.
#include <algorithm>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using testing::reqRet;
using wire::v1::Message;

// Timeout 30 s, retries 3, backoff 1 s doubling to 30 s, no jitter: exact times.
void exactTiming(AgentSyncProtocol::Options& o) {
  o.session.timeout = absl::Seconds(30);
  o.session.retries = 3;
  o.session.backoff.initial = absl::Seconds(1);
  o.session.backoff.cap = absl::Seconds(30);
  o.session.backoff.jitter = 0;
  o.session.sync_end_delay = absl::Seconds(1);
}

std::string encode(const Message& m) { return m.SerializeAsString(); }

std::string startAckOk(uint64_t session) {
  Message m;
  m.mutable_start_ack()->set_status(wire::v1::STATUS_OK);
  m.mutable_start_ack()->set_session(session);
  return encode(m);
}

TEST(StartPhase, SilenceResendsStartWithGrowingBackoffThenTimesOut) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  h.manager.setSilent(true);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStartTimeout);
  std::vector<absl::Duration> starts = h.manager.arrivals(Message::kStart);
  ASSERT_EQ(starts.size(), 4u) << "the first Start and 3 retries";
  EXPECT_EQ(starts[1] - starts[0], absl::Seconds(30 + 1));
  EXPECT_EQ(starts[2] - starts[1], absl::Seconds(30 + 2));
  EXPECT_EQ(starts[3] - starts[2], absl::Seconds(30 + 4));
  EXPECT_EQ(result.duration, absl::Seconds(4 * 30 + 1 + 2 + 4));
  EXPECT_EQ(h.pending(), 1u) << "the change stays queued";
}

TEST(StartPhase, BackoffIsCappedAndJitteredWithinBounds) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.timeout = absl::Seconds(1);
    o.session.retries = 8;
    o.session.backoff.initial = absl::Seconds(1);
    o.session.backoff.cap = absl::Seconds(10);
    o.session.backoff.jitter = 0.2;
    o.session.backoff.seed = 99;
  });
  h.record("a", Operation::kCreate, "1");
  h.manager.setSilent(true);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kStartTimeout);
  std::vector<absl::Duration> starts = h.manager.arrivals(Message::kStart);
  ASSERT_EQ(starts.size(), 9u);
  for (size_t i = 1; i < starts.size(); ++i) {
    const double base = std::min(10.0, std::pow(2.0, static_cast<double>(i - 1)));
    const double pause = absl::ToDoubleSeconds(starts[i] - starts[i - 1]) - 1.0;
    EXPECT_GE(pause, base * 0.8 - 1e-9) << "retry " << i;
    EXPECT_LE(pause, base * 1.2 + 1e-9) << "retry " << i;
  }
}

TEST(StartPhase, LateStartAckDuringBackoffIsAcceptedWithoutResending) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  h.manager.setLatency(absl::Seconds(30) + absl::Milliseconds(500));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 1);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(StartPhase, OfflineIsManagerNotReadyAndKeepsTheQueue) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.answerStartsWith(wire::v1::STATUS_OFFLINE, 1);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kManagerNotReady);
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "fails at once, no retry";
  EXPECT_EQ(h.pending(), 1u);
  EXPECT_EQ(toStatus(result).code(), absl::StatusCode::kUnavailable);
}

TEST(StartPhase, ErrorIsManagerError) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.answerStartsWith(wire::v1::STATUS_ERROR, 1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kManagerError);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(StartPhase, ProcessingKeepsWaitingWithoutSpendingARetry) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    exactTiming(o);
    o.session.retries = 1;
  });
  h.record("a", Operation::kCreate, "1");
  // The first Start only gets PROCESSING and then silence; had PROCESSING spent the
  // one retry, the timeout that follows would end the session.
  h.manager.answerStartsWith(wire::v1::STATUS_PROCESSING, 1);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 2);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(StartPhase, TransportFailureFailsFastAndKeepsTheQueue) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.transport.failNextSends(1);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError);
  EXPECT_EQ(result.duration, absl::ZeroDuration());
  EXPECT_EQ(h.pending(), 1u);
}

// A send that fails after Start fails the session at once with kTransportError (no
// retry, no backoff), and the frozen changes go back to the queue for the next sync.
// Failed sends are not recorded by the transport, so counts show what did go out.

TEST(TransportFailure, ADataFrameThatCannotBeSentFailsAtOnceAndKeepsTheQueue) {
  ProtocolHarness h(exactTiming);
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // The StartAck arms the failure, so it hits the send that follows Start: the data frame.
  h.manager.replaceNextAnswer(Message::kStart, [&](uint64_t) {
    h.transport.failNextSends(1);
    return startAckOk(7);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_NE(result.message.find("send failed"), std::string::npos) << result.message;
  EXPECT_EQ(h.transport.count(Message::kDataBatch), 0) << "the frame is not sent again";
  EXPECT_EQ(h.transport.count(Message::kEnd), 0) << "the session ends there";
  EXPECT_EQ(result.duration, absl::Milliseconds(1)) << "no wait after the StartAck";
  EXPECT_EQ(h.pending(), 5u);
  h.expectNextDeltaSendsAndConverges(5);
}

TEST(TransportFailure, AnEndThatCannotBeSentFailsAtOnceAndKeepsTheQueue) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  // Armed during the End delay, after the data went out.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.transport.failNextSends(1); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(h.manager.received(Message::kDataBatch), 1);
  EXPECT_EQ(h.manager.received(Message::kEnd), 0) << "End is not sent again";
  EXPECT_EQ(result.duration, absl::Seconds(1) + absl::Milliseconds(1))
      << "fails when End is due, with no timeout or backoff after it";
  EXPECT_EQ(h.pending(), 1u);
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(TransportFailure, AResentEndThatCannotBeSentFailsAndTheNextSyncSendsEverythingAgain) {
  ProtocolHarness h(exactTiming);
  for (int i = 0; i < 3; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // The first EndAck is lost; the End resent after 30 s + 1 s of backoff cannot be sent.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.dropNextAnswers(1); });
  h.clock.scheduleAfter(absl::Seconds(10), [&] { h.transport.failNextSends(1); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 1);
  EXPECT_EQ(result.duration, absl::Seconds(1 + 30 + 1) + absl::Milliseconds(1))
      << "fails at the resend, not after the remaining retries";
  // The manager did apply the first End; the agent cannot know, so it sends them again.
  EXPECT_EQ(h.pending(), 3u);
  h.expectNextDeltaSendsAndConverges(3);
}

TEST(TransportFailure, ARetransmissionThatCannotBeSentFailsAndKeepsTheQueue) {
  ProtocolHarness h(exactTiming);
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.loseSeqsOnce({2});
  // The manager asks for seq 2 again; the frame carrying it cannot be sent.
  h.manager.replaceNextEndAnswer([&](uint64_t session) {
    h.transport.failNextSends(1);
    return reqRet(session, {{2, 2}});
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(result.retransmitted, 0u);
  EXPECT_EQ(h.transport.count(Message::kDataBatch), 1) << "only the first frame went out";
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "no End after the failed retransmission";
  EXPECT_EQ(h.pending(), 5u);
  h.expectNextDeltaSendsAndConverges(5);
}

TEST(TransportFailure, ADataCleanThatCannotBeSentKeepsTheIndexChanges) {
  ProtocolHarness h;
  for (int i = 0; i < 3; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.replaceNextAnswer(Message::kStart, [&](uint64_t) {
    h.transport.failNextSends(1);
    return startAckOk(7);
  });
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(h.transport.count(Message::kDataClean), 0);
  EXPECT_EQ(h.transport.count(Message::kEnd), 0);
  EXPECT_EQ(h.pending(), 3u) << "the changes the clean froze are pending again";
  ASSERT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kOk);
  EXPECT_EQ(h.pending(), 0u) << "dropped once a clean went through";
}

TEST(TransportFailure, AChecksumThatCannotBeSentIsUnavailableNotAMismatch) {
  ProtocolHarness h;
  h.manager.replaceNextAnswer(Message::kStart, [&](uint64_t) {
    h.transport.failNextSends(1);
    return startAckOk(7);
  });
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kUnavailable) << full.status();
  EXPECT_EQ(h.transport.count(Message::kChecksumModule), 0);
  EXPECT_EQ(h.transport.count(Message::kEnd), 0);
  EXPECT_EQ(h.protocol->stats().sessions_failed, 1u);
}

TEST(EndPhase, ProcessingDoesNotConsumeRetries) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    exactTiming(o);
    o.session.retries = 0;
    o.session.timeout = absl::Seconds(2);
  });
  h.record("a", Operation::kCreate, "1");
  h.manager.answerEndsWith(wire::v1::STATUS_PROCESSING, 5, absl::Seconds(1));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 1);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(EndPhase, OfflineIsManagerNotReady) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.answerEndsWith(wire::v1::STATUS_OFFLINE, 1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kManagerNotReady);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(EndPhase, ErrorIsManagerError) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kManagerError);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(EndPhase, ChecksumMismatchOnADeltaIsAFailure) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.answerEndsWith(wire::v1::STATUS_CHECKSUM_MISMATCH, 1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kChecksumMismatch);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(EndPhase, LostEndAckIsRecoveredByResendingEnd) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  // Let the StartAck through, drop the first EndAck.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.dropNextAnswers(1); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 2);
  EXPECT_EQ(h.manager.counters().sessions_applied, 1u) << "applied once, answered twice";
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(EndPhase, SilenceResendsEndWithBackoffThenTimesOut) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.setSilent(true); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kEndTimeout);
  std::vector<absl::Duration> ends = h.manager.arrivals(Message::kEnd);
  ASSERT_EQ(ends.size(), 4u);
  EXPECT_EQ(ends[1] - ends[0], absl::Seconds(31));
  EXPECT_EQ(ends[2] - ends[1], absl::Seconds(32));
  EXPECT_EQ(ends[3] - ends[2], absl::Seconds(34));
  EXPECT_EQ(h.pending(), 1u);
}

TEST(EndPhase, EndWaitsForTheConfiguredDelay) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.sync_end_delay = absl::Seconds(3); });
  h.record("a", Operation::kCreate, "1");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  std::vector<absl::Duration> batches = h.manager.arrivals(Message::kDataBatch);
  std::vector<absl::Duration> ends = h.manager.arrivals(Message::kEnd);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0] - batches.back(), absl::Seconds(3));
}

TEST(EndPhase, ZeroEndDelaySendsEndRightAfterTheData) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    exactTiming(o);
    o.session.sync_end_delay = absl::ZeroDuration();
  });
  h.record("a", Operation::kCreate, "1");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  std::vector<absl::Duration> batches = h.manager.arrivals(Message::kDataBatch);
  std::vector<absl::Duration> ends = h.manager.arrivals(Message::kEnd);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0], batches.back());
  EXPECT_EQ(result.duration, absl::Milliseconds(2)) << "two answers 1 ms each, nothing else";
}

TEST(EndPhase, AnEndResentAfterARetransmissionIsNotDelayed) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    exactTiming(o);
    o.session.sync_end_delay = absl::Seconds(3);
  });
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.loseSeqsOnce({2});
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  ASSERT_EQ(result.retransmitted, 1u);
  std::vector<absl::Duration> batches = h.manager.arrivals(Message::kDataBatch);
  std::vector<absl::Duration> ends = h.manager.arrivals(Message::kEnd);
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[0] - batches[0], absl::Seconds(3)) << "the first End waits the delay";
  EXPECT_EQ(ends[1], batches[1]) << "the second End follows the retransmission at once";
  EXPECT_EQ(ends[1] - ends[0], absl::Milliseconds(1)) << "just the ReqRet's latency";
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(Answers, WrongSessionIsIgnoredAndCounted) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.corruptSessionOfNextAnswers(1); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 2) << "the wrong-session EndAck did not count";
  EXPECT_GE(h.protocol->stats().answers_ignored, 1u);
}

TEST(Answers, DuplicatesAreIgnoredAndCounted) {
  ProtocolHarness h;
  h.manager.setDuplicateAnswers(true);
  h.manager.loseSeqsOnce({1});
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 1u) << "a duplicated ReqRet is served once";
  EXPECT_GE(h.protocol->stats().answers_ignored, 3u);  // StartAck, ReqRet, EndAck copies
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(Answers, JitteredLateAnswersStillConvergeExactly) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.timeout = absl::Seconds(2);
    o.session.retries = 10;
    o.session.backoff.initial = absl::Milliseconds(100);
  });
  h.manager.setLatencyJitter(absl::Seconds(3), 5);
  h.manager.loseDataRandomly(0.1, 6);
  for (int i = 0; i < 200; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  SyncResult result;
  for (int attempt = 0; attempt < 10 && !(result = h.protocol->synchronizeModule(Mode::kDelta)).ok();
       ++attempt) {
  }
  ASSERT_TRUE(result.ok()) << syncCodeName(result.code) << ": " << result.message;
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(Answers, ReqRetOutOfRangeIsAProtocolError) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  // The session has 1 value: seq 0.
  h.manager.replaceNextEndAnswer([](uint64_t session) { return reqRet(session, {{0, 5}}); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("[0, 5]"), std::string::npos) << result.message;
  EXPECT_EQ(h.pending(), 1u);
}

TEST(Answers, ReqRetWithInvertedRangeIsAProtocolError) {
  ProtocolHarness h;
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.replaceNextEndAnswer([](uint64_t session) { return reqRet(session, {{3, 1}}); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("inverted"), std::string::npos) << result.message;
}

TEST(Answers, ReqRetWithoutRangesIsAProtocolError) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextEndAnswer([](uint64_t session) { return reqRet(session, {}); });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kProtocolError);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(Answers, EndlessReqRetsEndAsAProtocolError) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.max_retransmission_rounds = 3; });
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.loseDataRandomly(1.0, 1);  // nothing ever arrives
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_EQ(result.retransmitted, 15u);
  EXPECT_EQ(h.pending(), 5u);
}

TEST(Pacing, EpsLimitSpacesFramesEvenlyOnTheSimulatedClock) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.max_eps = 10;
    o.session.frame_budget_bytes = 2048;
    o.session.sync_end_delay = absl::ZeroDuration();
  });
  for (int i = 0; i < 100; ++i) h.record("id" + std::to_string(i), Operation::kCreate, std::string(500, 'x'));
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  std::vector<absl::Duration> batches = h.manager.arrivals(Message::kDataBatch);
  ASSERT_GE(batches.size(), 30u);
  for (size_t i = 1; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i] - batches[i - 1], absl::Milliseconds(100)) << "frame " << i;
  }
  EXPECT_EQ(h.managerState(), h.module);
}

// Every message the agent sends takes a token, not only data: Start, End, a
// retransmission and the End after it, DataClean and ChecksumModule.
std::vector<absl::Duration> allArrivals(testing::FakeManager& manager) {
  std::vector<absl::Duration> all;
  for (auto kind : {Message::kStart, Message::kDataBatch, Message::kEnd, Message::kDataClean,
                    Message::kChecksumModule}) {
    for (absl::Duration at : manager.arrivals(kind)) all.push_back(at);
  }
  std::sort(all.begin(), all.end());
  return all;
}

void expectSpacedBy(const std::vector<absl::Duration>& arrivals, absl::Duration gap) {
  for (size_t i = 1; i < arrivals.size(); ++i) {
    EXPECT_GE(arrivals[i] - arrivals[i - 1], gap) << "message " << i;
  }
}

TEST(Pacing, EveryKindOfMessageIsPaced) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.max_eps = 10;
    o.session.sync_end_delay = absl::ZeroDuration();
  });
  h.record("a", Operation::kCreate, "1");
  h.manager.loseSeqsOnce({0});
  SyncResult delta = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(delta.code, SyncCode::kOk) << delta.message;
  ASSERT_EQ(delta.retransmitted, 1u);
  std::vector<absl::Duration> arrivals = allArrivals(h.manager);
  ASSERT_EQ(arrivals.size(), 5u) << "Start, data, End, retransmission, End";
  expectSpacedBy(arrivals, absl::Milliseconds(100));

  // Each session has its own bucket (its Start goes at once), so compare within one.
  for (int session = 0; session < 2; ++session) {
    const size_t before = allArrivals(h.manager).size();
    if (session == 0) {
      ASSERT_EQ(h.protocol->checkIntegrity(kIndex, h.moduleChecksum()).code, SyncCode::kOk);
    } else {
      h.record("a", Operation::kDelete);
      ASSERT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kOk);
    }
    arrivals = allArrivals(h.manager);
    ASSERT_EQ(arrivals.size(), before + 3) << "Start, ChecksumModule or DataClean, End";
    expectSpacedBy({arrivals.begin() + before, arrivals.end()}, absl::Milliseconds(100));
  }
}

TEST(Pacing, ZeroMeansUnlimited) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.frame_budget_bytes = 2048; });
  for (int i = 0; i < 100; ++i) h.record("id" + std::to_string(i), Operation::kCreate, std::string(500, 'x'));
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  std::vector<absl::Duration> batches = h.manager.arrivals(Message::kDataBatch);
  EXPECT_EQ(batches.back() - batches.front(), absl::ZeroDuration());
}

}  // namespace
}  // namespace asp
