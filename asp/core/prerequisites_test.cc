// Prerequisites of a session call: the agent's identity, and for group modes its
// groups. A provider that says "not yet" (Unavailable) makes the call wait, stop-aware
// and bounded by prerequisite_wait, instead of sending a Start with a wrong identity.
#include <atomic>
#include <chrono>
#include <thread>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kAgent;
using testing::kIndex;
using testing::kModule;
using testing::ProtocolHarness;
using wire::v1::Message;

// An agent whose identity is known only once `ready` is set (enrollment finished).
struct Enrollment {
  std::atomic<bool> ready{false};
  std::atomic<int> asked{0};
  bool with_groups = true;

  AgentInfoProvider provider() {
    return [this]() -> absl::StatusOr<AgentInfo> {
      ++asked;
      if (!ready) return absl::UnavailableError("the agent is not enrolled yet");
      AgentInfo info;
      info.id = kAgent;
      if (with_groups) info.groups = {"default"};
      return info;
    };
  }
};

ProtocolHarness::Customize awaiting(Enrollment& enrollment, absl::Duration wait) {
  return [&enrollment, wait](AgentSyncProtocol::Options& o) {
    o.agent_info = enrollment.provider();
    o.session.prerequisite_wait = wait;
    o.session.sync_end_delay = absl::ZeroDuration();
  };
}

TEST(Prerequisites, ACallWaitsForTheIdentityThenSyncsUnderIt) {
  Enrollment enrollment;
  ProtocolHarness h(awaiting(enrollment, absl::Minutes(1)));
  h.record("a", Operation::kCreate, "v");
  // Enrollment completes 5 s (simulated) into the wait.
  h.clock.schedule(h.clock.now() + absl::Seconds(5), [&] { enrollment.ready = true; });
  const absl::Time began = h.clock.now();
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_GE(h.clock.now() - began, absl::Seconds(5));
  EXPECT_GE(enrollment.asked.load(), 2);
  EXPECT_EQ(h.manager.documents({kAgent, kModule}, kIndex).size(), 1u);
}

TEST(Prerequisites, AnIdentityThatNeverComesFailsAsAwaitingPrerequisiteWithoutAStart) {
  Enrollment enrollment;
  ProtocolHarness h(awaiting(enrollment, absl::Seconds(30)));
  h.record("a", Operation::kCreate, "v");
  const absl::Time began = h.clock.now();
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kAwaitingPrerequisite);
  EXPECT_NE(result.message.find("not enrolled yet"), std::string::npos) << result.message;
  EXPECT_EQ(h.clock.now() - began, absl::Seconds(30));
  EXPECT_EQ(h.transport.count(Message::kStart), 0) << "never a Start with a wrong identity";
  EXPECT_EQ(h.pending(), 1u);
  EXPECT_EQ(toStatus(result).code(), absl::StatusCode::kUnavailable);
  enrollment.ready = true;
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(Prerequisites, NothingToSendDoesNotWaitForTheIdentity) {
  Enrollment enrollment;
  ProtocolHarness h(awaiting(enrollment, absl::Seconds(30)));
  const absl::Time began = h.clock.now();
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kNothingToDo);
  EXPECT_EQ(h.clock.now(), began);
}

TEST(Prerequisites, EveryKindOfSessionWaits) {
  Enrollment enrollment;
  ProtocolHarness h(awaiting(enrollment, absl::Seconds(3)));
  EXPECT_EQ(h.protocol->checkIntegrity(kIndex, std::string(40, '0')).code,
            SyncCode::kAwaitingPrerequisite);
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kMetadataDelta, {kIndex}, 1).code,
            SyncCode::kAwaitingPrerequisite);
  EXPECT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kAwaitingPrerequisite);
  ASSERT_TRUE(h.protocol->persistDifferenceInMemory("a", Operation::kCreate, kIndex, "v", 1).ok());
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kAwaitingPrerequisite);
  EXPECT_EQ(h.transport.sent().size(), 0u);
}

TEST(Prerequisites, GroupModesWaitForGroupsAndMetadataModesDoNot) {
  Enrollment enrollment;
  enrollment.ready = true;
  enrollment.with_groups = false;
  ProtocolHarness h(awaiting(enrollment, absl::Seconds(3)));
  SyncResult groups = h.protocol->synchronizeMetadataOrGroups(Mode::kGroupDelta, {kIndex}, 1);
  EXPECT_EQ(groups.code, SyncCode::kAwaitingPrerequisite);
  EXPECT_NE(groups.message.find("no groups yet"), std::string::npos) << groups.message;
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kGroupCheck, {kIndex}, 1).code,
            SyncCode::kAwaitingPrerequisite);
  EXPECT_EQ(h.transport.count(Message::kStart), 0);
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kMetadataDelta, {kIndex}, 1).code,
            SyncCode::kOk);
}

TEST(Prerequisites, AProviderFailureOtherThanNotYetFailsAtOnce) {
  // Known at create(), unreadable later (create() itself refuses a provider that fails).
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.agent_info = [asked = 0]() mutable -> absl::StatusOr<AgentInfo> {
      if (asked++ == 0) return AgentInfo{};
      return absl::PermissionDeniedError("cannot read client.keys");
    };
  });
  h.record("a", Operation::kCreate, "v");
  const absl::Time began = h.clock.now();
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kInvalidArgument);
  EXPECT_NE(result.message.find("cannot read client.keys"), std::string::npos) << result.message;
  EXPECT_EQ(h.clock.now(), began);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(Prerequisites, CreateAcceptsAProviderThatDoesNotKnowYetButNotABrokenOne) {
  testing::FakeTransport transport;
  AgentSyncProtocol::Options o;
  o.module = "fim";
  o.transport = &transport;
  o.agent_info = []() -> absl::StatusOr<AgentInfo> { return absl::UnavailableError("not yet"); };
  EXPECT_TRUE(AgentSyncProtocol::create(o).ok());
  o.agent_info = []() -> absl::StatusOr<AgentInfo> {
    AgentInfo info;
    info.id = "\xff";
    return info;
  };
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> bad = AgentSyncProtocol::create(o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Prerequisites, StopEndsTheWaitWithin100Milliseconds) {
  Enrollment enrollment;
  testing::FakeTransport transport;
  testing::TempDir dir;
  AgentSyncProtocol::Options o;
  o.module = "fim";
  o.database_path = dir.file("fim_sync.db");
  o.transport = &transport;
  o.agent_info = enrollment.provider();
  o.session.prerequisite_wait = absl::Minutes(10);  // on the real clock
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> p = AgentSyncProtocol::create(o);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->persistDifference("a", Operation::kCreate, kIndex, "v", 1).ok());
  testing::BackgroundSync sync(**p);
  testing::waitUntil([&] { return enrollment.asked.load() >= 1; });
  const auto stopped_at = std::chrono::steady_clock::now();
  (*p)->stop();
  SyncResult result = sync.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::milliseconds(100));
  EXPECT_EQ(result.code, SyncCode::kStopped);
  EXPECT_EQ(result.consecutive_failures, 0u);
}

}  // namespace
}  // namespace asp
