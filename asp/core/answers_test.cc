// Answers the agent must not take at face value (docs/protocol.md §5): for the wrong
// session, duplicated, late and reordered, and ReqRets out of range, inverted, empty or
// endless.
#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::exactTiming;
using testing::ProtocolHarness;
using testing::reqRet;
using wire::v1::Message;

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
  for (int attempt = 0;
       attempt < 10 && !(result = h.protocol->synchronizeModule(Mode::kDelta)).ok(); ++attempt) {
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

// A ReqRet that comes when no session runs (a late one, for a session already ended) is
// ignored and counted: nothing is sent again, and the next session does not see it.
TEST(Answers, AReqRetWhileIdleIsIgnoredAndSendsNothing) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  SyncResult first = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(first.code, SyncCode::kOk) << first.message;
  const size_t sent = h.transport.sent().size();
  const uint64_t ignored = h.protocol->stats().answers_ignored;
  auto parse = [&](const std::string& bytes) {
    return h.protocol->parseResponseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()),
                                           bytes.size());
  };
  EXPECT_TRUE(parse(reqRet(first.session, {{0, 0}})).ok());
  EXPECT_EQ(h.protocol->stats().answers_ignored, ignored + 1);
  // An invalid one for that session is malformed, and there is no session to fail.
  EXPECT_EQ(parse(reqRet(first.session, {{3, 1}})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.transport.sent().size(), sent) << "nothing is sent while idle";
  EXPECT_EQ(h.pending(), 0u);

  h.record("b", Operation::kCreate, "2");
  SyncResult next = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(next.code, SyncCode::kOk) << next.message;
  EXPECT_EQ(next.changes, 1u);
  EXPECT_EQ(next.retransmitted, 0u) << "the stale ReqRet was not kept for the next session";
  EXPECT_EQ(h.managerState(), h.module);
}

}  // namespace
}  // namespace asp
