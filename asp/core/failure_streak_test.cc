// The failure streak and the log level of every outcome (docs/protocol.md §5 "Failure
// streak"; the table in docs/lifecycle.md "Log levels"): a routine failure after a
// restart logs at info, a streak past failure_warning_threshold at warning.
#include <mutex>
#include <string>
#include <vector>

#include "asp/core/protocol_harness.h"
#include "asp/testing/fault_vfs.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

// The outcome lines ("... sync of module 'fim': ...") the library logged, with levels.
class OutcomeLog {
 public:
  Logger logger() {
    return [this](LogLevel level, absl::string_view message) {
      if (message.find(" sync of module ") == absl::string_view::npos) return;
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back({level, std::string(message)});
    };
  }
  // The level of the latest outcome line; fails the test if it does not mention `code`.
  LogLevel last(SyncCode code) {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_FALSE(lines_.empty());
    if (lines_.empty()) return LogLevel::kError;
    EXPECT_NE(lines_.back().second.find(syncCodeName(code)), std::string::npos)
        << lines_.back().second;
    return lines_.back().first;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

class FailureStreak : public ::testing::Test {
 protected:
  void SetUp() override { FaultVfs::get().reset(); }
  void TearDown() override { FaultVfs::get().reset(); }

  ProtocolHarness::Customize options(int retries = 0) {
    return [this, retries](AgentSyncProtocol::Options& o) {
      o.logger = log_.logger();
      o.session.retries = retries;
      o.session.sync_end_delay = absl::ZeroDuration();
      o.session.failure_warning_threshold = 3;
      o.session.prerequisite_wait = absl::Seconds(2);
      o.sqlite_vfs = FaultVfs::kName;
    };
  }

  SyncResult offline(ProtocolHarness& h) {
    h.manager.answerStartsWith(wire::v1::STATUS_OFFLINE, 1);
    h.record("id" + std::to_string(next_id_++), Operation::kCreate, "v");
    return h.protocol->synchronizeModule(Mode::kDelta);
  }

  OutcomeLog log_;
  int next_id_ = 0;
};

TEST_F(FailureStreak, CountsFailedCallsAndASuccessResetsIt) {
  ProtocolHarness h(options());
  EXPECT_EQ(offline(h).consecutive_failures, 1u);
  EXPECT_EQ(offline(h).consecutive_failures, 2u);
  h.manager.setSilent(true);
  SyncResult timeout = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(timeout.code, SyncCode::kStartTimeout);
  EXPECT_EQ(timeout.consecutive_failures, 3u);
  h.manager.setSilent(false);
  SyncResult ok = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(ok.code, SyncCode::kOk) << ok.message;
  EXPECT_EQ(ok.consecutive_failures, 0u);
  EXPECT_EQ(offline(h).consecutive_failures, 1u);
}

TEST_F(FailureStreak, EveryKindOfSessionCountsInTheSameStreak) {
  ProtocolHarness h(options());
  EXPECT_EQ(offline(h).consecutive_failures, 1u);
  h.manager.answerStartsWith(wire::v1::STATUS_ERROR, 3);
  EXPECT_EQ(h.protocol->notifyDataClean({kIndex}).consecutive_failures, 2u);
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kMetadataDelta, {kIndex}, 1)
                .consecutive_failures,
            3u);
  EXPECT_EQ(h.protocol->checkIntegrity(kIndex, std::string(40, '0')).consecutive_failures, 4u);
  // A mismatch is the answer an integrity check asks for: a success.
  SyncResult mismatch = h.protocol->checkIntegrity(kIndex, std::string(40, '0'));
  EXPECT_EQ(mismatch.code, SyncCode::kChecksumMismatch);
  EXPECT_EQ(mismatch.consecutive_failures, 0u);
}

TEST_F(FailureStreak, StopsRefusalsAndNothingToDoLeaveItAlone) {
  ProtocolHarness h(options());
  EXPECT_EQ(offline(h).consecutive_failures, 1u);
  EXPECT_EQ(offline(h).consecutive_failures, 2u);
  // Only the failed session's change is pending: sent, nothing left.
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(offline(h).consecutive_failures, 1u);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kCheck).consecutive_failures, 1u)
      << "a refused argument";
  h.protocol->stop();
  SyncResult stopped = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(stopped.code, SyncCode::kStopped);
  EXPECT_EQ(stopped.consecutive_failures, 1u);
  h.protocol->reset();
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  SyncResult nothing = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(nothing.code, SyncCode::kNothingToDo);
  EXPECT_EQ(nothing.consecutive_failures, 0u);
}

TEST_F(FailureStreak, TransientFailuresLogAtInfoUntilTheStreakReachesTheThreshold) {
  ProtocolHarness h(options());
  offline(h);
  EXPECT_EQ(log_.last(SyncCode::kManagerNotReady), LogLevel::kInfo);
  offline(h);
  EXPECT_EQ(log_.last(SyncCode::kManagerNotReady), LogLevel::kInfo);
  offline(h);
  EXPECT_EQ(log_.last(SyncCode::kManagerNotReady), LogLevel::kWarning) << "3 in a row";
  offline(h);
  EXPECT_EQ(log_.last(SyncCode::kManagerNotReady), LogLevel::kWarning);
}

