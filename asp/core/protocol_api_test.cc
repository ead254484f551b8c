// The public API's edges: options, bad arguments, malformed answers, deleteDatabase,
// stats, and the gmock mock module authors use.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "asp/core/protocol_harness.h"
#include "asp/storage/change_queue.h"
#include "asp/testing/mock_agent_sync_protocol.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

absl::Status createWith(const std::function<void(AgentSyncProtocol::Options&)>& change) {
  testing::FakeTransport transport;
  AgentSyncProtocol::Options options;
  options.module = "fim";
  options.transport = &transport;
  change(options);
  return AgentSyncProtocol::create(options).status();
}

TEST(Options, DefaultsAreValidWithAnInMemoryQueue) {
  EXPECT_TRUE(createWith([](AgentSyncProtocol::Options&) {}).ok());
}

TEST(Options, EachBadValueIsRefusedNamingIt) {
  struct Case {
    std::function<void(AgentSyncProtocol::Options&)> change;
    std::string expected;
  };
  const Case cases[] = {
      {[](auto& o) { o.module = ""; }, "module name is empty"},
      {[](auto& o) { o.module = "fim sync"; }, "fim sync"},
      {[](auto& o) { o.transport = nullptr; }, "transport"},
      {[](auto& o) { o.session.timeout = absl::ZeroDuration(); }, "timeout"},
      {[](auto& o) { o.session.retries = -1; }, "retries must be >= 0, got -1"},
      {[](auto& o) { o.session.sync_end_delay = -absl::Seconds(1); }, "sync_end_delay"},
      {[](auto& o) { o.session.max_eps = -5; }, "max_eps"},
      {[](auto& o) { o.session.frame_budget_bytes = 70000; }, "70000"},
      {[](auto& o) { o.session.frame_budget_bytes = 10; }, "10 bytes"},
      {[](auto& o) { o.session.backoff.jitter = 1.5; }, "jitter"},
      {[](auto& o) { o.session.backoff.multiplier = 0.5; }, "multiplier"},
      {[](auto& o) { o.session.backoff.cap = absl::Milliseconds(1); }, "cap"},
      {[](auto& o) { o.session.max_retransmission_rounds = 0; }, "max_retransmission_rounds"},
      {[](auto& o) { o.database_path = "/nonexistent-dir/x/fim.db"; }, "/nonexistent-dir/x/fim.db"},
      {[](auto& o) { o.session.max_processing_wait = absl::ZeroDuration(); },
       "max_processing_wait"},
      {[](auto& o) {
         o.agent_info = [] {
           AgentInfo info;
           info.id = "001";
           info.hostname = "h\xf6st";
           return info;
         };
       },
       "agent field 'hostname' is not valid UTF-8: byte 1 (0xf6)"},
  };
  for (const Case& c : cases) {
    absl::Status s = createWith(c.change);
    EXPECT_FALSE(s.ok()) << c.expected;
    EXPECT_NE(s.message().find(c.expected), absl::string_view::npos) << s;
  }
}

