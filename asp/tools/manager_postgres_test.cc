// asp_manager --state_uri: the reference manager as a process keeping its state on a
// real PostgreSQL server (started by the test), with two manager processes on one
// database and one of them killed and started again between syncs.
#include <signal.h>

#include <chrono>
#include <memory>
#include <thread>

#include "asp/base/checksum.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/postgres_state_store.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/postgres_cluster.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using manager::Document;
using manager::IndexState;
using testing::Process;

constexpr char kIndex[] = "states-fim-files";

class ManagerOnPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::PostgresCluster*> cluster = testing::PostgresCluster::shared();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    absl::StatusOr<std::string> uri = (*cluster)->createDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
  }

  std::unique_ptr<Process> startManager(const std::string& socket) {
    auto manager = std::make_unique<Process>(
        testing::runfile("asp/tools/asp_manager"),
        std::vector<std::string>{"--socket=" + socket, "--state_uri=" + uri_},
        dir_.file("manager-" + std::to_string(++starts_)));
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (manager->out().find("listening") == std::string::npos &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_NE(manager->out().find("(state: PostgreSQL database"), std::string::npos)
        << manager->out() << manager->err();
    return manager;
  }

  // An agent `agent` whose module "fim" records `count` files and syncs them.
  IndexState syncFiles(const std::string& socket, const std::string& agent, int count,
                       int revision) {
    AgentSyncProtocol::Options o =
        testing::localAgentOptions("fim", dir_.file(agent + "_fim_sync.db"), agent);
    auto client = SocketSyncProtocol::create(o, socket);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return {};
    IndexState module;
    for (int i = 0; i < count; ++i) {
      const std::string id = "/srv/file-" + std::to_string(i);
      const std::string data = "{\"rev\":" + std::to_string(revision) + "}";
      EXPECT_TRUE((*client)
                      ->protocol()
                      .persistDifference(id, Operation::kModify, kIndex, data, revision)
                      .ok());
      module[id] = Document{data, static_cast<uint64_t>(revision)};
    }
    SyncResult result = (*client)->protocol().synchronizeModule(Mode::kDelta);
    EXPECT_EQ(result.code, SyncCode::kOk) << result.message;
    return module;
  }

  IndexState held(const std::string& agent) {
    auto store = manager::PostgresStateStore::open(uri_);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    return (*store)->documents({agent, "fim"}, kIndex).value_or(IndexState{});
  }

  testing::TempDir dir_;
  std::string uri_;
  int starts_ = 0;
};

TEST_F(ManagerOnPostgres, TwoManagersShareOneDatabaseAndAKilledOneLosesNothing) {
  const std::string socket_a = dir_.file("queue-a"), socket_b = dir_.file("queue-b");
  std::unique_ptr<Process> a = startManager(socket_a);
  std::unique_ptr<Process> b = startManager(socket_b);
  const IndexState first = syncFiles(socket_a, "101", 300, 1);
  const IndexState second = syncFiles(socket_b, "202", 200, 1);
  EXPECT_EQ(held("101"), first);
  EXPECT_EQ(held("202"), second);

  a->signal(SIGKILL);
  a->wait();
  a = startManager(socket_a);
  const IndexState again = syncFiles(socket_a, "101", 300, 2);
  EXPECT_EQ(held("101"), again) << "the restarted manager carries on from the shared state";
  IndexChecksum expected;
  for (const auto& [id, document] : again) expected.addDocument(document.data);
  auto store = manager::PostgresStateStore::open(uri_);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->checksum({"101", "fim"}, kIndex), expected.finish());
}

TEST_F(ManagerOnPostgres, ABadStateUriStopsTheManagerWithAClearError) {
  Process manager(testing::runfile("asp/tools/asp_manager"),
                  {"--socket=" + dir_.file("queue"),
                   "--state_uri=postgresql:///asp?host=/nonexistent-dir&connect_timeout=2"},
                  dir_.file("bad"));
  EXPECT_NE(manager.wait(), 0);
  EXPECT_NE(manager.err().find("/nonexistent-dir"), std::string::npos) << manager.err();
  Process both(testing::runfile("asp/tools/asp_manager"),
               {"--socket=" + dir_.file("queue"), "--state_uri=" + uri_,
                "--state_dir=" + dir_.file("state")},
               dir_.file("both"));
  EXPECT_NE(both.wait(), 0);
  EXPECT_NE(both.err().find("exactly one of"), std::string::npos) << both.err();
}

}  // namespace
}  // namespace asp
