// Mismatch re-checks (docs/protocol.md §5.1): for a manager whose store lags behind a
// write, a mismatch is checked again mismatch_rechecks times, mismatch_recheck_delay
// apart, and reported only if it persists. Off by default.
#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

ProtocolHarness::Customize rechecks(int count, absl::Duration delay) {
  return [count, delay](AgentSyncProtocol::Options& o) {
    o.session.mismatch_rechecks = count;
    o.session.mismatch_recheck_delay = delay;
    o.session.sync_end_delay = absl::ZeroDuration();
  };
}

// The manager's copy matches the module's, but its next `lagging` answers to a check
// are CHECKSUM_MISMATCH (its store has not caught up yet).
void synchronizedButLagging(ProtocolHarness& h, int lagging) {
  h.record("a", Operation::kCreate, "v");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  h.transport.clear();
  h.manager.answerEndsWith(wire::v1::STATUS_CHECKSUM_MISMATCH, lagging);
}

TEST(MismatchRecheck, OffByDefaultAMismatchIsReportedAtOnce) {
  ProtocolHarness h;
  synchronizedButLagging(h, 1);
  EXPECT_EQ(h.protocol->requiresFullSync(kIndex, h.moduleChecksum()).value_or(false), true);
  EXPECT_EQ(h.transport.count(Message::kStart), 1);
}

TEST(MismatchRecheck, AMismatchThatClearsOnRecheckIsAMatch) {
  ProtocolHarness h(rechecks(2, absl::Seconds(5)));
  synchronizedButLagging(h, 1);
  const absl::Time began = h.clock.now();
  SyncResult result = h.protocol->checkIntegrity(kIndex, h.moduleChecksum());
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_NE(result.message.find("matched on recheck 1"), std::string::npos) << result.message;
  EXPECT_EQ(result.sessions, 2u);
  EXPECT_GE(h.clock.now() - began, absl::Seconds(5));
  EXPECT_EQ(h.transport.count(Message::kStart), 2);
}

TEST(MismatchRecheck, AMismatchThatPersistsIsReportedAfterEveryRecheck) {
  ProtocolHarness h(rechecks(2, absl::Seconds(5)));
  synchronizedButLagging(h, 0);
  const absl::Time began = h.clock.now();
  SyncResult result = h.protocol->checkIntegrity(kIndex, std::string(40, '0'));
  EXPECT_EQ(result.code, SyncCode::kChecksumMismatch);
  EXPECT_EQ(result.sessions, 3u);
  EXPECT_NE(result.message.find("3 times"), std::string::npos) << result.message;
  EXPECT_GE(h.clock.now() - began, absl::Seconds(10));
  EXPECT_EQ(h.protocol->stats().sessions_ok, 4u) << "each check is a session (plus the sync)";
}

TEST(MismatchRecheck, AFailureDuringARecheckIsThatFailureNotAMismatch) {
  ProtocolHarness h(rechecks(1, absl::Seconds(5)));
  synchronizedButLagging(h, 1);
  int starts = 0;
  h.transport.setReceiver([&](const std::string& module, const std::string& bytes) {
    Message m;
    if (m.ParseFromString(bytes) && m.has_start() && ++starts == 2) {
      h.manager.answerStartsWith(wire::v1::STATUS_OFFLINE, 1);  // the recheck's Start
    }
    h.manager.receive(module, bytes);
  });
  SyncResult result = h.protocol->checkIntegrity(kIndex, h.moduleChecksum());
  EXPECT_EQ(result.code, SyncCode::kManagerNotReady) << result.message;
  EXPECT_EQ(h.protocol->requiresFullSync(kIndex, h.moduleChecksum()).status().code(),
            absl::StatusCode::kOk);
}

TEST(MismatchRecheck, StopDuringTheDelayEndsTheCheckStopped) {
  AgentSyncProtocol* protocol = nullptr;
  ProtocolHarness h([&](AgentSyncProtocol::Options& o) {
    rechecks(3, absl::Minutes(10))(o);
    o.logger = [&](LogLevel, absl::string_view line) {
      if (line.find("checking again") != absl::string_view::npos) protocol->stop();
    };
  });
  protocol = h.protocol.get();
  synchronizedButLagging(h, 0);
  const absl::Time began = h.clock.now();
  SyncResult result = h.protocol->checkIntegrity(kIndex, std::string(40, '0'));
  EXPECT_EQ(result.code, SyncCode::kStopped) << result.message;
  EXPECT_LT(h.clock.now() - began, absl::Minutes(10));
  EXPECT_EQ(h.transport.count(Message::kStart), 1);
}

}  // namespace
}  // namespace asp