TEST(PersistDifference, RejectsBadInputWithTheOffendingValue) {
  ProtocolHarness h;
  EXPECT_EQ(h.protocol->persistDifference("", Operation::kCreate, kIndex, "x", 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->persistDifference("a", Operation::kCreate, "", "x", 1).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status op = h.protocol->persistDifference("a", static_cast<Operation>(42), kIndex, "x", 1);
  EXPECT_NE(op.message().find("42"), absl::string_view::npos) << op;
  EXPECT_EQ(
      h.protocol
          ->persistDifferenceInMemory("a", Operation::kCreate, kIndex, std::string(70000, 'x'), 1)
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.pending(), 0u);
}

// docs/protocol.md §2. Before: the change was accepted, the manager rejected every frame
// holding it, and every later session failed after 64 ReqRet rounds.
TEST(PersistDifference, ANonUtf8IdIsRefusedAndNeverBlocksLaterChanges) {
  ProtocolHarness h;
  absl::Status bad =
      h.protocol->persistDifference("caf\xe9.txt", Operation::kCreate, kIndex, "x", 1);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("byte 3 (0xe9)"), absl::string_view::npos) << bad;
  EXPECT_EQ(h.protocol->persistDifferenceInMemory("a", Operation::kCreate, "st\xc3", "x", 1).code(),
            absl::StatusCode::kInvalidArgument);
  h.record("caf\xc3\xa9.txt", Operation::kCreate, "ok");
  h.record("b", Operation::kCreate, "ok");
  h.expectNextDeltaSendsAndConverges(2);
}

TEST(AgentInfo, AFieldThatTurnsNonUtf8IsRefusedBeforeAnythingIsSent) {
  std::atomic<bool> broken{false};
  ProtocolHarness h([&](AgentSyncProtocol::Options& o) {
    o.agent_info = [&] {
      AgentInfo info;
      info.id = broken ? "0\xff"
                         "1"
                       : "001";
      return info;
    };
  });
  h.record("a", Operation::kCreate, "x");
  broken = true;
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kInvalidArgument) << result.message;
  EXPECT_NE(result.message.find("agent field 'id' is not valid UTF-8: byte 1"), std::string::npos)
      << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 0)
      << "a Start with a wrong identity is never sent";
  EXPECT_EQ(h.pending(), 1u);
  broken = false;
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(Indices, ThatAreNotUtf8AreRefusedByEverySessionCall) {
  ProtocolHarness h;
  const std::string bad = "idx\xc0";
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kMetadataDelta, {bad}, 1).code,
            SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->notifyDataClean({bad}).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->checkIntegrity(bad, std::string(40, '0')).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.manager.received(Message::kStart), 0);
}

// A transport that throws from send() while `throwing` is set, else passes through.
class ThrowingTransport final : public Transport {
 public:
  explicit ThrowingTransport(Transport* inner) : inner_(inner) {}
  absl::Status send(absl::string_view module, absl::string_view message) override {
    if (throwing) throw std::runtime_error("boom");
    return inner_->send(module, message);
  }
  std::atomic<bool> throwing{false};

 private:
  Transport* inner_;
};

// Before: the exception left the instance refusing every later sync as "already
// running", with the changes frozen in flight.
TEST(Callbacks, ATransportThatThrowsFailsOneSessionAndTheNextOneRuns) {
  ThrowingTransport* throwing = nullptr;
  std::unique_ptr<ThrowingTransport> owned;
  ProtocolHarness h([&](AgentSyncProtocol::Options& o) {
    owned = std::make_unique<ThrowingTransport>(o.transport);
    throwing = owned.get();
    o.transport = owned.get();
  });
  h.record("a", Operation::kCreate, "x");
  throwing->throwing = true;
  SyncResult failed = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(failed.code, SyncCode::kTransportError);
  EXPECT_NE(failed.message.find("the transport threw: boom"), std::string::npos) << failed.message;
  EXPECT_EQ(h.pending(), 1u) << "the changes are pending again, not frozen";
  throwing->throwing = false;
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(Callbacks, ALoggerThatThrowsBreaksNothing) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.logger = [](LogLevel, absl::string_view) { throw std::runtime_error("log full"); };
  });
  h.record("a", Operation::kCreate, "x");
  h.expectNextDeltaSendsAndConverges(1);
  h.record("b", Operation::kCreate, "y");
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(Callbacks, AnAgentInfoThatThrowsFailsOneSessionAndTheNextOneRuns) {
  std::atomic<bool> throwing{false};
  ProtocolHarness h([&](AgentSyncProtocol::Options& o) {
    o.agent_info = [&] {
      if (throwing) throw std::runtime_error("no identity yet");
      AgentInfo info;
      info.id = testing::kAgent;
      return info;
    };
  });
  h.record("a", Operation::kCreate, "x");
  throwing = true;
  SyncResult failed = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(failed.code, SyncCode::kInvalidArgument);
  EXPECT_NE(failed.message.find("agent_info threw: no identity yet"), std::string::npos)
      << failed.message;
  throwing = false;
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(Refusals, BadArgumentsAreNeitherSentNorCountedAsSessions) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kCheck).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->checkIntegrity("", h.moduleChecksum()).code, SyncCode::kInvalidArgument);
  SyncResult bad_checksum = h.protocol->checkIntegrity(kIndex, "ABC");
  EXPECT_EQ(bad_checksum.code, SyncCode::kInvalidArgument);
  EXPECT_NE(bad_checksum.message.find("'ABC'"), std::string::npos) << bad_checksum.message;
  EXPECT_EQ(h.protocol->requiresFullSync(kIndex, "ABC").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->notifyDataClean({}).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->notifyDataClean({kIndex, ""}).code, SyncCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kDelta, {kIndex}, 1).code,
            SyncCode::kInvalidArgument);
  EXPECT_TRUE(h.transport.sent().empty()) << "nothing reached the manager";
  const Stats stats = h.protocol->stats();
  EXPECT_EQ(stats.sessions_ok + stats.sessions_failed, 0u);
  EXPECT_EQ(stats.last_failure, "");
  EXPECT_EQ(h.pending(), 1u) << "the queue is untouched";
}

