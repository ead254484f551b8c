#include "asp/testing/sink_transport.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "asp/proto/wire.pb.h"
#include "gtest/gtest.h"

namespace asp::testing {
namespace {

constexpr uint64_t kSession = 77;

std::string start(uint64_t size) {
  wire::v1::Message message;
  message.mutable_start()->set_module("m");
  message.mutable_start()->set_size(size);
  return message.SerializeAsString();
}

std::string batch(std::initializer_list<std::pair<uint64_t, uint64_t>> seq_and_session) {
  wire::v1::Message message;
  for (const auto& [seq, session] : seq_and_session) {
    wire::v1::DataValue* value = message.mutable_data_batch()->add_values();
    value->set_seq(seq);
    value->set_session(session);
    value->set_id("id");
    value->set_data("data");
  }
  return message.SerializeAsString();
}

std::string end(uint64_t session) {
  wire::v1::Message message;
  message.mutable_end()->set_session(session);
  return message.SerializeAsString();
}

// Collects the answers the sink hands to the protocol's side.
struct Answers {
  std::vector<wire::v1::Message> received;
  void attachTo(SinkTransport& sink) {
    sink.setAnswerHandler([this](const uint8_t* data, size_t length) {
      received.emplace_back();
      received.back().ParseFromArray(data, static_cast<int>(length));
      return absl::OkStatus();
    });
  }
};

TEST(SinkTransport, AWholeSessionIsAnsweredAndCompleteWhenEverySeqArrivedOnce) {
  SinkTransport sink("m", kSession);
  Answers answers;
  answers.attachTo(sink);
  ASSERT_TRUE(sink.send("m", start(3)).ok());
  ASSERT_TRUE(sink.send("m", batch({{0, kSession}, {2, kSession}})).ok());
  ASSERT_TRUE(sink.send("m", batch({{1, kSession}})).ok());
  ASSERT_TRUE(sink.send("m", end(kSession)).ok());

  EXPECT_TRUE(sink.tally().complete()) << sink.describe();
  ASSERT_EQ(answers.received.size(), 2u);
  EXPECT_EQ(answers.received[0].start_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(answers.received[0].start_ack().session(), kSession);
  EXPECT_EQ(answers.received[1].end_ack().session(), kSession);
}

TEST(SinkTransport, DuplicatesStrangersAndGapsMakeTheSessionIncomplete) {
  SinkTransport sink("m", kSession);
  ASSERT_TRUE(sink.send("m", start(3)).ok());
  ASSERT_TRUE(sink.send("m", batch({{0, kSession}, {0, kSession}, {5, kSession}})).ok());
  ASSERT_TRUE(sink.send("m", batch({{1, kSession + 1}})).ok());
  ASSERT_TRUE(sink.send("other", batch({{1, kSession}})).ok());
  ASSERT_TRUE(sink.send("m", "\xff\xff").ok());
  ASSERT_TRUE(sink.send("m", end(kSession)).ok());

  const SinkTransport::Tally& tally = sink.tally();
  EXPECT_FALSE(tally.complete());
  EXPECT_EQ(tally.distinct, 1u);
  EXPECT_EQ(tally.duplicates, 1u);
  EXPECT_EQ(tally.out_of_range, 1u);
  EXPECT_EQ(tally.wrong_session, 1u);
  EXPECT_EQ(tally.malformed, 2u);  // another module's message, and bytes that are no message
  EXPECT_NE(sink.describe().find("1 duplicates"), std::string::npos) << sink.describe();
}

TEST(SinkTransport, ConsecutiveSessionsAreTalliedApart) {
  SinkTransport sink("m", kSession);
  Answers answers;
  answers.attachTo(sink);
  for (int session = 0; session < 2; ++session) {
    ASSERT_TRUE(sink.send("m", start(2)).ok());
    ASSERT_TRUE(sink.send("m", batch({{0, kSession}, {1, kSession}})).ok());
    ASSERT_TRUE(sink.send("m", end(kSession)).ok());
  }
  const SinkTransport::Drain drain = sink.drain();
  EXPECT_EQ(drain.sessions, 2u);
  EXPECT_EQ(drain.complete_sessions, 2u);
  EXPECT_EQ(drain.values, 4u);
}

}  // namespace
}  // namespace asp::testing
