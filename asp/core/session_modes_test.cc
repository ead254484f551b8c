// Integrity checks and full recovery (docs/protocol.md §5.1), metadata and groups (§5.2),
// data cleans (§5.3) and FULL syncs.
#include "asp/base/checksum.h"
#include "asp/core/protocol_harness.h"
#include "asp/testing/state_drift.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kAgent;
using testing::kIndex;
using testing::kModule;
using testing::ProtocolHarness;
using wire::v1::Message;

// The module re-sends everything it holds: the recovery of §5.1.
void recover(ProtocolHarness& h) {
  h.protocol->clearInMemoryData();
  for (const auto& [index, documents] : h.module) {
    for (const auto& [id, doc] : documents) {
      ASSERT_TRUE(
          h.protocol
              ->persistDifferenceInMemory(id, Operation::kCreate, index, doc.data, doc.version)
              .ok());
    }
  }
}

TEST(IntegrityCheck, MatchingChecksumsNeedNoFullSync) {
  ProtocolHarness h;
  for (int i = 0; i < 20; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, "v" + std::to_string(i));
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_FALSE(*full);
  // Start(CHECK, size 0, [index]) -> ChecksumModule -> End.
  std::vector<Message> sent = h.transport.sent();
  std::vector<Message> check(sent.end() - 3, sent.end());
  EXPECT_EQ(check[0].start().mode(), wire::v1::MODE_CHECK);
  EXPECT_EQ(check[0].start().size(), 0u);
  EXPECT_EQ(check[0].start().indices(0), kIndex);
  EXPECT_EQ(check[1].checksum_module().checksum(), h.moduleChecksum());
  EXPECT_TRUE(check[2].has_end());
}

TEST(IntegrityCheck, FullRecoveryAfterChecksumMismatch) {
  ProtocolHarness h;
  for (int i = 0; i < 50; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, "v" + std::to_string(i));
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  // The manager's copy drifts: one document altered, one lost, one extra.
  ASSERT_TRUE(
      testing::putDocument(h.manager.store(), {kAgent, kModule}, kIndex, "id3", {"damaged", 9})
          .ok());
  ASSERT_TRUE(testing::removeDocument(h.manager.store(), {kAgent, kModule}, kIndex, "id4").ok());
  ASSERT_TRUE(
      testing::putDocument(h.manager.store(), {kAgent, kModule}, kIndex, "ghost", {"boo", 1}).ok());
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_TRUE(*full);

  recover(h);
  SyncResult result = h.protocol->synchronizeModule(Mode::kFull);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 50u);
  EXPECT_EQ(h.managerState(), h.module);
  absl::StatusOr<bool> again = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST(IntegrityCheck, FailureIsAnErrorNotAMismatch) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.retries = 0; });
  h.manager.setSilent(true);
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, sha1Hex(""));
  EXPECT_EQ(full.status().code(), absl::StatusCode::kDeadlineExceeded) << full.status();
  h.manager.setSilent(false);
  h.manager.answerStartsWith(wire::v1::STATUS_OFFLINE, 1);
  full = h.protocol->requiresFullSync(kIndex, sha1Hex(""));
  EXPECT_EQ(full.status().code(), absl::StatusCode::kUnavailable) << full.status();
}

TEST(IntegrityCheck, RejectsBadArguments) {
  ProtocolHarness h;
  absl::StatusOr<bool> no_index = h.protocol->requiresFullSync("", sha1Hex(""));
  EXPECT_EQ(no_index.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<bool> bad = h.protocol->requiresFullSync(kIndex, "not-a-sha1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not-a-sha1"), absl::string_view::npos);
  EXPECT_TRUE(h.transport.sent().empty());
}

