// Unit tests of the FIM module against ASP's gmock mock of the protocol: they check the
// calls the module makes, without any session.
#include "fim_module/fim_module.h"

#include <filesystem>
#include <fstream>

#include "asp/testing/mock_agent_sync_protocol.h"
#include "asp/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fim {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Return;
using ::testing::StrictMock;

void write(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << content;
}

class FimModuleTest : public ::testing::Test {
 protected:
  StrictMock<asp::testing::MockAgentSyncProtocol> asp_;
  asp::testing::TempDir dir_;
  FimModule module_{asp_, dir_.path()};
};

TEST_F(FimModuleTest, NewFilesAreRecordedAsCreates) {
  write(dir_.file("etc/hosts"), "127.0.0.1 localhost");
  write(dir_.file("etc/passwd"), "root:x:0:0");
  EXPECT_CALL(asp_, persistDifference(dir_.file("etc/hosts"), asp::Operation::kCreate,
                                      "states-fim-files", HasSubstr("\"size\":19"), 1))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(asp_, persistDifference(dir_.file("etc/passwd"), asp::Operation::kCreate, _, _, 1))
      .WillOnce(Return(absl::OkStatus()));
  absl::StatusOr<ScanResult> result = module_.scan();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->created, 2);
}

TEST_F(FimModuleTest, ChangedAndRemovedFilesAreRecordedOnTheNextScan) {
  write(dir_.file("a"), "one");
  write(dir_.file("b"), "two");
  write(dir_.file("c"), "same");
  EXPECT_CALL(asp_, persistDifference(_, asp::Operation::kCreate, _, _, 1))
      .Times(3)
      .WillRepeatedly(Return(absl::OkStatus()));
  ASSERT_TRUE(module_.scan().ok());

  write(dir_.file("a"), "ONE");
  std::filesystem::remove(dir_.file("b"));
  EXPECT_CALL(asp_, persistDifference(dir_.file("a"), asp::Operation::kModify, _, _, 2))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(asp_, persistDifference(dir_.file("b"), asp::Operation::kDelete, _, "", 2))
      .WillOnce(Return(absl::OkStatus()));
  absl::StatusOr<ScanResult> result = module_.scan();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->modified, 1);
  EXPECT_EQ(result->deleted, 1);
}

TEST_F(FimModuleTest, ARecordingErrorStopsTheScan) {
  write(dir_.file("a"), "one");
  EXPECT_CALL(asp_, persistDifference(_, _, _, _, _))
      .WillOnce(Return(absl::ResourceExhaustedError("disk full")));
  EXPECT_EQ(module_.scan().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(FimModuleTest, SyncRunsADelta) {
  EXPECT_CALL(asp_, synchronizeModule(asp::Mode::kDelta, asp::SyncOption::kSync))
      .WillOnce(Return(asp::SyncResult{}));
  EXPECT_TRUE(module_.sync().ok());
}

TEST_F(FimModuleTest, AMatchingChecksumNeedsNoRecovery) {
  EXPECT_CALL(asp_, requiresFullSync("states-fim-files", module_.checksum()))
      .WillOnce(Return(false));
  absl::StatusOr<bool> recovered = module_.checkAndRecover();
  ASSERT_TRUE(recovered.ok());
  EXPECT_FALSE(*recovered);
}

TEST_F(FimModuleTest, AMismatchResendsEverythingAsAFullSync) {
  write(dir_.file("a"), "one");
  write(dir_.file("b"), "two");
  EXPECT_CALL(asp_, persistDifference(_, _, _, _, _))
      .Times(2)
      .WillRepeatedly(Return(absl::OkStatus()));
  ASSERT_TRUE(module_.scan().ok());
  ::testing::InSequence order;
  EXPECT_CALL(asp_, requiresFullSync("states-fim-files", _)).WillOnce(Return(true));
  EXPECT_CALL(asp_, clearInMemoryData());
  EXPECT_CALL(asp_, persistDifferenceInMemory(dir_.file("a"), asp::Operation::kCreate, _, _, _))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(asp_, persistDifferenceInMemory(dir_.file("b"), asp::Operation::kCreate, _, _, _))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(asp_, synchronizeModule(asp::Mode::kFull, _)).WillOnce(Return(asp::SyncResult{}));
  absl::StatusOr<bool> recovered = module_.checkAndRecover();
  ASSERT_TRUE(recovered.ok());
  EXPECT_TRUE(*recovered);
}

TEST_F(FimModuleTest, AMismatchWithNothingHeldIsACleanInstead) {
  EXPECT_CALL(asp_, requiresFullSync(_, _)).WillOnce(Return(true));
  EXPECT_CALL(asp_, notifyDataClean(std::vector<std::string>{"states-fim-files"}, _))
      .WillOnce(Return(asp::SyncResult{}));
  EXPECT_TRUE(*module_.checkAndRecover());
}

TEST_F(FimModuleTest, AFailedCheckIsAnErrorNotARecovery) {
  EXPECT_CALL(asp_, requiresFullSync(_, _))
      .WillOnce(Return(absl::UnavailableError("manager not ready")));
  EXPECT_EQ(module_.checkAndRecover().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fim