TEST_F(FailureStreak, EachOutcomeLogsAtItsLevel) {
  ProtocolHarness h(options());
  h.record("a", Operation::kCreate, "v");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(log_.last(SyncCode::kOk), LogLevel::kDebug);
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kNothingToDo);
  EXPECT_EQ(log_.last(SyncCode::kNothingToDo), LogLevel::kDebug);
  ASSERT_EQ(h.protocol->checkIntegrity(kIndex, std::string(40, '0')).code,
            SyncCode::kChecksumMismatch);
  EXPECT_EQ(log_.last(SyncCode::kChecksumMismatch), LogLevel::kDebug);

  // Transient, each the first of a streak (a success in between resets it).
  auto reset_streak = [&] {
    h.record("r" + std::to_string(next_id_++), Operation::kCreate, "v");
    ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  };
  offline(h);
  EXPECT_EQ(log_.last(SyncCode::kManagerNotReady), LogLevel::kInfo);
  reset_streak();
  h.manager.answerStartsWith(wire::v1::STATUS_ERROR, 1);
  h.record("e", Operation::kCreate, "v");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kManagerError);
  EXPECT_EQ(log_.last(SyncCode::kManagerError), LogLevel::kInfo);
  reset_streak();
  h.manager.setSilent(true);
  h.record("t", Operation::kCreate, "v");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kStartTimeout);
  EXPECT_EQ(log_.last(SyncCode::kStartTimeout), LogLevel::kInfo);
  h.manager.setSilent(false);
  reset_streak();
  h.transport.setReceiver([&](const std::string& module, const std::string& bytes) {
    Message m;
    if (m.ParseFromString(bytes) && m.has_end()) h.manager.setSilent(true);  // Ends unanswered
    h.manager.receive(module, bytes);
  });
  h.record("u", Operation::kCreate, "v");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kEndTimeout);
  EXPECT_EQ(log_.last(SyncCode::kEndTimeout), LogLevel::kInfo);
  h.manager.setSilent(false);
  h.manager.attach(h.transport);
  reset_streak();
  h.transport.failNextSends(1);
  h.record("x", Operation::kCreate, "v");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kTransportError);
  EXPECT_EQ(log_.last(SyncCode::kTransportError), LogLevel::kInfo);
  reset_streak();

  // The manager broke the protocol: a warning at once.
  h.manager.replaceNextEndAnswer([](uint64_t session) {
    return testing::reqRet(session, {{5, 9}});
  });
  h.record("p", Operation::kCreate, "v");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kProtocolError);
  EXPECT_EQ(log_.last(SyncCode::kProtocolError), LogLevel::kWarning);
  reset_streak();
  // The caller's mistake: a warning.
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kCheck).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(log_.last(SyncCode::kInvalidArgument), LogLevel::kWarning);
  // The queue failed: an error.
  h.record("s", Operation::kCreate, "v");
  FaultVfs::get().failWritesAfter(0);
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kStorageError);
  EXPECT_EQ(log_.last(SyncCode::kStorageError), LogLevel::kError);
  FaultVfs::get().reset();
  // Stopping is routine: info.
  h.protocol->stop();
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kStopped);
  EXPECT_EQ(log_.last(SyncCode::kStopped), LogLevel::kInfo);
}

TEST_F(FailureStreak, AwaitingThePrerequisiteLogsAtInfoThenWarning) {
  ProtocolHarness h([this](AgentSyncProtocol::Options& o) {
    options()(o);
    o.agent_info = []() -> absl::StatusOr<AgentInfo> {
      return absl::UnavailableError("not enrolled yet");
    };
  });
  h.record("a", Operation::kCreate, "v");
  for (uint64_t i = 1; i <= 3; ++i) {
    SyncResult r = h.protocol->synchronizeModule(Mode::kDelta);
    ASSERT_EQ(r.code, SyncCode::kAwaitingPrerequisite);
    EXPECT_EQ(r.consecutive_failures, i);
    EXPECT_EQ(log_.last(SyncCode::kAwaitingPrerequisite),
              i < 3 ? LogLevel::kInfo : LogLevel::kWarning);
  }
}

TEST_F(FailureStreak, AlreadyRunningLogsAtDebug) {
  ProtocolHarness h(options(), testing::SimulatedClock::Mode::kManual);
  h.manager.setSilent(true);
  h.record("a", Operation::kCreate, "v");
  testing::BackgroundSync running(*h.protocol);
  testing::waitUntil([&] { return h.manager.received(Message::kStart) == 1; });
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kAlreadyRunning);
  EXPECT_EQ(log_.last(SyncCode::kAlreadyRunning), LogLevel::kDebug);
  h.protocol->stop();
  EXPECT_EQ(running.join().code, SyncCode::kStopped);
}

}  // namespace
}  // namespace asp
