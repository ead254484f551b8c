// Metadata and groups sessions (docs/protocol.md §5.2) when the manager does not answer
// or answers ERROR, to Start or to End, in each of the four modes: the call reports it
// with the same code as any session, sends nothing more, and the next call goes through.
#include <string>
#include <utility>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kAgent;
using testing::kModule;
using testing::ProtocolHarness;
using wire::v1::Message;

class MetadataSessions : public ::testing::TestWithParam<std::pair<Mode, wire::v1::Mode>> {
 protected:
  MetadataSessions() : h([](AgentSyncProtocol::Options& o) { o.session.retries = 1; }) {}

  SyncResult sync(uint64_t global_version) {
    return h.protocol->synchronizeMetadataOrGroups(GetParam().first, {"idx-a", "idx-b"},
                                                   global_version);
  }

  // Whether the manager holds a metadata or groups session of this mode and version.
  bool managerHolds(uint64_t global_version) {
    absl::StatusOr<manager::AgentMetadata> stored = h.manager.store().metadata({kAgent, kModule});
    return stored.ok() && stored->global_version == global_version &&
           stored->mode == wire::v1::Mode_Name(GetParam().second);
  }

  // The failed call changed nothing that the next one depends on.
  void expectTheNextCallGoesThrough() {
    SyncResult next = sync(8);
    ASSERT_EQ(next.code, SyncCode::kOk) << next.message;
    EXPECT_TRUE(managerHolds(8));
  }

  ProtocolHarness h;
};

TEST_P(MetadataSessions, AStartTimeoutIsReportedAndTheNextCallGoesThrough) {
  h.manager.setSilent(true);
  SyncResult result = sync(7);
  EXPECT_EQ(result.code, SyncCode::kStartTimeout) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 2) << "Start and one retry";
  EXPECT_EQ(h.manager.received(Message::kEnd), 0);
  EXPECT_FALSE(managerHolds(7));
  h.manager.setSilent(false);
  expectTheNextCallGoesThrough();
}

TEST_P(MetadataSessions, AnEndTimeoutIsReportedAndTheNextCallGoesThrough) {
  // Silent from the End delay on: the StartAck came, no answer to End does.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.setSilent(true); });
  SyncResult result = sync(7);
  EXPECT_EQ(result.code, SyncCode::kEndTimeout) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 1);
  EXPECT_EQ(h.manager.received(Message::kEnd), 2) << "End and one retry";
  h.manager.setSilent(false);
  expectTheNextCallGoesThrough();
}

TEST_P(MetadataSessions, AnErrorToStartIsAManagerErrorAndNoEndIsSent) {
  h.manager.answerStartsWith(wire::v1::STATUS_ERROR, 1);
  SyncResult result = sync(7);
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "an ERROR is not retried";
  EXPECT_EQ(h.manager.received(Message::kEnd), 0);
  EXPECT_FALSE(managerHolds(7));
  expectTheNextCallGoesThrough();
}

TEST_P(MetadataSessions, AnErrorToEndIsAManagerErrorAndNotApplied) {
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  SyncResult result = sync(7);
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "an ERROR is not retried";
  EXPECT_FALSE(managerHolds(7));
  EXPECT_EQ(h.protocol->stats().sessions_failed, 1u);
  expectTheNextCallGoesThrough();
}

INSTANTIATE_TEST_SUITE_P(
    EveryMode, MetadataSessions,
    ::testing::Values(std::make_pair(Mode::kMetadataDelta, wire::v1::MODE_METADATA_DELTA),
                      std::make_pair(Mode::kMetadataCheck, wire::v1::MODE_METADATA_CHECK),
                      std::make_pair(Mode::kGroupDelta, wire::v1::MODE_GROUP_DELTA),
                      std::make_pair(Mode::kGroupCheck, wire::v1::MODE_GROUP_CHECK)));

}  // namespace
}  // namespace asp
