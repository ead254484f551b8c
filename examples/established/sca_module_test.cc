// The established-interface SCA module against the reference manager (ManagerServer on a
// socket in the test's directory), with the agent's MQueue
// (@asp//asp/testing:agent_mqueue) routing the manager's answers to parseResponseBuffer.
// Every bool and result of the established C++ API for success, manager error, manager
// unreachable and stop.
#include "established/sca_module.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "asp/manager/manager_server.h"
#include "asp/manager/state_store.h"
#include "asp/testing/agent_mqueue.h"
#include "asp/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using Results = std::map<std::string, std::string>;

class ScaModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    startManager();
    agent_mqueue_open(socket_.c_str());
    LoggerFunc logger = [](modules_log_level_t, const std::string&) {};
    protocol_ = std::make_unique<AgentSyncProtocol>(
        "sca", dir_.file("sca_sync.db"), agent_mqueue_functions, logger, std::chrono::seconds(0),
        std::chrono::seconds(5), 3, 0);
    ASSERT_TRUE(protocol_->setAgentIdentity("021", "sca-agent", {"default"}));
    agent_mqueue_route("sca", &ScaModuleTest::onAnswer, this);
    module_ = std::make_unique<ScaModule>(*protocol_);
  }

  void TearDown() override {
    agent_mqueue_route("sca", nullptr, nullptr);  // returns once no answer is in delivery
    EXPECT_EQ(refused_.load(), 0);                // every answer the manager sent parsed: true
    module_.reset();
    protocol_.reset();
    agent_mqueue_close();
  }

  void startManager() {
    asp::manager::ManagerServer::Options m;
    m.socket_path = socket_;
    auto server = asp::manager::ManagerServer::start(m, &store_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // The agent hands the module its answers; the module hands them to the protocol.
  static void onAnswer(void* self, const uint8_t* data, size_t length) {
    auto* test = static_cast<ScaModuleTest*>(self);
    (test->protocol_->parseResponseBuffer(data, length) ? test->accepted_ : test->refused_)++;
  }

  Results managerCopy() {
    Results copy;
    for (const auto& [id, d] :
         store_.documents({"021", "sca"}, ScaModule::kIndex).value_or(asp::manager::IndexState{})) {
      copy[id] = d.data;
    }
    return copy;
  }

  static void expectSuccess(const SyncModuleResult& r) {
    EXPECT_TRUE(r.success) << r.failureReason;
    EXPECT_EQ(r.failureReason, "");
    EXPECT_FALSE(r.stopped);
    EXPECT_FALSE(r.managerNotReady);
    EXPECT_EQ(r.consecutiveFailures, 0u);
  }

  asp::testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  asp::manager::InMemoryStateStore store_;
  std::unique_ptr<asp::manager::ManagerServer> server_;
  std::unique_ptr<AgentSyncProtocol> protocol_;
  std::unique_ptr<ScaModule> module_;
  std::atomic<int> accepted_{0};
  std::atomic<int> refused_{0};
};

TEST_F(ScaModuleTest, RecordSyncCheckAndRecoverAsTheQuickStartSays) {
  EXPECT_EQ(module_->assess({{"1001", "passed"}, {"1002", "failed"}}), 2);
  EXPECT_EQ(protocol_->lastError(), "");
  expectSuccess(module_->sync());
  EXPECT_EQ(managerCopy(), (Results{{"1001", ScaModule::document("1001", "passed")},
                                    {"1002", ScaModule::document("1002", "failed")}}));
  EXPECT_FALSE(module_->requiresFullSync());
  EXPECT_EQ(protocol_->lastError(), "");  // false because the copies match

  // Assessed, not synced: the manager's copy is behind; the recovery sends everything.
  EXPECT_EQ(module_->assess({{"1001", "failed"}, {"1003", "passed"}}), 3);
  EXPECT_TRUE(module_->requiresFullSync());
  expectSuccess(module_->recover());
  EXPECT_EQ(managerCopy(), (Results{{"1001", ScaModule::document("1001", "failed")},
                                    {"1003", ScaModule::document("1003", "passed")}}));
  EXPECT_FALSE(module_->requiresFullSync());

  expectSuccess(module_->syncMetadata(3));
  expectSuccess(module_->syncGroups(3));
  EXPECT_TRUE(module_->clean());
  EXPECT_TRUE(managerCopy().empty());

  const uint8_t garbage[] = {0x01, 0x02, 0x03};
  EXPECT_FALSE(protocol_->parseResponseBuffer(garbage, sizeof(garbage)));
  EXPECT_THAT(protocol_->lastError(), HasSubstr("parseResponseBuffer"));
}

// The manager refuses a Start without an agent id (StartAck ERROR).
TEST_F(ScaModuleTest, AManagerErrorFailsEveryCallAndKeepsTheChanges) {
  ASSERT_TRUE(protocol_->setAgentIdentity("", "nobody", {"default"}));
  module_->assess({{"1001", "passed"}});
  const SyncModuleResult r = module_->sync();
  EXPECT_FALSE(r.success);
  EXPECT_THAT(r.failureReason, HasSubstr("manager error"));
  EXPECT_FALSE(r.stopped);
  EXPECT_FALSE(r.managerNotReady);
  EXPECT_EQ(r.consecutiveFailures, 1u);
  EXPECT_FALSE(module_->requiresFullSync());
  EXPECT_THAT(protocol_->lastError(), HasSubstr("manager error"));  // false because of an error
  EXPECT_FALSE(module_->recover().success);
  EXPECT_FALSE(module_->syncMetadata(1).success);
  EXPECT_FALSE(module_->syncGroups(1).success);
  EXPECT_FALSE(module_->clean());

  ASSERT_TRUE(protocol_->setAgentIdentity("021", "sca-agent", {"default"}));
  expectSuccess(module_->sync());
  EXPECT_EQ(managerCopy(), (Results{{"1001", ScaModule::document("1001", "passed")}}));
}

TEST_F(ScaModuleTest, AnUnreachableManagerFailsEveryCallAndKeepsTheChanges) {
  server_.reset();
  module_->assess({{"1001", "passed"}});
  EXPECT_EQ(protocol_->lastError(), "");  // recorded durably all the same
  const SyncModuleResult r = module_->sync();
  EXPECT_FALSE(r.success);
  EXPECT_THAT(r.failureReason, HasSubstr("transport error"));
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.consecutiveFailures, 1u);
  EXPECT_FALSE(module_->requiresFullSync());
  EXPECT_THAT(protocol_->lastError(), HasSubstr("transport error"));
  EXPECT_FALSE(module_->recover().success);
  EXPECT_FALSE(module_->syncMetadata(1).success);
  EXPECT_FALSE(module_->syncGroups(1).success);
  EXPECT_FALSE(module_->clean());

  startManager();
  expectSuccess(module_->sync());
  EXPECT_EQ(managerCopy(), (Results{{"1001", ScaModule::document("1001", "passed")}}));
}

