// The FIM module against the reference manager over a real Unix socket: scan, sync,
// change files, sync, damage the manager's copy, detect it and recover.
#include <filesystem>
#include <fstream>

#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/state_store.h"
#include "asp/testing/state_drift.h"
#include "asp/testing/temp_dir.h"
#include "fim_module/fim_module.h"
#include "gtest/gtest.h"

namespace fim {
namespace {

void write(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << content;
}

class FimIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    asp::manager::ManagerServer::Options m;
    m.socket_path = dir_.file("queue");
    auto server = asp::manager::ManagerServer::start(m, &state_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);

    asp::AgentSyncProtocol::Options o;
    o.module = "fim";
    o.database_path = dir_.file("fim_sync.db");
    o.session.timeout = absl::Seconds(5);
    o.session.sync_end_delay = absl::ZeroDuration();
    o.agent_info = [] {
      asp::AgentInfo agent;
      agent.id = "101";
      return agent;
    };
    auto agent = asp::SocketSyncProtocol::create(o, m.socket_path);
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    module_ = std::make_unique<FimModule>(agent_->protocol(), watched_);
  }

  // What the manager holds, as path -> document.
  std::map<std::string, std::string> managerView() {
    absl::StatusOr<asp::manager::IndexState> documents =
        state_.documents({"101", "fim"}, "states-fim-files");
    EXPECT_TRUE(documents.ok()) << documents.status();
    std::map<std::string, std::string> view;
    for (const auto& [id, doc] : *documents) view[id] = doc.data;
    return view;
  }

  asp::testing::TempDir dir_;
  const std::string watched_ = dir_.file("watched");
  asp::manager::InMemoryStateStore state_;
  std::unique_ptr<asp::manager::ManagerServer> server_;
  std::unique_ptr<asp::SocketSyncProtocol> agent_;
  std::unique_ptr<FimModule> module_;
};

TEST_F(FimIntegration, TheManagerFollowsTheFilesystemAndRecoversFromDamage) {
  for (int i = 0; i < 200; ++i)
    write(watched_ + "/dir" + std::to_string(i % 7) + "/f" + std::to_string(i),
          "v1-" + std::to_string(i));
  ASSERT_EQ(module_->scan()->created, 200);
  ASSERT_EQ(module_->sync().code, asp::SyncCode::kOk);
  EXPECT_EQ(managerView(), module_->documents());

  write(watched_ + "/dir0/f0", "changed");
  std::filesystem::remove(watched_ + "/dir1/f1");
  write(watched_ + "/new/file", "hello");
  absl::StatusOr<ScanResult> second = module_->scan();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->created, 1);
  EXPECT_EQ(second->modified, 1);
  EXPECT_EQ(second->deleted, 1);
  ASSERT_EQ(module_->sync().code, asp::SyncCode::kOk);
  EXPECT_EQ(managerView(), module_->documents());
  EXPECT_FALSE(*module_->checkAndRecover()) << "checksums match";

  ASSERT_TRUE(asp::testing::putDocument(state_, {"101", "fim"}, "states-fim-files",
                                        watched_ + "/dir2/f2", {"damaged", 1})
                  .ok());
  absl::StatusOr<bool> recovered = module_->checkAndRecover();
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(*recovered);
  EXPECT_EQ(managerView(), module_->documents());
}

}  // namespace
}  // namespace fim