TEST(FullSync, ReplacesTheListedIndicesExactly) {
  ProtocolHarness h;
  h.record("keep", Operation::kCreate, "1", "other-index");
  h.record("old", Operation::kCreate, "1");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  // The module's truth for kIndex is now {"a", "b"}; "old" must disappear.
  h.module[kIndex] = {{"a", {"A", 1}}, {"b", {"B", 1}}};
  ASSERT_TRUE(h.protocol->persistDifferenceInMemory("a", Operation::kCreate, kIndex, "A", 1).ok());
  ASSERT_TRUE(h.protocol->persistDifferenceInMemory("b", Operation::kCreate, kIndex, "B", 1).ok());
  SyncResult result = h.protocol->synchronizeModule(Mode::kFull);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  const std::vector<Message> sent = h.transport.sent();
  const Message start = sent[sent.size() - 3];  // Start, one DataBatch, End
  ASSERT_TRUE(start.has_start());
  EXPECT_EQ(start.start().mode(), wire::v1::MODE_FULL);
  EXPECT_EQ(start.start().indices(0), kIndex);
  EXPECT_EQ(h.managerState(), h.module) << "other-index untouched, kIndex replaced";
}

TEST(FullSync, EmptyRecoverySetHasNothingToDo) {
  ProtocolHarness h;
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kNothingToDo);
  EXPECT_TRUE(h.transport.sent().empty());
}

TEST(FullSync, FailureKeepsTheRecoverySetForARetry) {
  ProtocolHarness h;
  h.module[kIndex] = {{"a", {"A", 1}}};
  ASSERT_TRUE(h.protocol->persistDifferenceInMemory("a", Operation::kCreate, kIndex, "A", 1).ok());
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kManagerError);
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kOk);
  EXPECT_EQ(h.managerState(), h.module);
}

// The recovery of §5.1 run again after a failed FULL: the failed session put its documents
// back, and clearInMemoryData() forgets them, so the next FULL carries exactly what the
// module records again; a document it no longer holds is not sent.
TEST(FullSync, ClearingTheRecoverySetAfterAFailedFullForgetsWhatTheFailureGaveBack) {
  ProtocolHarness h;
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(h.protocol->persistDifferenceInMemory(id, Operation::kCreate, kIndex, id, 1).ok());
  }
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kManagerError);

  h.protocol->clearInMemoryData();
  const size_t sent = h.transport.sent().size();
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kNothingToDo);
  EXPECT_EQ(h.transport.sent().size(), sent) << "nothing came back after the clear";

  h.module[kIndex] = {{"a", {"a", 1}}, {"b", {"b", 1}}};  // "c" is gone meanwhile
  recover(h);
  SyncResult result = h.protocol->synchronizeModule(Mode::kFull);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 2u);
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

TEST(DataClean, EmptiesTheIndexOnTheManagerAndDropsItsQueuedChanges) {
  ProtocolHarness h;
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.record("x", Operation::kCreate, "v", "other-index");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  h.record("pending", Operation::kCreate, "v");  // made obsolete by the clean
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 1u);
  h.module.erase(kIndex);
  EXPECT_EQ(h.managerState(), h.module);
  EXPECT_EQ(h.pending(), 0u);
  std::vector<Message> sent = h.transport.sent();
  const Message& clean = sent[sent.size() - 2];
  ASSERT_TRUE(clean.has_data_clean());
  EXPECT_EQ(clean.data_clean().index(), kIndex);
  EXPECT_EQ(clean.data_clean().seq(), 0u);
}

TEST(DataClean, ChangesRecordedDuringTheCleanSurviveIt) {
  ProtocolHarness h;
  h.record("old", Operation::kCreate, "v");
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.record("new", Operation::kCreate, "v"); });
  ASSERT_TRUE(h.protocol->notifyDataClean({kIndex}).ok());
  EXPECT_EQ(h.pending(), 1u);
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  h.module[kIndex].erase("old");
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(DataClean, LostCleanIsRetransmitted) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "v", "idx-1");
  h.record("b", Operation::kCreate, "v", "idx-2");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  h.manager.loseSeqsOnce({1});
  SyncResult result = h.protocol->notifyDataClean({"idx-1", "idx-2"});
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 1u);
  EXPECT_TRUE(h.managerState().empty());
}

