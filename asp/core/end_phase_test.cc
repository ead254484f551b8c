// The End phase (docs/protocol.md §5 step 4): PROCESSING, OFFLINE, ERROR and
// CHECKSUM_MISMATCH answers, a lost EndAck, silence and backoff, and when End is sent
// (sync_end_delay, and at once after a retransmission); on the simulated clock.
#include <vector>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::exactTiming;
using testing::ProtocolHarness;
using wire::v1::Message;

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
  ProtocolHarness h(
      [](AgentSyncProtocol::Options& o) { o.session.sync_end_delay = absl::Seconds(3); });
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

}  // namespace
}  // namespace asp
