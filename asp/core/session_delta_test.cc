// DELTA sessions end to end against the in-process fake manager (docs/protocol.md §5),
// recorded synchronously or asynchronously.
#include <set>

#include "asp/core/protocol_harness.h"
#include "asp/proto/limits.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kAgent;
using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

TEST(DeltaSession, EndToEndWithManyFrames) {
  ProtocolHarness h;
  for (int i = 0; i < 5000; ++i) {
    h.record("/etc/file-" + std::to_string(i), Operation::kCreate, std::string(200, 'a' + i % 26));
  }
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 5000u);
  EXPECT_GT(h.transport.count(Message::kDataBatch), 10);
  EXPECT_EQ(h.managerState(), h.module);
  EXPECT_EQ(h.pending(), 0u);
  EXPECT_EQ(h.protocol->stats().values_sent, 5000u);
}

TEST(DeltaSession, FramesStayWithinTheBudgetAndSeqsAreInOrder) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.frame_budget_bytes = 4096; });
  for (int i = 0; i < 300; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, std::string(300, 'x'));
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  uint64_t expected_seq = 0;
  for (const Message& m : h.transport.sent()) {
    EXPECT_LE(m.ByteSizeLong() + wire::agentHeaderBytes("fim"), 4096u);
    for (const auto& v : m.data_batch().values()) EXPECT_EQ(v.seq(), expected_seq++);
  }
  EXPECT_EQ(expected_seq, 300u);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, NothingToSendDoesNotContactTheManager) {
  ProtocolHarness h;
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kNothingToDo);
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(h.transport.sent().empty());
}

TEST(DeltaSession, SendsOnlyTheNetEffect) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.record("a", Operation::kModify, "2");
  h.record("b", Operation::kCreate, "1");
  h.record("b", Operation::kDelete);
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).changes, 1u);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, StartCarriesModuleModeSizeIndicesAndAgent) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1", "idx-b");
  h.record("b", Operation::kCreate, "1", "idx-a");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst).ok());
  const Message start = h.transport.sent().front();
  ASSERT_TRUE(start.has_start());
  EXPECT_EQ(start.start().module(), "fim");
  EXPECT_EQ(start.start().mode(), wire::v1::MODE_DELTA);
  EXPECT_EQ(start.start().size(), 2u);
  EXPECT_EQ(
      std::vector<std::string>(start.start().indices().begin(), start.start().indices().end()),
      (std::vector<std::string>{"idx-a", "idx-b"}));
  EXPECT_EQ(start.start().option(), wire::v1::OPTION_VD_FIRST);
  EXPECT_EQ(start.start().agent().id(), kAgent);
  EXPECT_EQ(start.start().agent().groups(0), "default");
}

TEST(DeltaSession, LaterSessionsSendOnlyNewChangesAndDeletes) {
  ProtocolHarness h;
  for (int i = 0; i < 10; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v1");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  h.record("id3", Operation::kModify, "v2");
  h.record("id4", Operation::kDelete);
  SyncResult second = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(second.code, SyncCode::kOk);
  EXPECT_EQ(second.changes, 2u);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, RandomDataLossIsRetransmittedOnRequestAndStateIsExact) {
  ProtocolHarness h;
  h.manager.loseDataRandomly(0.05, 1234);
  for (int i = 0; i < 3000; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, "data" + std::to_string(i));
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_GT(h.manager.dataLost(), 50u);
  EXPECT_EQ(result.retransmitted, h.manager.dataLost()) << "exactly what was lost, no blind resend";
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, ReqRetResendsExactlyTheRequestedSeqs) {
  ProtocolHarness h;
  h.manager.loseSeqsOnce({3, 7, 8, 9});
  for (int i = 0; i < 20; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "d");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  std::vector<Message> sent = h.transport.sent();
  std::set<uint64_t> resent;
  bool after_first_end = false;
  for (const Message& m : sent) {
    if (m.has_end()) {
      if (after_first_end) break;
      after_first_end = true;
    }
    if (after_first_end) {
      for (const auto& v : m.data_batch().values()) EXPECT_TRUE(resent.insert(v.seq()).second);
    }
  }
  EXPECT_EQ(resent, (std::set<uint64_t>{3, 7, 8, 9}));
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, ChangesRecordedDuringASessionAreSentNextTime) {
  ProtocolHarness h;
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v1");
  // During the End delay, the module keeps recording.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] {
    h.record("id1", Operation::kModify, "v2");
    h.record("id2", Operation::kDelete);
    h.record("new", Operation::kCreate, "v1");
  });
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.pending(), 3u);
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, ManagerRestartMidSessionFailsItAndTheNextSyncIsExact) {
  ProtocolHarness h;
  for (int i = 0; i < 100; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v1");
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.restart(); });
  SyncResult failed = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(failed.code, SyncCode::kManagerError) << failed.message;
  EXPECT_EQ(h.pending(), 100u) << "nothing lost";
  h.record("id0", Operation::kDelete);  // sent once, so no longer new: the delete is sent
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, FailedSessionKeepsEverythingForTheNextOne) {
  ProtocolHarness h;
  for (int i = 0; i < 10; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v1");
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kManagerError);
  EXPECT_EQ(h.pending(), 10u);
  EXPECT_TRUE(h.managerState().empty());
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, OversizeChangeIsRefusedAtPersistAndNeverBlocksASession) {
  ProtocolHarness h;
  absl::Status s =
      h.protocol->persistDifference("big", Operation::kCreate, kIndex, std::string(70000, 'x'), 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("70000"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("61440"), absl::string_view::npos) << s;
  h.record("small", Operation::kCreate, "ok");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DeltaSession, LargestChangeThatFitsIsSentInOneFrame) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.frame_budget_bytes = 65536; });
  const size_t data = 65536 - wire::agentHeaderBytes("fim") -
                      (wire::singleValueMessageBytes(3, sizeof(kIndex) - 1, 0) + 3);
  std::string payload(data, 'x');
  while (!h.protocol->persistDifference("big", Operation::kCreate, kIndex, payload, 1).ok()) {
    payload.pop_back();
  }
  h.module[kIndex]["big"] = manager::Document{payload, 1};
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  for (const Message& m : h.transport.sent()) EXPECT_LE(m.ByteSizeLong() + 6, 65536u);
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

}  // namespace
}  // namespace asp