TEST(DataClean, FailureKeepsTheQueuedChanges) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "v");
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  EXPECT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kManagerError);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(DataClean, RejectsEmptyArguments) {
  ProtocolHarness h;
  EXPECT_EQ(h.protocol->notifyDataClean({}).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->notifyDataClean({kIndex, ""}).code, SyncCode::kInvalidArgument);
  EXPECT_TRUE(h.transport.sent().empty());
}

TEST(DataClean, ModuleWithNoDocumentsRecoversWithACleanInsteadOfAFullSync) {
  ProtocolHarness h;
  ASSERT_TRUE(
      testing::putDocument(h.manager.store(), {kAgent, kModule}, kIndex, "stale", {"x", 1}).ok());
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(*full);
  ASSERT_TRUE(h.protocol->notifyDataClean({kIndex}).ok());
  EXPECT_FALSE(*h.protocol->requiresFullSync(kIndex, h.moduleChecksum()));
}

TEST(DataClean, RepeatedIndexNamesAreCleanedOnce) {
  ProtocolHarness h;
  SyncResult result = h.protocol->notifyDataClean({kIndex, "other", kIndex});
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 2u);
  EXPECT_EQ(h.transport.count(Message::kDataClean), 2);
}

class MetadataOrGroups : public ::testing::TestWithParam<std::pair<Mode, wire::v1::Mode>> {};

TEST_P(MetadataOrGroups, StartAckEndEndAckWithAgentInfoAndGlobalVersion) {
  ProtocolHarness h;
  const auto [mode, wire_mode] = GetParam();
  SyncResult result = h.protocol->synchronizeMetadataOrGroups(mode, {"idx-a", "idx-b"}, 42);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  std::vector<Message> sent = h.transport.sent();
  ASSERT_EQ(sent.size(), 2u) << "Start and End, no data";
  EXPECT_EQ(sent[0].start().mode(), wire_mode);
  EXPECT_EQ(sent[0].start().size(), 0u);
  EXPECT_EQ(sent[0].start().global_version(), 42u);
  EXPECT_EQ(sent[0].start().indices_size(), 2);
  EXPECT_EQ(sent[0].start().agent().id(), kAgent);
  EXPECT_TRUE(sent[1].has_end());
  absl::StatusOr<manager::AgentMetadata> stored = h.manager.store().metadata({kAgent, kModule});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->global_version, 42u);
  EXPECT_EQ(stored->mode, wire::v1::Mode_Name(wire_mode));
}

INSTANTIATE_TEST_SUITE_P(
    EveryMode, MetadataOrGroups,
    ::testing::Values(std::make_pair(Mode::kMetadataDelta, wire::v1::MODE_METADATA_DELTA),
                      std::make_pair(Mode::kMetadataCheck, wire::v1::MODE_METADATA_CHECK),
                      std::make_pair(Mode::kGroupDelta, wire::v1::MODE_GROUP_DELTA),
                      std::make_pair(Mode::kGroupCheck, wire::v1::MODE_GROUP_CHECK)));

TEST(MetadataOrGroupsArguments, RejectsOtherModes) {
  ProtocolHarness h;
  for (Mode mode : {Mode::kFull, Mode::kDelta, Mode::kCheck}) {
    EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(mode, {}, 1).code,
              SyncCode::kInvalidArgument);
  }
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kCheck).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kGroupDelta).code, SyncCode::kInvalidArgument);
  EXPECT_TRUE(h.transport.sent().empty());
}

TEST(MetadataOrGroupsArguments, ARefusedSessionReportsManagerNotReady) {
  ProtocolHarness h;
  h.manager.answerStartsWith(wire::v1::STATUS_OFFLINE, 1);
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kGroupDelta, {}, 1).code,
            SyncCode::kManagerNotReady);
}

}  // namespace
}  // namespace asp