TEST(ParseResponseBuffer, RejectsMalformedBytesWithoutCrashing) {
  ProtocolHarness h;
  const std::string garbage = "\xff\xff\xff\xff\x0f garbage";
  EXPECT_EQ(
      h.protocol
          ->parseResponseBuffer(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size())
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.protocol->parseResponseBuffer(nullptr, 10).code(),
            absl::StatusCode::kInvalidArgument);
  // Zero bytes decode to a message without content.
  EXPECT_EQ(h.protocol->parseResponseBuffer(nullptr, 0).code(), absl::StatusCode::kInvalidArgument);
  Message start;
  start.mutable_start()->set_module("fim");
  start.mutable_start()->set_mode(wire::v1::MODE_DELTA);
  const std::string not_an_answer = start.SerializeAsString();
  absl::Status s = h.protocol->parseResponseBuffer(
      reinterpret_cast<const uint8_t*>(not_an_answer.data()), not_an_answer.size());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not an answer"), absl::string_view::npos) << s;
  EXPECT_EQ(h.protocol->stats().answers_malformed, 4u);
}

TEST(ParseResponseBuffer, AnAnswerWhenNoSessionRunsIsIgnoredAndCounted) {
  ProtocolHarness h;
  Message ack;
  ack.mutable_end_ack()->set_status(wire::v1::STATUS_OK);
  ack.mutable_end_ack()->set_session(5);
  const std::string bytes = ack.SerializeAsString();
  EXPECT_TRUE(
      h.protocol->parseResponseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())
          .ok());
  EXPECT_EQ(h.protocol->stats().answers_ignored, 1u);
}

// queue() is for recording and inspection only: the sessions belong to the protocol.
using QueueView = std::remove_reference_t<decltype(std::declval<AgentSyncProtocol&>().queue())>;
static_assert(!std::is_convertible_v<QueueView&, SessionSource&>,
              "a module must not begin, commit or abort the protocol's sessions");
static_assert(!std::is_convertible_v<QueueView&, ChangeQueue&>,
              "nor delete the database under a running session");

TEST(Queue, RecordsBatchesAndCountsThemForTheProtocolsSessions) {
  ProtocolHarness h;
  std::vector<Change> batch;
  for (int i = 0; i < 3; ++i) {
    Change c;
    c.id = "id" + std::to_string(i);
    c.operation = Operation::kCreate;
    c.index = testing::kIndex;
    c.data = "v";
    c.version = 1;
    batch.push_back(c);
  }
  ASSERT_TRUE(h.protocol->queue().recordBatch(batch).ok());
  absl::StatusOr<std::vector<IndexCounts>> counts = h.protocol->queue().counts();
  ASSERT_TRUE(counts.ok()) << counts.status();
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ(counts->at(0).pending, 3u);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.changes, 3u);
  EXPECT_EQ(h.manager.documents({testing::kAgent, testing::kModule}, testing::kIndex).size(), 3u);
}

// A transport that fails the test if it is used after its owner said it is gone.
class GoneTransport final : public Transport {
 public:
  absl::Status send(absl::string_view, absl::string_view) override {
    check("send");
    return absl::UnavailableError("nobody listens");
  }
  void interrupt() override { check("interrupt"); }
  void resume() override { check("resume"); }
  std::atomic<bool> gone{false};

 private:
  void check(const char* what) {
    if (gone) ADD_FAILURE() << what << "() called on a transport already destroyed";
  }
};