TEST_F(ScaModuleTest, StopFailsEverySessionAsStoppedUntilReset) {
  module_->assess({{"1001", "passed"}});
  EXPECT_FALSE(protocol_->shouldStop());
  protocol_->stop();
  EXPECT_TRUE(protocol_->shouldStop());
  const SyncModuleResult r = module_->sync();
  EXPECT_FALSE(r.success);
  EXPECT_TRUE(r.stopped);
  EXPECT_THAT(r.failureReason, HasSubstr("stopped"));
  EXPECT_FALSE(module_->requiresFullSync());
  EXPECT_THAT(protocol_->lastError(), HasSubstr("stopped"));
  EXPECT_TRUE(module_->recover().stopped);
  EXPECT_TRUE(module_->syncMetadata(1).stopped);
  EXPECT_TRUE(module_->syncGroups(1).stopped);
  EXPECT_FALSE(module_->clean());
  protocol_->reset();
  EXPECT_FALSE(protocol_->shouldStop());
  expectSuccess(module_->sync());
  EXPECT_EQ(managerCopy(), (Results{{"1001", ScaModule::document("1001", "passed")}}));
}

TEST_F(ScaModuleTest, StopEndsASessionWaitingForTheManager) {
  agent_mqueue_route("sca", nullptr, nullptr);  // the answers never reach the module
  module_->assess({{"1001", "passed"}});
  SyncModuleResult r;
  std::thread sync([&] { r = module_->sync(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto stopped_at = std::chrono::steady_clock::now();
  protocol_->stop();
  sync.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::milliseconds(500));
  EXPECT_FALSE(r.success);
  EXPECT_TRUE(r.stopped);
}

}  // namespace
