// ReqRet, the manager's request to send seqs again (docs/protocol.md §5 step 4): unsorted
// and overlapping ranges, stale and genuine repeats, the grace wait before serving a
// repeat, and ReqRets on sessions that carry no data.
#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using testing::reqRet;
using wire::v1::Message;

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

// Frames sent between the first End and the second: the retransmission.
std::vector<Message> retransmissionFrames(const ProtocolHarness& h) {
  std::vector<Message> frames;
  int ends = 0;
  for (const Message& m : h.transport.sent()) {
    ends += m.has_end() ? 1 : 0;
    if (ends == 1 && !m.has_end()) frames.push_back(m);
  }
  return frames;
}

TEST(ReqRet, ValuesOfManyRangesArePackedIntoFullFrames) {
  ProtocolHarness h;
  for (int i = 0; i < 2000; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, std::string(100, 'x'));
  // Every tenth value lost: 200 ranges of one seq each.
  std::set<uint64_t> lost;
  for (uint64_t seq = 0; seq < 2000; seq += 10) lost.insert(seq);
  h.manager.loseSeqsOnce(lost);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 200u);
  const std::vector<Message> frames = retransmissionFrames(h);
  size_t values = 0;
  for (const Message& m : frames) values += m.data_batch().values_size();
  EXPECT_EQ(values, 200u);
  // 200 values of ~140 encoded bytes fill a 60 KiB frame about 400 times over: one frame
  // (one per range, 200 frames, before packing across ranges).
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_EQ(h.managerState(), h.module);
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
  ProtocolHarness h(
      [](AgentSyncProtocol::Options& o) { o.session.sync_end_delay = absl::ZeroDuration(); });
  start(h);
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.protocol->stop(); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kStopped) << result.message;
  EXPECT_EQ(result.retransmitted, 1u) << "the repeat was not served";
  EXPECT_EQ(h.manager.received(Message::kEnd), 2);
  EXPECT_EQ(h.pending(), 10u);
}

TEST_F(GraceWait, AnInvalidAnswerDuringItFailsTheSession) {
  ProtocolHarness h(
      [](AgentSyncProtocol::Options& o) { o.session.sync_end_delay = absl::ZeroDuration(); });
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

}  // namespace
}  // namespace asp
