// The SCA module's unit tests on the established interface's gmock
// (@asp//asp/established:mock_agent_sync_protocol, #include "mock_agent_sync_protocol.hpp",
// as the agent's own module tests include it): the calls the module makes.
#include <string>
#include <vector>

#include "established/sca_module.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mock_agent_sync_protocol.hpp"

namespace {

using ::testing::_;
using ::testing::InSequence;
using ::testing::Return;
using ::testing::StrictMock;

TEST(ScaModuleUnit, AnAssessmentRecordsOnlyWhatChanged) {
  StrictMock<MockAgentSyncProtocol> asp;
  ScaModule module(asp);
  {
    InSequence order;
    EXPECT_CALL(asp, persistDifference("1001", Operation::CREATE, ScaModule::kIndex, _, 1, false));
    EXPECT_CALL(asp, persistDifference("1002", Operation::CREATE, ScaModule::kIndex, _, 2, false));
    EXPECT_CALL(asp, persistDifference("1002", Operation::DELETE_, ScaModule::kIndex, _, 3, false));
    EXPECT_CALL(asp, persistDifference("1001", Operation::MODIFY, ScaModule::kIndex,
                                       ScaModule::document("1001", "failed"), 4, false));
  }
  EXPECT_EQ(module.assess({{"1001", "passed"}, {"1002", "passed"}}), 2);
  EXPECT_EQ(module.assess({{"1001", "failed"}}), 2);
  EXPECT_EQ(module.assess({{"1001", "failed"}}), 0);
}

TEST(ScaModuleUnit, RecoverySendsEverythingHeldInAFullSyncFromMemory) {
  StrictMock<MockAgentSyncProtocol> asp;
  ScaModule module(asp);
  EXPECT_CALL(asp, persistDifference(_, _, _, _, _, _)).Times(2);
  module.assess({{"1001", "passed"}, {"1002", "failed"}});
  InSequence order;
  EXPECT_CALL(asp, clearInMemoryData());
  EXPECT_CALL(asp, persistDifferenceInMemory("1001", Operation::CREATE, ScaModule::kIndex, _, 2));
  EXPECT_CALL(asp, persistDifferenceInMemory("1002", Operation::CREATE, ScaModule::kIndex, _, 2));
  SyncModuleResult ok;
  ok.success = true;
  EXPECT_CALL(asp, synchronizeModule(Mode::FULL, Option::SYNC)).WillOnce(Return(ok));
  EXPECT_CALL(asp, clearInMemoryData());
  EXPECT_TRUE(module.recover().success);
}

TEST(ScaModuleUnit, TheIntegrityCheckSendsTheIndexChecksumOfWhatIsHeld) {
  StrictMock<MockAgentSyncProtocol> asp;
  ScaModule module(asp);
  // Nothing held: the checksum of an empty index, SHA-1 of "".
  EXPECT_CALL(asp, requiresFullSync(ScaModule::kIndex, "da39a3ee5e6b4b0d3255bfef95601890afd80709"))
      .WillOnce(Return(false));
  EXPECT_FALSE(module.requiresFullSync());
}

}  // namespace
