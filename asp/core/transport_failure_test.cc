// A send that fails after Start (docs/protocol.md §5): data, End, a resent End, a
// retransmission, a DataClean, a ChecksumModule. Each fails the session at once with
// kTransportError (no retry, no backoff), and the frozen changes go back to the queue
// for the next sync. Failed sends are not recorded by the transport, so counts show
// what did go out.
#include <memory>
#include <string>

#include "asp/core/protocol_harness.h"
#include "asp/transport/mq_functions_transport.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::exactTiming;
using testing::kIndex;
using testing::ProtocolHarness;
using testing::reqRet;
using testing::startAck;
using wire::v1::Message;

TEST(TransportFailure, ADataFrameThatCannotBeSentFailsAtOnceAndKeepsTheQueue) {
  ProtocolHarness h(exactTiming);
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // The StartAck arms the failure, so it hits the send that follows Start: the data frame.
  h.manager.replaceNextAnswer(Message::kStart, [&](uint64_t) {
    h.transport.failNextSends(1);
    return startAck(wire::v1::STATUS_OK, 7);
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_NE(result.message.find("send failed"), std::string::npos) << result.message;
  EXPECT_EQ(h.transport.count(Message::kDataBatch), 0) << "the frame is not sent again";
  EXPECT_EQ(h.transport.count(Message::kEnd), 0) << "the session ends there";
  EXPECT_EQ(result.duration, absl::Milliseconds(1)) << "no wait after the StartAck";
  EXPECT_EQ(h.pending(), 5u);
  h.expectNextDeltaSendsAndConverges(5);
}

TEST(TransportFailure, AnEndThatCannotBeSentFailsAtOnceAndKeepsTheQueue) {
  ProtocolHarness h(exactTiming);
  h.record("a", Operation::kCreate, "1");
  // Armed during the End delay, after the data went out.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.transport.failNextSends(1); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(h.manager.received(Message::kDataBatch), 1);
  EXPECT_EQ(h.manager.received(Message::kEnd), 0) << "End is not sent again";
  EXPECT_EQ(result.duration, absl::Seconds(1) + absl::Milliseconds(1))
      << "fails when End is due, with no timeout or backoff after it";
  EXPECT_EQ(h.pending(), 1u);
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(TransportFailure, AResentEndThatCannotBeSentFailsAndTheNextSyncSendsEverythingAgain) {
  ProtocolHarness h(exactTiming);
  for (int i = 0; i < 3; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  // The first EndAck is lost; the End resent after 30 s + 1 s of backoff cannot be sent.
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] { h.manager.dropNextAnswers(1); });
  h.clock.scheduleAfter(absl::Seconds(10), [&] { h.transport.failNextSends(1); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 1);
  EXPECT_EQ(result.duration, absl::Seconds(1 + 30 + 1) + absl::Milliseconds(1))
      << "fails at the resend, not after the remaining retries";
  // The manager did apply the first End; the agent cannot know, so it sends them again.
  EXPECT_EQ(h.pending(), 3u);
  h.expectNextDeltaSendsAndConverges(3);
}

TEST(TransportFailure, ARetransmissionThatCannotBeSentFailsAndKeepsTheQueue) {
  ProtocolHarness h(exactTiming);
  for (int i = 0; i < 5; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.loseSeqsOnce({2});
  // The manager asks for seq 2 again; the frame carrying it cannot be sent.
  h.manager.replaceNextEndAnswer([&](uint64_t session) {
    h.transport.failNextSends(1);
    return reqRet(session, {{2, 2}});
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(result.retransmitted, 0u);
  EXPECT_EQ(h.transport.count(Message::kDataBatch), 1) << "only the first frame went out";
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "no End after the failed retransmission";
  EXPECT_EQ(h.pending(), 5u);
  h.expectNextDeltaSendsAndConverges(5);
}

TEST(TransportFailure, ADataCleanThatCannotBeSentKeepsTheIndexChanges) {
  ProtocolHarness h;
  for (int i = 0; i < 3; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  h.manager.replaceNextAnswer(Message::kStart, [&](uint64_t) {
    h.transport.failNextSends(1);
    return startAck(wire::v1::STATUS_OK, 7);
  });
  SyncResult result = h.protocol->notifyDataClean({kIndex});
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_EQ(h.transport.count(Message::kDataClean), 0);
  EXPECT_EQ(h.transport.count(Message::kEnd), 0);
  EXPECT_EQ(h.pending(), 3u) << "the changes the clean froze are pending again";
  ASSERT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kOk);
  EXPECT_EQ(h.pending(), 0u) << "dropped once a clean went through";
}

TEST(TransportFailure, AChecksumThatCannotBeSentIsUnavailableNotAMismatch) {
  ProtocolHarness h;
  h.manager.replaceNextAnswer(Message::kStart, [&](uint64_t) {
    h.transport.failNextSends(1);
    return startAck(wire::v1::STATUS_OK, 7);
  });
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kUnavailable) << full.status();
  EXPECT_EQ(h.transport.count(Message::kChecksumModule), 0);
  EXPECT_EQ(h.transport.count(Message::kEnd), 0);
  EXPECT_EQ(h.protocol->stats().sessions_failed, 1u);
}

// A module's own MQ (MQ_Functions, docs/protocol.md §4) that hands every datagram to the
// manager, and fails sends and starts on demand.
struct ScriptedMq {
  testing::FakeManager* manager = nullptr;
  int starts = 0;
  int fail_starts = 0;
  int fail_sends = 0;
};
ScriptedMq* scripted_mq = nullptr;

int scriptedStart(const char*, short, short) {
  ++scripted_mq->starts;
  if (scripted_mq->fail_starts > 0) {
    --scripted_mq->fail_starts;
    return -1;
  }
  return scripted_mq->starts;
}

int scriptedSend(int, const void* message, size_t length, const char* module, char) {
  if (scripted_mq->fail_sends > 0) {
    --scripted_mq->fail_sends;
    return -1;
  }
  scripted_mq->manager->receive(module, std::string(static_cast<const char*>(message), length));
  return 0;
}

// The MQueue goes down between two syncs: the next send fails and the queue cannot be
// started again. The session fails as a transport error naming the queue, keeps its
// changes, and the sync after the MQueue is back starts it and sends them.
TEST(TransportFailure, AnMqThatCannotBeReopenedAfterAFailedSendFailsTheSessionAndKeepsTheQueue) {
  ScriptedMq mq;
  scripted_mq = &mq;
  absl::StatusOr<std::unique_ptr<MqFunctionsTransport>> transport = MqFunctionsTransport::create(
      MQ_Functions{scriptedStart, scriptedSend}, "/queue/sockets/queue");
  ASSERT_TRUE(transport.ok()) << transport.status();
  ProtocolHarness h([&](AgentSyncProtocol::Options& o) { o.transport = transport->get(); });
  mq.manager = &h.manager;
  h.record("a", Operation::kCreate, "1");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  h.record("b", Operation::kCreate, "2");
  h.record("c", Operation::kCreate, "3");

  mq.fail_sends = 1;
  mq.fail_starts = 1;
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError) << result.message;
  EXPECT_NE(result.message.find("'/queue/sockets/queue', and could not start it again"),
            std::string::npos)
      << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "the failed Start never arrived";
  EXPECT_EQ(h.pending(), 2u);
  EXPECT_EQ(mq.starts, 2);

  h.expectNextDeltaSendsAndConverges(2);
  EXPECT_EQ(mq.starts, 3) << "the next sync started the queue again";
  scripted_mq = nullptr;
}

}  // namespace
}  // namespace asp
