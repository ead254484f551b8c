#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "asp/base/text.h"
#include "asp/proto/validate.h"
#include "asp/proto/wire.pb.h"
#include "gtest/gtest.h"

namespace asp::wire {
namespace {

using v1::Message;

Message roundTrip(const Message& in) {
  std::string bytes;
  EXPECT_TRUE(in.SerializeToString(&bytes));
  Message out;
  EXPECT_TRUE(out.ParseFromString(bytes));
  return out;
}

Message start() {
  Message m;
  v1::Start* s = m.mutable_start();
  s->set_module("fim");
  s->set_mode(v1::MODE_DELTA);
  s->set_size(3);
  s->add_indices("states-fim-files");
  s->set_option(v1::OPTION_VD_FIRST);
  s->set_global_version(42);
  v1::AgentInfo* a = s->mutable_agent();
  a->set_id("001");
  a->set_name("agent-1");
  a->set_version("v5");
  a->set_hostname("host");
  a->set_architecture("x86_64");
  a->set_os_name("Debian");
  a->set_os_platform("debian");
  a->set_os_type("linux");
  a->set_os_version("12");
  a->add_groups("default");
  a->set_cluster_name("c1");
  a->set_cluster_node("n1");
  return m;
}

v1::DataValue value(uint64_t seq) {
  v1::DataValue v;
  v.set_seq(seq);
  v.set_session(7);
  v.set_operation(v1::OPERATION_UPSERT);
  v.set_id("id-" + std::to_string(seq));
  v.set_index("states-fim-files");
  v.set_version(UINT64_MAX);
  v.set_data(std::string("{\"a\":1}\0bin", 11));
  return v;
}

TEST(WireRoundTrip, Start) {
  Message in = start();
  Message out = roundTrip(in);
  ASSERT_TRUE(out.has_start());
  EXPECT_EQ(out.start().module(), "fim");
  EXPECT_EQ(out.start().mode(), v1::MODE_DELTA);
  EXPECT_EQ(out.start().size(), 3u);
  EXPECT_EQ(out.start().indices(0), "states-fim-files");
  EXPECT_EQ(out.start().option(), v1::OPTION_VD_FIRST);
  EXPECT_EQ(out.start().global_version(), 42u);
  EXPECT_EQ(out.start().agent().groups(0), "default");
  EXPECT_EQ(out.start().agent().cluster_node(), "n1");
  EXPECT_EQ(out.SerializeAsString(), in.SerializeAsString());
  EXPECT_TRUE(validate(out).ok());
}

TEST(WireRoundTrip, StartAck) {
  Message in;
  in.mutable_start_ack()->set_status(v1::STATUS_OK);
  in.mutable_start_ack()->set_session(UINT64_MAX);
  Message out = roundTrip(in);
  EXPECT_EQ(out.start_ack().status(), v1::STATUS_OK);
  EXPECT_EQ(out.start_ack().session(), UINT64_MAX);
  EXPECT_TRUE(validate(out).ok());
}

TEST(WireRoundTrip, DataValueKeepsBinaryData) {
  Message in;
  *in.mutable_data_value() = value(5);
  Message out = roundTrip(in);
  EXPECT_EQ(out.data_value().data(), std::string("{\"a\":1}\0bin", 11));
  EXPECT_EQ(out.data_value().version(), UINT64_MAX);
  EXPECT_TRUE(validate(out).ok());
}

TEST(WireRoundTrip, DataBatch) {
  Message in;
  for (uint64_t seq = 0; seq < 3; ++seq) *in.mutable_data_batch()->add_values() = value(seq);
  Message out = roundTrip(in);
  ASSERT_EQ(out.data_batch().values_size(), 3);
  EXPECT_EQ(out.data_batch().values(2).seq(), 2u);
  EXPECT_TRUE(validate(out).ok());
}

TEST(WireRoundTrip, DataContext) {
  Message in;
  v1::DataContext* c = in.mutable_data_context();
  c->set_seq(1);
  c->set_session(9);
  c->set_id("pkg");
  c->set_index("states-inventory");
  c->set_data("ctx");
  Message out = roundTrip(in);
  EXPECT_EQ(out.data_context().data(), "ctx");
  EXPECT_TRUE(validate(out).ok());
}

TEST(WireRoundTrip, DataClean) {
  Message in;
  in.mutable_data_clean()->set_seq(0);
  in.mutable_data_clean()->set_session(9);
  in.mutable_data_clean()->set_index("states-fim-files");
  Message out = roundTrip(in);
  EXPECT_EQ(out.data_clean().index(), "states-fim-files");
  EXPECT_TRUE(validate(out).ok());
}

TEST(WireRoundTrip, ChecksumModule) {
  Message in;
  in.mutable_checksum_module()->set_session(9);
  in.mutable_checksum_module()->set_index("states-fim-files");
  in.mutable_checksum_module()->set_checksum("da39a3ee5e6b4b0d3255bfef95601890afd80709");
  Message out = roundTrip(in);
  EXPECT_EQ(out.checksum_module().checksum(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_TRUE(validate(out).ok());
}

TEST(WireRoundTrip, EndAndEndAck) {
  Message end;
  end.mutable_end()->set_session(9);
  EXPECT_EQ(roundTrip(end).end().session(), 9u);
  EXPECT_TRUE(validate(roundTrip(end)).ok());

  Message ack;
  ack.mutable_end_ack()->set_status(v1::STATUS_CHECKSUM_MISMATCH);
  ack.mutable_end_ack()->set_session(9);
  EXPECT_EQ(roundTrip(ack).end_ack().status(), v1::STATUS_CHECKSUM_MISMATCH);
  EXPECT_TRUE(validate(roundTrip(ack)).ok());
}

TEST(WireRoundTrip, ReqRet) {
  Message in;
  in.mutable_req_ret()->set_session(9);
  v1::SeqRange* r = in.mutable_req_ret()->add_ranges();
  r->set_begin(3);
  r->set_end(3);
  Message out = roundTrip(in);
  ASSERT_EQ(out.req_ret().ranges_size(), 1);
  EXPECT_EQ(out.req_ret().ranges(0).begin(), 3u);
  EXPECT_TRUE(validate(out).ok());
}

// Field numbers are the wire contract: check a few bytes literally.
TEST(WireContract, FieldNumbersAreFixed) {
  Message m;
  m.mutable_end()->set_session(1);
  // Message.end = 8 (LEN) -> tag 0x42; End.session = 1 (VARINT) -> tag 0x08.
  EXPECT_EQ(m.SerializeAsString(), std::string("\x42\x02\x08\x01", 4));

  Message ack;
  ack.mutable_start_ack()->set_status(v1::STATUS_PROCESSING);
  // Message.start_ack = 2 -> 0x12; StartAck.status = 1 -> 0x08, value 5.
  EXPECT_EQ(ack.SerializeAsString(), std::string("\x12\x02\x08\x05", 4));
}

TEST(WireValidate, RejectsUnsetOneof) {
  Message empty;
  absl::Status s = validate(empty);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no content"), absl::string_view::npos) << s;
}

TEST(WireValidate, RejectsUnspecifiedMode) {
  Message m = start();
  m.mutable_start()->set_mode(v1::MODE_UNSPECIFIED);
  absl::Status s = validate(m);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Start.mode"), absl::string_view::npos) << s;
}

TEST(WireValidate, RejectsUnknownEnumNumber) {
  Message m = start();
  m.mutable_start()->set_mode(static_cast<v1::Mode>(99));
  Message out = roundTrip(m);  // proto3 keeps unknown enum numbers
  absl::Status s = validate(out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("99"), absl::string_view::npos) << s;
}

TEST(WireValidate, OptionZeroMeansSync) {
  Message m = start();
  m.mutable_start()->set_option(v1::OPTION_SYNC);
  EXPECT_TRUE(validate(roundTrip(m)).ok());
}

TEST(WireValidate, RejectsUnspecifiedStatus) {
  Message ack;
  ack.mutable_start_ack()->set_session(3);
  EXPECT_EQ(validate(ack).code(), absl::StatusCode::kInvalidArgument);
  Message end_ack;
  end_ack.mutable_end_ack()->set_session(3);
  EXPECT_EQ(validate(end_ack).code(), absl::StatusCode::kInvalidArgument);
}

TEST(WireValidate, RejectsUnspecifiedOperation) {
  Message m;
  *m.mutable_data_value() = value(0);
  m.mutable_data_value()->set_operation(v1::OPERATION_UNSPECIFIED);
  EXPECT_EQ(validate(m).code(), absl::StatusCode::kInvalidArgument);

  Message batch;
  *batch.mutable_data_batch()->add_values() = value(0);
  *batch.mutable_data_batch()->add_values() = value(1);
  batch.mutable_data_batch()->mutable_values(1)->set_operation(v1::OPERATION_UNSPECIFIED);
  absl::Status s = validate(batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("seq 1"), absl::string_view::npos) << s;
}

TEST(WireValidate, RejectsMissingNamesAndSessions) {
  Message m = start();
  m.mutable_start()->set_module("bad module!");
  EXPECT_EQ(validate(m).code(), absl::StatusCode::kInvalidArgument);

  Message v;
  *v.mutable_data_value() = value(0);
  v.mutable_data_value()->clear_id();
  EXPECT_EQ(validate(v).code(), absl::StatusCode::kInvalidArgument);

  Message ok_without_session;
  ok_without_session.mutable_start_ack()->set_status(v1::STATUS_OK);
  EXPECT_EQ(validate(ok_without_session).code(), absl::StatusCode::kInvalidArgument);

  Message offline;
  offline.mutable_start_ack()->set_status(v1::STATUS_OFFLINE);
  EXPECT_TRUE(validate(offline).ok()) << "a refusal carries no session";
}

TEST(WireValidate, RejectsEmptyOrInvertedRanges) {
  Message none;
  none.mutable_req_ret()->set_session(1);
  EXPECT_EQ(validate(none).code(), absl::StatusCode::kInvalidArgument);

  Message inverted;
  inverted.mutable_req_ret()->set_session(1);
  v1::SeqRange* r = inverted.mutable_req_ret()->add_ranges();
  r->set_begin(5);
  r->set_end(4);
  absl::Status s = validate(inverted);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[5, 4]"), absl::string_view::npos) << s;
}

// The library refuses at persist exactly the strings a peer's parser would refuse
// (docs/protocol.md §2): asp::firstInvalidUtf8 agrees with protobuf on every byte string.
TEST(Utf8, TheLibrarysCheckAgreesWithProtobufsParser) {
  std::mt19937_64 random(7);
  const std::vector<char> interesting = {'\x00', '\x7f', '\x80', '\xbf', '\xc0', '\xc1', '\xc2',
                                         '\xdf', '\xe0', '\xed', '\xef', '\xf0', '\xf4', '\xf5',
                                         '\xff', '\xa0', '\x9f', '\x90', '\x8f', 'a'};
  int invalid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string id;
    const size_t length = random() % 6;
    for (size_t i = 0; i < length; ++i) id.push_back(interesting[random() % interesting.size()]);
    Message m;
    m.mutable_data_value()->set_id(id);
    std::string bytes;
    // Serializing invalid UTF-8 only logs; parsing refuses it.
    google::protobuf::LogSilencer quiet;
    m.SerializeToString(&bytes);
    Message parsed;
    const bool peer_accepts = parsed.ParseFromString(bytes);
    EXPECT_EQ(!firstInvalidUtf8(id).has_value(), peer_accepts) << absl::CHexEscape(id);
    invalid += peer_accepts ? 0 : 1;
  }
  EXPECT_GT(invalid, 1000) << "the sample must hold invalid strings";
}

}  // namespace
}  // namespace asp::wire
