// Answers that break the protocol (docs/protocol.md §3, §5): a StartAck or EndAck with
// no status or one this build does not know, an OK StartAck with no session, a
// CHECKSUM_MISMATCH StartAck. Each fails the session as a protocol error, unretried,
// with the queue kept; an invalid answer for another session is only counted.
#include <string>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using testing::startAck;
using wire::v1::Message;

TEST(ProtocolViolations, AStartAckWithoutStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextAnswer(Message::kStart,
                              [](uint64_t) { return startAck(wire::v1::STATUS_UNSPECIFIED, 5); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("StartAck.status"), std::string::npos) << result.message;
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AnOkStartAckWithoutSessionFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextAnswer(Message::kStart,
                              [](uint64_t) { return startAck(wire::v1::STATUS_OK, 0); });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kProtocolError);
}

TEST(ProtocolViolations, AnEndAckWithoutStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextEndAnswer([](uint64_t session) {
    Message m;
    m.mutable_end_ack()->set_session(session);
    return m.SerializeAsString();
  });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kProtocolError);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AStartAckWithAnUnknownStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextAnswer(
      Message::kStart, [](uint64_t) { return startAck(static_cast<wire::v1::Status>(42), 5); });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("StartAck.status has unknown value 42"), std::string::npos)
      << result.message;
  EXPECT_EQ(h.manager.received(Message::kDataBatch), 0);
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "not retried";
  EXPECT_EQ(h.protocol->stats().answers_malformed, 1u);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AnEndAckWithAnUnknownStatusFailsTheSession) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.replaceNextEndAnswer([](uint64_t session) {
    Message m;
    m.mutable_end_ack()->set_status(static_cast<wire::v1::Status>(42));
    m.mutable_end_ack()->set_session(session);
    return m.SerializeAsString();
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("EndAck.status has unknown value 42"), std::string::npos)
      << result.message;
  EXPECT_EQ(h.manager.received(Message::kEnd), 1) << "not retried";
  EXPECT_EQ(h.protocol->stats().answers_malformed, 1u);
  EXPECT_EQ(h.pending(), 1u);
}

TEST(ProtocolViolations, AChecksumMismatchStartAckIsAProtocolError) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.manager.answerStartsWith(wire::v1::STATUS_CHECKSUM_MISMATCH, 1);
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kProtocolError);
  EXPECT_NE(result.message.find("STATUS_CHECKSUM_MISMATCH"), std::string::npos) << result.message;
  EXPECT_EQ(h.manager.received(Message::kStart), 1) << "not retried";
  EXPECT_EQ(h.manager.received(Message::kDataBatch), 0);
  EXPECT_EQ(h.pending(), 1u);
  // Nor does it answer an integrity check: only an EndAck says the checksums differ.
  h.manager.answerStartsWith(wire::v1::STATUS_CHECKSUM_MISMATCH, 1);
  absl::StatusOr<bool> full = h.protocol->requiresFullSync(kIndex, h.moduleChecksum());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kAborted) << full.status();
  EXPECT_EQ(h.manager.received(Message::kChecksumModule), 0);
}

TEST(ProtocolViolations, AnInvalidAnswerForAnotherSessionIsOnlyCounted) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.clock.scheduleAfter(absl::Milliseconds(500), [&] {
    Message stray;
    stray.mutable_end_ack()->set_session(123456);  // no status, not our session
    const std::string bytes = stray.SerializeAsString();
    EXPECT_FALSE(
        h.protocol
            ->parseResponseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())
            .ok());
  });
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(h.protocol->stats().answers_malformed, 1u);
}

}  // namespace
}  // namespace asp
