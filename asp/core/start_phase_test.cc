// The Start phase (docs/protocol.md §5 step 2): silence, backoff and its jitter, late
// StartAcks, OFFLINE, ERROR and PROCESSING answers, a Start that cannot be sent; on the
// simulated clock.
#include <algorithm>
#include <cmath>
#include <vector>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::exactTiming;
using testing::ProtocolHarness;
using wire::v1::Message;

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

// PROCESSING followed by ERROR: the session fails at the ERROR, Start is not resent, and
// the reason names both (docs/lifecycle.md, decision 20).
TEST(StartPhase, ProcessingThenErrorIsAManagerErrorNamingBoth) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextAnswer(Message::kStart, [&](uint64_t) {
    h.clock.scheduleAfter(absl::Seconds(5), [&] {
      const std::string error = testing::startAck(wire::v1::STATUS_ERROR, 0);
      (void)h.protocol->parseResponseBuffer(reinterpret_cast<const uint8_t*>(error.data()),
                                            error.size());
    });
    return testing::startAck(wire::v1::STATUS_PROCESSING, 0);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_EQ(result.message, "the manager answered ERROR to Start after 1 PROCESSING");
  EXPECT_EQ(h.manager.received(Message::kStart), 1);
  EXPECT_EQ(result.duration, absl::Seconds(5)) << "no timeout waited out";
  EXPECT_EQ(h.pending(), 1u);
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

}  // namespace
}  // namespace asp
