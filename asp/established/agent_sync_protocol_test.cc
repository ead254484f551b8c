// The established C++ class (agent_sync_protocol.hpp) against the reference manager in
// process (ManagerServer on a socket in the test's directory), through the agent's
// MQueue (asp/testing/agent_mqueue.h): every bool and result of the established API for
// success, manager error, manager not ready, manager unreachable and stop, plus ASP's
// guarantees behind the established signatures (nothing fails silently, lastError()).
#include "agent_sync_protocol.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "asp/base/checksum.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/state_store.h"
#include "asp/testing/agent_mqueue.h"
#include "asp/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kIndex[] = "states-fim-files";

class EstablishedApi : public ::testing::Test {
 protected:
  void SetUp() override {
    startManager({});
    agent_mqueue_open(socket_.c_str());
    protocol_ = make(dir_.file("fim_sync.db"));
    agent_mqueue_route("fim", &EstablishedApi::onAnswer, this);
  }

  void TearDown() override {
    agent_mqueue_route("fim", nullptr, nullptr);
    protocol_.reset();
    agent_mqueue_close();
  }

  void startManager(asp::manager::ManagerCore::Options core) {
    server_.reset();
    asp::manager::ManagerServer::Options m;
    m.socket_path = socket_;
    m.core = core;
    m.core.on_contexts = [this](const asp::manager::SessionContexts& contexts) -> absl::Status {
      std::vector<std::string> ids;
      asp::manager::SessionUpdate::Op op;
      absl::StatusOr<bool> more;
      while ((more = contexts.documents->next(&op)).ok() && *more) ids.push_back(op.id);
      std::lock_guard<std::mutex> lock(mu_);
      contexts_received_.push_back(ids);
      return absl::OkStatus();
    };
    auto server = asp::manager::ManagerServer::start(m, &store_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<AgentSyncProtocol> make(std::optional<std::string> db) {
    LoggerFunc logger = [this](modules_log_level_t level, const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back({level, line});
    };
    auto p =
        std::make_unique<AgentSyncProtocol>("fim", std::move(db), agent_mqueue_functions, logger,
                                            std::chrono::seconds(0), std::chrono::seconds(2), 1, 0);
    EXPECT_TRUE(p->setAgentIdentity("042", "web-01", {"default"}));
    return p;
  }

  // The agent hands the manager's answers to the module, which hands them to ASP.
  static void onAnswer(void* self, const uint8_t* data, size_t length) {
    auto* test = static_cast<EstablishedApi*>(self);
    const bool parsed = test->protocol_->parseResponseBuffer(data, length);
    std::lock_guard<std::mutex> lock(test->mu_);
    test->parsed_.push_back(parsed);
  }

  std::map<std::string, std::string> managerCopy(const std::string& agent = "042") {
    std::map<std::string, std::string> copy;
    for (const auto& [id, d] :
         store_.documents({agent, "fim"}, kIndex).value_or(asp::manager::IndexState{})) {
      copy[id] = d.data;
    }
    return copy;
  }

  std::vector<std::string> errorsLogged() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> lines;
    for (const auto& [level, line] : log_) {
      if (level == LOG_ERROR) lines.push_back(line);
    }
    return lines;
  }

  std::vector<bool> parsed() {
    std::lock_guard<std::mutex> lock(mu_);
    return parsed_;
  }

  asp::testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  asp::manager::InMemoryStateStore store_;
  std::unique_ptr<asp::manager::ManagerServer> server_;
  std::unique_ptr<AgentSyncProtocol> protocol_;
  std::mutex mu_;
  std::vector<std::pair<modules_log_level_t, std::string>> log_;
  std::vector<bool> parsed_;
  std::vector<std::vector<std::string>> contexts_received_;  // per session that carried any
};

std::string checksumOf(const std::vector<std::string>& datas) {
  asp::IndexChecksum sum;
  for (const std::string& d : datas) sum.addDocument(d);
  return sum.finish();
}

TEST_F(EstablishedApi, RecordedChangesReachTheManagerOnADeltaSync) {
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  protocol_->persistDifference("/etc/passwd", Operation::MODIFY, kIndex, "p", 2);
  EXPECT_EQ(protocol_->lastError(), "");
  const SyncModuleResult r = protocol_->synchronizeModule(Mode::DELTA);
  EXPECT_TRUE(r.success) << r.failureReason;
  EXPECT_EQ(r.failureReason, "");
  EXPECT_FALSE(r.stopped);
  EXPECT_FALSE(r.managerNotReady);
  EXPECT_EQ(r.consecutiveFailures, 0u);
  EXPECT_EQ(managerCopy(),
            (std::map<std::string, std::string>{{"/etc/hosts", "h"}, {"/etc/passwd", "p"}}));
  agent_mqueue_route("fim", nullptr, nullptr);  // returns once no answer is in delivery
  EXPECT_THAT(parsed(), ::testing::Not(IsEmpty()));
  EXPECT_THAT(parsed(), ::testing::Each(true));
}

TEST_F(EstablishedApi, NothingToSendIsASuccess) {
  const SyncModuleResult r = protocol_->synchronizeModule(Mode::DELTA);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.failureReason, "");
}

