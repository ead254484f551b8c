// The reference manager on a real socket, with AgentSyncProtocol over the real Unix
// datagram transport, in one process (process-level tests live in asp/tools).
#include "asp/manager/manager_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "asp/core/socket_sync_protocol.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/manager_faults.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

class ManagerServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<ManagerServer> startServer(ManagerServer::Options options = {}) {
    options.socket_path = socket_;
    options.core.seed = 17;
    auto server = ManagerServer::start(options, &store_);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  void connectAgent() {
    AgentSyncProtocol::Options o =
        testing::localAgentOptions("fim", dir_.file("fim_sync.db"), "007");
    auto agent = SocketSyncProtocol::create(o, socket_);
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    protocol_ = &agent_->protocol();
  }

  IndexState record(int count) {
    IndexState expected;
    for (int i = 0; i < count; ++i) {
      const std::string id = "/etc/f" + std::to_string(i);
      const std::string data = "{\"size\":" + std::to_string(i) + "}";
      EXPECT_TRUE(protocol_->persistDifference(id, Operation::kCreate, "states-fim", data, 1).ok());
      expected[id] = Document{data, 1};
    }
    return expected;
  }

  testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  InMemoryStateStore store_;
  std::unique_ptr<SocketSyncProtocol> agent_;
  AgentSyncProtocol* protocol_ = nullptr;
};

TEST_F(ManagerServerTest, ADeltaOverTheSocketLeavesTheManagerEqualToTheModule) {
  auto server = startServer();
  connectAgent();
  const IndexState expected = record(2000);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(*store_.documents({"007", "fim"}, "states-fim"), expected);
  EXPECT_EQ(server->counters().bad_datagrams, 0u);
}

// The faults come in through the InboundFilter seam (asp/testing:manager_faults).
std::unique_ptr<testing::ManagerFaults> faults(testing::ManagerFaults::Options options) {
  options.seed = 17;
  auto created = testing::ManagerFaults::create(options);
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? *std::move(created) : nullptr;
}

TEST_F(ManagerServerTest, DropsAndDuplicatesStillConvergeAndOnlyTheDroppedAreResent) {
  auto lossy = faults({0.05, 0.05});
  ManagerServer::Options options;
  options.filter = lossy.get();
  auto server = startServer(options);
  connectAgent();
  const IndexState expected = record(3000);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(*store_.documents({"007", "fim"}, "states-fim"), expected);
  EXPECT_GT(lossy->counters().dropped_values, 0u);
  EXPECT_EQ(result.retransmitted, lossy->counters().dropped_values);
}

TEST_F(ManagerServerTest, DelayedAnswersAreWaitedFor) {
  auto slow = faults({0, 0, absl::Milliseconds(300)});
  ManagerServer::Options options;
  options.filter = slow.get();
  auto server = startServer(options);
  connectAgent();
  const IndexState expected = record(10);
  ASSERT_EQ(protocol_->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(*store_.documents({"007", "fim"}, "states-fim"), expected);
}

TEST_F(ManagerServerTest, ASocketInUseIsRefusedAndAStaleOneReplaced) {
  auto first = startServer();
  ManagerServer::Options options;
  options.socket_path = socket_;
  absl::Status in_use = ManagerServer::start(options, &store_).status();
  EXPECT_EQ(in_use.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(in_use.message().find(socket_), absl::string_view::npos) << in_use;
  // A crash leaves the file behind with nobody listening.
  const int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  first.reset();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  close(fd);
  EXPECT_NE(startServer(), nullptr) << "the stale socket file was replaced";
}

TEST_F(ManagerServerTest, BadPathsAreClearErrors) {
  ManagerServer::Options options;
  options.socket_path = dir_.file("no/such/dir/queue");
  absl::Status missing = ManagerServer::start(options, &store_).status();
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find(options.socket_path), absl::string_view::npos) << missing;
  options.socket_path = dir_.file("regular");
  ASSERT_EQ(close(creat(options.socket_path.c_str(), 0600)), 0);
  absl::Status not_socket = ManagerServer::start(options, &store_).status();
  EXPECT_NE(not_socket.message().find("not a socket"), absl::string_view::npos) << not_socket;
  options.socket_path = std::string(120, 'x');
  EXPECT_EQ(ManagerServer::start(options, &store_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::ManagerFaults::create({2, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ManagerServerTest, NoManagerIsAFastTransportErrorAndKeepsTheQueue) {
  connectAgent();
  record(5);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kTransportError);
  EXPECT_LT(result.duration, absl::Seconds(1));
  EXPECT_EQ(protocol_->queue().counts()->at(0).pending, 5u);
}

}  // namespace
}  // namespace asp::manager
