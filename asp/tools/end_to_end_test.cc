// End to end with real processes and sockets: the agent (this test process) against
// the asp_manager binary. aspctl_test and asp_demo_test run those tools as a user does.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "asp/base/checksum.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using manager::Document;
using manager::IndexState;
using testing::Process;
using testing::runfile;

constexpr char kIndex[] = "states-fim-files";

// The whitespace-separated words that follow `key` in `text` (std::regex trips a
// GCC 12 false warning under the sanitizers, so plain parsing instead).
std::vector<std::string> wordsAfter(const std::string& text, const std::string& key, int count) {
  std::vector<std::string> words;
  const size_t at = text.find(key);
  if (at == std::string::npos) return words;
  std::istringstream in(text.substr(at + key.size()));
  std::string word;
  while (static_cast<int>(words.size()) < count && in >> word) words.push_back(word);
  return words;
}

class EndToEnd : public ::testing::Test {
 protected:
  std::unique_ptr<Process> startManager(std::vector<std::string> flags = {}) {
    flags.push_back("--socket=" + socket_);
    flags.push_back("--state_dir=" + dir_.file("manager"));
    auto manager = std::make_unique<Process>(asp::testing::managerBinary(flags), flags,
                                             dir_.file("manager-" + std::to_string(++starts_)));
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (manager->out().find("listening") == std::string::npos &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_NE(manager->out().find("listening"), std::string::npos) << manager->err();
    return manager;
  }

  // Stops the manager cleanly and returns what it printed.
  std::string stopManager(std::unique_ptr<Process>& manager) {
    manager->signal(SIGTERM);
    EXPECT_EQ(manager->wait(), 0) << manager->err();
    std::string out = manager->out();
    manager.reset();
    return out;
  }

  void openAgent(double max_eps = 0) {
    agent_.reset();
    AgentSyncProtocol::Options o =
        testing::localAgentOptions("fim", dir_.file("fim_sync.db"), "042");
    o.session.max_eps = max_eps;
    auto agent = SocketSyncProtocol::create(o, socket_);
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    protocol_ = &agent_->protocol();
  }

  void record(int count, int revision = 1) {
    const absl::Status s = testing::recordFiles(*protocol_, kIndex, count, revision, &module_);
    ASSERT_TRUE(s.ok()) << s;
  }

  uint64_t pending() { return testing::pendingChanges(*protocol_); }

  IndexState managerState() {
    auto store = manager::SqliteStateStore::open(dir_.file("manager/state.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    return (*store)->documents({"042", "fim"}, kIndex).value_or(IndexState{});
  }

  std::string moduleChecksum() {
    IndexChecksum checksum;
    for (const auto& [id, doc] : module_) checksum.addDocument(doc.data);
    return checksum.finish();
  }

  testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  int starts_ = 0;
  std::unique_ptr<SocketSyncProtocol> agent_;
  AgentSyncProtocol* protocol_ = nullptr;
  IndexState module_;
};

TEST_F(EndToEnd, ADeltaOfTwentyThousandChangesLeavesTheManagerEqualToTheModule) {
  auto manager = startManager();
  openAgent();
  record(20000);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  stopManager(manager);
  EXPECT_EQ(managerState(), module_);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(EndToEnd, DropsAndDuplicatesConvergeAndOnlyWhatWasDroppedIsResent) {
  auto manager = startManager({"--drop_rate=0.05", "--duplicate_rate=0.05", "--seed=3"});
  openAgent();
  record(20000);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  const std::string out = stopManager(manager);
  const std::vector<std::string> dropped = wordsAfter(out, "dropped values", 1);
  ASSERT_EQ(dropped.size(), 1u) << out;
  const uint64_t dropped_values = std::stoull(dropped[0]);
  EXPECT_GT(dropped_values, 0u);
  EXPECT_EQ(result.retransmitted, dropped_values) << "no blind resend";
  EXPECT_EQ(managerState(), module_);
}

TEST_F(EndToEnd, TheManagerKilledMidSessionAndRestartedLosesNothing) {
  auto manager = startManager();
  openAgent(/*max_eps=*/100);  // slow enough to kill it mid-stream
  record(20000);
  SyncResult interrupted;
  std::thread sync([&] { interrupted = protocol_->synchronizeModule(Mode::kDelta); });
  while (agent_->transport().counters().datagrams_sent < 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  manager->signal(SIGKILL);
  manager->wait();
  sync.join();
  EXPECT_FALSE(interrupted.ok());
  EXPECT_EQ(pending(), 20000u) << "every change is pending again";
  manager = startManager();  // same state directory; the stale socket file is replaced
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  stopManager(manager);
  EXPECT_EQ(managerState(), module_);
}

TEST_F(EndToEnd, NoManagerRunningIsAFastTransportErrorAndTheQueueStaysIntact) {
  openAgent();
  record(100);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError);
  EXPECT_LT(result.duration, absl::Seconds(1));
  EXPECT_EQ(pending(), 100u);
}

}  // namespace
}  // namespace asp