TEST_F(EstablishedApi, RequiresFullSyncIsFalseOnAMatchAndTrueOnAMismatch) {
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::DELTA).success);
  EXPECT_FALSE(protocol_->requiresFullSync(kIndex, checksumOf({"h"})));
  EXPECT_EQ(protocol_->lastError(), "");
  EXPECT_TRUE(protocol_->requiresFullSync(kIndex, checksumOf({"h", "more"})));
  EXPECT_EQ(protocol_->lastError(), "");
}

TEST_F(EstablishedApi, AFullSyncReplacesTheManagersCopyWithTheInMemorySet) {
  protocol_->persistDifference("/stale", Operation::CREATE, kIndex, "s", 1);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::DELTA).success);
  protocol_->persistDifferenceInMemory("/etc/hosts", Operation::CREATE, kIndex, "h", 5);
  protocol_->persistDifferenceInMemory("/etc/group", Operation::CREATE, kIndex, "g", 5);
  ASSERT_TRUE(protocol_->requiresFullSync(kIndex, checksumOf({"h", "g"})));
  const SyncModuleResult r = protocol_->synchronizeModule(Mode::FULL);
  EXPECT_TRUE(r.success) << r.failureReason;
  EXPECT_EQ(managerCopy(),
            (std::map<std::string, std::string>{{"/etc/hosts", "h"}, {"/etc/group", "g"}}));
  EXPECT_FALSE(protocol_->requiresFullSync(kIndex, checksumOf({"h", "g"})));
  protocol_->clearInMemoryData();
  EXPECT_EQ(protocol_->lastError(), "");
}

TEST_F(EstablishedApi, MetadataAndGroupsSessionsSucceedAndOtherModesAreRefused) {
  for (Mode mode :
       {Mode::METADATA_DELTA, Mode::METADATA_CHECK, Mode::GROUP_DELTA, Mode::GROUP_CHECK}) {
    const SyncModuleResult r = protocol_->synchronizeMetadataOrGroups(mode, {kIndex}, 7);
    EXPECT_TRUE(r.success) << static_cast<int>(mode) << ": " << r.failureReason;
  }
  const SyncModuleResult wrong = protocol_->synchronizeMetadataOrGroups(Mode::DELTA, {kIndex}, 7);
  EXPECT_FALSE(wrong.success);
  EXPECT_THAT(wrong.failureReason, HasSubstr("invalid argument"));
  EXPECT_EQ(protocol_->lastError(), wrong.failureReason);
}

TEST_F(EstablishedApi, NotifyDataCleanIsTrueAndEmptiesTheManagersIndex) {
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::DELTA).success);
  EXPECT_TRUE(protocol_->notifyDataClean({kIndex}));
  EXPECT_THAT(managerCopy(), IsEmpty());
}

