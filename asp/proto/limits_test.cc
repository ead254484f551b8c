#include "asp/proto/limits.h"

#include <cstdint>
#include <string>

#include "asp/proto/wire.pb.h"
#include "gtest/gtest.h"

namespace asp::wire {
namespace {

size_t actualWorstCase(size_t id, size_t index, size_t data) {
  v1::Message m;
  v1::DataValue* v = m.mutable_data_batch()->add_values();
  v->set_seq(UINT64_MAX);
  v->set_session(UINT64_MAX);
  v->set_version(UINT64_MAX);
  v->set_operation(v1::OPERATION_DELETE);
  v->set_id(std::string(id, 'i'));
  v->set_index(std::string(index, 'x'));
  v->set_data(std::string(data, 'd'));
  return m.ByteSizeLong();
}

TEST(Limits, SingleValueMessageBytesIsExactAtVarintBoundaries) {
  for (size_t data : {0, 1, 100, 127, 128, 16383, 16384, 61000, 65536, 2097151, 2097152}) {
    for (size_t id : {1, 127, 128, 300}) {
      EXPECT_EQ(singleValueMessageBytes(id, 16, data), actualWorstCase(id, 16, data))
          << "id " << id << " data " << data;
    }
  }
}

TEST(Limits, HeaderSizes) {
  EXPECT_EQ(agentHeaderBytes("fim"), std::string("s:fim:").size());
  EXPECT_EQ(managerHeaderBytes("fim"), std::string("fim_sync ").size());
}

TEST(Limits, VarintBytes) {
  EXPECT_EQ(varintBytes(0), 1u);
  EXPECT_EQ(varintBytes(127), 1u);
  EXPECT_EQ(varintBytes(128), 2u);
  EXPECT_EQ(varintBytes(UINT64_MAX), 10u);
}

TEST(Limits, ModuleNames) {
  EXPECT_TRUE(validateModuleName("fim").ok());
  EXPECT_TRUE(validateModuleName("syscollector_v2-x").ok());
  EXPECT_TRUE(validateModuleName(std::string(64, 'a')).ok());

  absl::Status too_long = validateModuleName(std::string(65, 'a'));
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("65 bytes"), absl::string_view::npos) << too_long;

  EXPECT_EQ(validateModuleName("").code(), absl::StatusCode::kInvalidArgument);
  absl::Status colon = validateModuleName("a:b");
  EXPECT_EQ(colon.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(colon.message().find("a:b"), absl::string_view::npos) << colon;
  EXPECT_EQ(validateModuleName("a b").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace asp::wire
