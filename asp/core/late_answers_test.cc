// Answers that come late, during the backoff or after a resend, and PROCESSING answers
// (docs/protocol.md §5 steps 2 and 4): what each does to the wait, the retry budget and
// the session's outcome, on the simulated clock.
#include <string>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::endAck;
using testing::ProtocolHarness;
using testing::reqRet;
using testing::startAck;
using wire::v1::Message;

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
  EXPECT_EQ(h.manager.received(Message::kEnd), 2)
      << "the first End, then one after the retransmission";
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

// PROCESSING answered to End, then ERROR with no silence between: the session fails at the
// ERROR, End is not resent, nothing is applied, and the reason names both.
TEST(LateAnswers, ProcessingThenErrorWithoutASilenceFailsAtTheError) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextEndAnswer([&](uint64_t session) {
    h.clock.scheduleAfter(absl::Seconds(5), [&h, session] {
      const std::string error = endAck(wire::v1::STATUS_ERROR, session);
      (void)h.protocol->parseResponseBuffer(reinterpret_cast<const uint8_t*>(error.data()),
                                            error.size());
    });
    return endAck(wire::v1::STATUS_PROCESSING, session);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_EQ(result.message, "the manager answered ERROR to End after 1 PROCESSING");
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "End is not resent";
  EXPECT_LT(result.duration, absl::Seconds(30)) << "no timeout waited out";
  EXPECT_TRUE(h.managerState().empty());
  h.expectNextDeltaSendsAndConverges(1);
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

}  // namespace
}  // namespace asp