// The manager refuses a Start without an agent id: StartAck ERROR.
TEST_F(EstablishedApi, AManagerErrorFailsEveryCallWithItsReason) {
  ASSERT_TRUE(protocol_->setAgentIdentity("", "nobody", {"default"}));
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  const SyncModuleResult r = protocol_->synchronizeModule(Mode::DELTA);
  EXPECT_FALSE(r.success);
  EXPECT_THAT(r.failureReason, HasSubstr("manager error"));
  EXPECT_FALSE(r.stopped);
  EXPECT_FALSE(r.managerNotReady);
  EXPECT_EQ(r.consecutiveFailures, 1u);
  EXPECT_FALSE(protocol_->requiresFullSync(kIndex, checksumOf({"h"})));
  EXPECT_THAT(protocol_->lastError(), HasSubstr("manager error"));
  EXPECT_FALSE(protocol_->notifyDataClean({kIndex}));
  EXPECT_THAT(protocol_->lastError(), HasSubstr("manager error"));
  const SyncModuleResult groups =
      protocol_->synchronizeMetadataOrGroups(Mode::GROUP_DELTA, {kIndex}, 1);
  EXPECT_FALSE(groups.success);
  EXPECT_THAT(groups.failureReason, HasSubstr("manager error"));
  EXPECT_EQ(groups.consecutiveFailures, 4u);  // the check and the clean count too
}

TEST_F(EstablishedApi, AManagerThatCannotServeTheAgentIsManagerNotReady) {
  asp::manager::ManagerCore::Options full;
  full.max_sessions = 0;  // every Start is answered OFFLINE
  startManager(full);
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  const SyncModuleResult r = protocol_->synchronizeModule(Mode::DELTA);
  EXPECT_FALSE(r.success);
  EXPECT_TRUE(r.managerNotReady);
  EXPECT_THAT(r.failureReason, HasSubstr("manager not ready"));
  EXPECT_EQ(r.consecutiveFailures, 1u);
  EXPECT_EQ(protocol_->synchronizeModule(Mode::DELTA).consecutiveFailures, 2u);
}

TEST_F(EstablishedApi, AnUnreachableManagerFailsEveryCallAndKeepsTheChanges) {
  server_.reset();
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  EXPECT_EQ(protocol_->lastError(), "");
  const SyncModuleResult r = protocol_->synchronizeModule(Mode::DELTA);
  EXPECT_FALSE(r.success);
  EXPECT_THAT(r.failureReason, HasSubstr("transport error"));
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.consecutiveFailures, 1u);
  EXPECT_FALSE(protocol_->requiresFullSync(kIndex, checksumOf({"h"})));
  EXPECT_THAT(protocol_->lastError(), HasSubstr("transport error"));
  EXPECT_FALSE(protocol_->notifyDataClean({kIndex}));
  EXPECT_FALSE(protocol_->synchronizeMetadataOrGroups(Mode::METADATA_DELTA, {kIndex}, 1).success);

  startManager({});
  const SyncModuleResult again = protocol_->synchronizeModule(Mode::DELTA);
  EXPECT_TRUE(again.success) << again.failureReason;
  EXPECT_EQ(again.consecutiveFailures, 0u);
  EXPECT_EQ(managerCopy(), (std::map<std::string, std::string>{{"/etc/hosts", "h"}}));
}

TEST_F(EstablishedApi, StopFailsSessionsAsStoppedUntilReset) {
  EXPECT_FALSE(protocol_->shouldStop());
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  protocol_->stop();
  EXPECT_TRUE(protocol_->shouldStop());
  const SyncModuleResult r = protocol_->synchronizeModule(Mode::DELTA);
  EXPECT_FALSE(r.success);
  EXPECT_TRUE(r.stopped);
  EXPECT_THAT(r.failureReason, HasSubstr("stopped"));
  EXPECT_FALSE(protocol_->requiresFullSync(kIndex, checksumOf({"h"})));
  EXPECT_THAT(protocol_->lastError(), HasSubstr("stopped"));
  EXPECT_FALSE(protocol_->notifyDataClean({kIndex}));
  EXPECT_TRUE(protocol_->synchronizeMetadataOrGroups(Mode::GROUP_DELTA, {kIndex}, 1).stopped);
  protocol_->reset();
  EXPECT_FALSE(protocol_->shouldStop());
  EXPECT_TRUE(protocol_->synchronizeModule(Mode::DELTA).success);
  EXPECT_EQ(managerCopy(), (std::map<std::string, std::string>{{"/etc/hosts", "h"}}));
}

