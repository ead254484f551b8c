// The option a call passes reaches the wire (docs/protocol.md §3: Start.option): every
// option of a clean, VD_SYNC and VD_FIRST on DELTA and FULL, also in a resent Start, and
// SYNC for the calls that take none.
#include <string>
#include <vector>

#include "asp/base/checksum.h"
#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

// The option of every Start sent so far, in order.
std::vector<wire::v1::Option> startOptions(ProtocolHarness& h) {
  std::vector<wire::v1::Option> options;
  for (const Message& m : h.transport.sent()) {
    if (m.has_start()) options.push_back(m.start().option());
  }
  return options;
}

TEST(SyncOptions, ACleanCarriesItsOptionInTheStart) {
  ProtocolHarness h;
  ASSERT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kOk);
  ASSERT_EQ(h.protocol->notifyDataClean({kIndex}, SyncOption::kVdClean).code, SyncCode::kOk);
  ASSERT_EQ(h.protocol->notifyDataClean({kIndex}, SyncOption::kVdSync).code, SyncCode::kOk);
  ASSERT_EQ(h.protocol->notifyDataClean({kIndex}, SyncOption::kVdFirst).code, SyncCode::kOk);
  EXPECT_EQ(startOptions(h),
            (std::vector<wire::v1::Option>{wire::v1::OPTION_SYNC, wire::v1::OPTION_VD_CLEAN,
                                           wire::v1::OPTION_VD_SYNC, wire::v1::OPTION_VD_FIRST}));
  const std::vector<Message> sent = h.transport.sent();
  const Message& last_start = sent[sent.size() - 3];  // Start, DataClean, End
  EXPECT_EQ(last_start.start().mode(), wire::v1::MODE_DELTA);
}

TEST(SyncOptions, VdSyncIsInTheStartOfADeltaAndAFull) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "A");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdSync).code, SyncCode::kOk);
  ASSERT_TRUE(h.protocol->persistDifferenceInMemory("a", Operation::kCreate, kIndex, "A", 1).ok());
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kFull, SyncOption::kVdSync).code, SyncCode::kOk);
  EXPECT_EQ(startOptions(h),
            (std::vector<wire::v1::Option>{wire::v1::OPTION_VD_SYNC, wire::v1::OPTION_VD_SYNC}));
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(SyncOptions, AResentStartKeepsTheOption) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "A");
  h.manager.dropNextAnswers(1);  // the first StartAck is lost
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdSync).code, SyncCode::kOk);
  ASSERT_TRUE(h.protocol->persistDifferenceInMemory("a", Operation::kCreate, kIndex, "A", 1).ok());
  h.manager.dropNextAnswers(1);
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kFull, SyncOption::kVdFirst).code, SyncCode::kOk);
  h.manager.dropNextAnswers(1);
  ASSERT_EQ(h.protocol->notifyDataClean({"other"}, SyncOption::kVdClean).code, SyncCode::kOk);
  EXPECT_EQ(startOptions(h),
            (std::vector<wire::v1::Option>{wire::v1::OPTION_VD_SYNC, wire::v1::OPTION_VD_SYNC,
                                           wire::v1::OPTION_VD_FIRST, wire::v1::OPTION_VD_FIRST,
                                           wire::v1::OPTION_VD_CLEAN, wire::v1::OPTION_VD_CLEAN}));
}

TEST(SyncOptions, ChecksMetadataAndGroupsSendSync) {
  ProtocolHarness h;
  ASSERT_TRUE(h.protocol->requiresFullSync(kIndex, sha1Hex("")).ok());
  ASSERT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kMetadataDelta, {}, 1).code,
            SyncCode::kOk);
  ASSERT_EQ(h.protocol->synchronizeMetadataOrGroups(Mode::kGroupCheck, {}, 1).code, SyncCode::kOk);
  EXPECT_EQ(startOptions(h), (std::vector<wire::v1::Option>(3, wire::v1::OPTION_SYNC)));
}

TEST(SyncOptions, SynchronizeModuleRefusesVdCleanAndSendsNothing) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "A");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdClean);
  EXPECT_EQ(result.code, SyncCode::kInvalidArgument);
  EXPECT_NE(result.message.find("vd clean"), std::string::npos) << result.message;
  EXPECT_TRUE(h.transport.sent().empty());
  EXPECT_EQ(h.pending(), 1u);
}

}  // namespace
}  // namespace asp