TEST(Destructor, DoesNotTouchATransportDestroyedBeforeTheProtocol) {
  GoneTransport transport;
  AgentSyncProtocol::Options options;
  options.module = "fim";
  options.transport = &transport;
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol = AgentSyncProtocol::create(options);
  ASSERT_TRUE(protocol.ok()) << protocol.status();
  ASSERT_TRUE((*protocol)->persistDifference("a", Operation::kCreate, kIndex, "x", 1).ok());
  EXPECT_EQ((*protocol)->synchronizeModule(Mode::kDelta).code, SyncCode::kTransportError);
  transport.gone = true;  // as if the module destroyed its queue first
  protocol->reset();      // destroys the protocol
}

TEST(DeleteDatabase, EmptiesTheQueueAndKeepsTheInstanceUsable) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  ASSERT_TRUE(h.protocol->deleteDatabase().ok());
  EXPECT_EQ(h.pending(), 0u);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kNothingToDo);
  h.module.clear();
  h.record("b", Operation::kCreate, "2");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(Stats, CountSessionsValuesFramesAndFailures) {
  ProtocolHarness h;
  for (int i = 0; i < 10; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.loseSeqsOnce({2});
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  h.manager.answerStartsWith(wire::v1::STATUS_OFFLINE, 1);
  h.record("x", Operation::kCreate, "v");
  ASSERT_FALSE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  Stats stats = h.protocol->stats();
  EXPECT_EQ(stats.sessions_ok, 1u);
  EXPECT_EQ(stats.sessions_failed, 1u);
  EXPECT_EQ(stats.values_sent, 10u);
  EXPECT_EQ(stats.retransmitted, 1u);
  EXPECT_EQ(stats.frames_sent, static_cast<uint64_t>(h.transport.sent().size()));
  EXPECT_GT(stats.bytes_sent, 10u * 20);
  EXPECT_NE(stats.last_failure.find("manager not ready"), std::string::npos) << stats.last_failure;
}

TEST(Logger, ReportsEachSessionOutcome) {
  std::vector<std::string> lines;
  ProtocolHarness h([&](AgentSyncProtocol::Options& o) {
    o.logger = [&](LogLevel level, absl::string_view message) {
      lines.push_back(logLevelName(level) + ": " + std::string(message));
    };
  });
  h.record("a", Operation::kCreate, "1");
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("debug: delta sync of module 'fim': ok; 1 session, 1 changes"),
            std::string::npos)
      << lines.back();
  // A CHECK that finds a difference got the answer it asked for: no warning.
  const std::string other = std::string(40, '0');
  ASSERT_EQ(h.protocol->checkIntegrity(kIndex, other).code, SyncCode::kChecksumMismatch);
  EXPECT_EQ(lines.back().rfind("debug: ", 0), 0u) << lines.back();
  EXPECT_NE(lines.back().find("checksum mismatch"), std::string::npos) << lines.back();
}

TEST(Mock, LetsAModuleTestItsCallsWithoutASession) {
  ::testing::StrictMock<testing::MockAgentSyncProtocol> mock;
  EXPECT_CALL(mock, persistDifference("f", Operation::kCreate, kIndex, "{}", 3u))
      .WillOnce(::testing::Return(absl::OkStatus()));
  EXPECT_CALL(mock, synchronizeModule(Mode::kDelta, SyncOption::kSync))
      .WillOnce(::testing::Return(SyncResult{}));
  AgentSyncProtocol& protocol = mock;
  EXPECT_TRUE(protocol.persistDifference("f", Operation::kCreate, kIndex, "{}", 3).ok());
  EXPECT_TRUE(protocol.synchronizeModule(Mode::kDelta, SyncOption::kSync).ok());
}

TEST(ToStatus, MapsEachFailureToAStatusCode) {
  auto status = [](SyncCode code) {
    SyncResult r;
    r.code = code;
    r.message = "m";
    return toStatus(r);
  };
  EXPECT_TRUE(status(SyncCode::kOk).ok());
  EXPECT_TRUE(status(SyncCode::kNothingToDo).ok());
  EXPECT_EQ(status(SyncCode::kManagerNotReady).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status(SyncCode::kStartTimeout).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status(SyncCode::kStopped).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(status(SyncCode::kProtocolError).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(status(SyncCode::kManagerError).message(), "manager error: m");
}

}  // namespace
}  // namespace asp