TEST_F(EstablishedApi, StopEndsARunningSessionAtOnce) {
  agent_mqueue_route("fim", nullptr, nullptr);  // the answers never reach the module
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  SyncModuleResult r;
  std::thread sync([&] { r = protocol_->synchronizeModule(Mode::DELTA); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto stopped_at = std::chrono::steady_clock::now();
  protocol_->stop();
  sync.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::milliseconds(500));
  EXPECT_FALSE(r.success);
  EXPECT_TRUE(r.stopped);
}

TEST_F(EstablishedApi, ParseResponseBufferIsFalseForBytesThatAreNoAnswer) {
  const uint8_t garbage[] = {0xff, 0x00, 0x13, 0x37};
  EXPECT_FALSE(protocol_->parseResponseBuffer(garbage, sizeof(garbage)));
  EXPECT_THAT(protocol_->lastError(), HasSubstr("parseResponseBuffer"));
}

TEST_F(EstablishedApi, RefusedChangesAreLoggedAndReadableNeverSilent) {
  protocol_->persistDifference("", Operation::CREATE, kIndex, "x", 1);
  EXPECT_THAT(protocol_->lastError(), HasSubstr("empty"));
  protocol_->persistDifference("/x", Operation::NO_OP, kIndex, "x", 1);
  EXPECT_THAT(protocol_->lastError(), HasSubstr("operation"));
  protocol_->persistDifference("/big", Operation::CREATE, kIndex, std::string(70000, 'x'), 1);
  EXPECT_THAT(protocol_->lastError(), HasSubstr("70000 bytes"));
  protocol_->persistDifferenceInMemory("", Operation::CREATE, kIndex, "x", 1);
  EXPECT_THAT(protocol_->lastError(), HasSubstr("persistDifferenceInMemory"));
  EXPECT_EQ(errorsLogged().size(), 4u);
  protocol_->persistDifference("/ok", Operation::CREATE, kIndex, "x", 1);
  EXPECT_EQ(protocol_->lastError(), "");
}

TEST_F(EstablishedApi, WithoutADatabaseOnlyInMemoryRecoveryIsAvailable) {
  agent_mqueue_route("fim", nullptr, nullptr);
  protocol_ = make(std::nullopt);
  agent_mqueue_route("fim", &EstablishedApi::onAnswer, this);
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  EXPECT_THAT(protocol_->lastError(), HasSubstr("no queue"));
  EXPECT_THAT(protocol_->fetchPendingItems(false), IsEmpty());
  EXPECT_THAT(protocol_->lastError(), HasSubstr("no queue"));
  protocol_->persistDifferenceInMemory("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  EXPECT_TRUE(protocol_->synchronizeModule(Mode::FULL).success);
  EXPECT_EQ(managerCopy(), (std::map<std::string, std::string>{{"/etc/hosts", "h"}}));
}

TEST_F(EstablishedApi, DeleteDatabaseDropsWhatIsPending) {
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  protocol_->deleteDatabase();
  EXPECT_EQ(protocol_->lastError(), "");
  EXPECT_TRUE(protocol_->synchronizeModule(Mode::DELTA).success);
  EXPECT_THAT(managerCopy(), IsEmpty());
}

std::vector<std::string> describe(const std::vector<PersistedData>& items) {
  std::vector<std::string> out;
  for (const PersistedData& i : items) {
    out.push_back(std::to_string(i.seq) + " " + i.id + (i.is_data_context ? " context" : " value"));
  }
  return out;
}

TEST_F(EstablishedApi, ContextDocumentsGoWithEveryVdSessionUntilCleared) {
  protocol_->persistDifference("os", Operation::CREATE, "states-inventory-system", "debian 12", 1,
                               true);
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  EXPECT_EQ(protocol_->lastError(), "");
  EXPECT_EQ(describe(protocol_->fetchPendingItems()),
            (std::vector<std::string>{"1 /etc/hosts value"}));
  EXPECT_EQ(describe(protocol_->fetchPendingItems(false)),
            (std::vector<std::string>{"1 /etc/hosts value", "2 os context"}));

  ASSERT_TRUE(protocol_->synchronizeModule(Mode::DELTA, Option::VDFIRST).success);
  EXPECT_EQ(managerCopy(), (std::map<std::string, std::string>{{"/etc/hosts", "h"}}));
  EXPECT_THAT(protocol_->fetchPendingItems(), IsEmpty());
  EXPECT_EQ(describe(protocol_->fetchPendingItems(false)),
            (std::vector<std::string>{"1 os context"}));

  protocol_->persistDifference("/etc/group", Operation::CREATE, kIndex, "g", 2);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::DELTA, Option::VDSYNC).success);
  protocol_->clearAllDataContext();
  EXPECT_EQ(protocol_->lastError(), "");
  EXPECT_THAT(protocol_->fetchPendingItems(false), IsEmpty());
  protocol_->persistDifference("/etc/motd", Operation::CREATE, kIndex, "m", 3);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::DELTA, Option::VDSYNC).success);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(contexts_received_, (std::vector<std::vector<std::string>>{{"os"}, {"os"}}));
}

TEST_F(EstablishedApi, SendDataContextMessagesStoresThemForTheNextVdSession) {
  PersistedData os;
  os.id = "os";
  os.index = "states-inventory-system";
  os.data = "debian 12";
  os.operation = Operation::CREATE;
  EXPECT_TRUE(protocol_->sendDataContextMessages(0, {os}));
  EXPECT_EQ(describe(protocol_->fetchPendingItems(false)),
            (std::vector<std::string>{"1 os context"}));
  protocol_->persistDifference("/etc/hosts", Operation::CREATE, kIndex, "h", 1);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::DELTA, Option::VDFIRST).success);
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(contexts_received_, (std::vector<std::vector<std::string>>{{"os"}}));
  }
  os.id = "";
  EXPECT_FALSE(protocol_->sendDataContextMessages(0, {os}));
  EXPECT_THAT(protocol_->lastError(), HasSubstr("sendDataContextMessages"));
}

TEST_F(EstablishedApi, TheConstructorThrowsWhatTheEstablishedOneThrows) {
  const auto create = [&](const std::string& module, LoggerFunc logger,
                          std::shared_ptr<IPersistentQueue> queue, const std::string& db) {
    AgentSyncProtocol p(module, db, agent_mqueue_functions, std::move(logger),
                        std::chrono::seconds(0), std::chrono::seconds(1), 0, 0, std::move(queue));
  };
  const LoggerFunc quiet = [](modules_log_level_t, const std::string&) {};
  EXPECT_THROW(create("fim", nullptr, nullptr, dir_.file("a.db")), std::invalid_argument);
  try {
    create("bad module", quiet, nullptr, dir_.file("b.db"));
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad module"));
  }
  try {
    create("fim", quiet, nullptr, "/nonexistent-dir/x/fim.db");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent-dir/x/fim.db"));
  }
}

TEST_F(EstablishedApi, LastErrorBelongsToTheThreadsLatestCallOnThisInstance) {
  protocol_->persistDifference("", Operation::CREATE, kIndex, "x", 1);
  ASSERT_NE(protocol_->lastError(), "");
  std::string other_thread;
  std::thread([&] { other_thread = protocol_->lastError(); }).join();
  EXPECT_EQ(other_thread, "");
  auto other = make(dir_.file("other.db"));
  EXPECT_EQ(protocol_->lastError(), "");  // the thread's latest call was on `other`
}

}  // namespace
