// Runs the snippets of docs/integration-guide.md (built by doc_snippets_test) against a
// real reference manager on a socket in the test's directory: the guide's code does what
// the guide says. The snippets that create a protocol on /var/ossec paths are compiled
// only.
#include <map>
#include <string>
#include <vector>

#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/state_store.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/docs/integration_guide_prelude.h"
#include "tests/docs/integration_guide_test_snippets.h"

// Defined by the guide's C module (a whole-file snippet).
extern "C" int inventory_sync(const char* queue_path, const char* db_path, const char* json,
                              uint64_t version);

namespace doc_snippets {

// The module's documents, as the test sets them.
std::map<std::string, std::vector<Document>> module_documents;

std::vector<Document> my_documents_of(const std::string& index) { return module_documents[index]; }

namespace {

constexpr char kAgent[] = "042";

class IntegrationGuide : public ::testing::Test {
 protected:
  void SetUp() override {
    asp::manager::ManagerServer::Options m;
    m.socket_path = socket_;
    auto server = asp::manager::ManagerServer::start(m, &store_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto agent = asp::SocketSyncProtocol::create(
        asp::testing::localAgentOptions("fim", dir_.file("fim_sync.db"), kAgent), socket_);
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    module_documents.clear();
  }

  // The manager's copy of `index` for `agent`, as id -> data.
  std::map<std::string, std::string> managerCopy(const std::string& index,
                                                 const std::string& agent = kAgent,
                                                 const std::string& module = "fim") {
    std::map<std::string, std::string> copy;
    for (const auto& [id, document] :
         store_.documents({agent, module}, index).value_or(asp::manager::IndexState{})) {
      copy[id] = document.data;
    }
    return copy;
  }

  asp::testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  asp::manager::InMemoryStateStore store_;
  std::unique_ptr<asp::manager::ManagerServer> server_;
  std::unique_ptr<asp::SocketSyncProtocol> agent_;
};

TEST_F(IntegrationGuide, RecordAndSynchronizeReachTheManager) {
  record(agent_->protocol(), R"({"mode":"0644"})", 3);
  synchronize(agent_->protocol());
  EXPECT_EQ(managerCopy("states-fim-files"),
            (std::map<std::string, std::string>{{"/etc/passwd", R"({"mode":"0644"})"}}));
}

TEST_F(IntegrationGuide, CheckAndRecoverRepairsTheManagersCopy) {
  record(agent_->protocol(), "old", 1);
  synchronize(agent_->protocol());
  module_documents["states-fim-files"] = {{"/etc/passwd", "old", 1}};
  check_and_recover(agent_->protocol(), "states-fim-files");
  EXPECT_EQ(agent_->protocol().stats().sessions_ok, 2u) << "a match: no recovery";

  module_documents["states-fim-files"] = {{"/etc/hosts", "h", 2}, {"/etc/group", "g", 2}};
  check_and_recover(agent_->protocol(), "states-fim-files");
  EXPECT_EQ(managerCopy("states-fim-files"),
            (std::map<std::string, std::string>{{"/etc/hosts", "h"}, {"/etc/group", "g"}}));

  module_documents["states-fim-files"] = {};
  check_and_recover(agent_->protocol(), "states-fim-files");
  EXPECT_TRUE(managerCopy("states-fim-files").empty()) << "nothing held: the index is cleaned";
}

TEST_F(IntegrationGuide, MetadataGroupsAndCleanSucceed) {
  const asp::Stats before = agent_->protocol().stats();
  metadata_groups_and_clean(agent_->protocol(), 7);
  EXPECT_EQ(agent_->protocol().stats().sessions_ok, before.sessions_ok + 2);
  EXPECT_EQ(store_.metadata({kAgent, "fim"})->global_version, 7u);
}

TEST_F(IntegrationGuide, TheMockSnippetPassesAsAUnitTest) { unit_test_with_the_mock(); }

TEST_F(IntegrationGuide, TheCModuleSyncsAndChecks) {
  ASSERT_EQ(inventory_sync(socket_.c_str(), dir_.file("inventory.db").c_str(),
                           R"({"version":"3.0.11"})", 4),
            0);
  EXPECT_EQ(managerCopy("states-inventory-packages", "001", "syscollector"),
            (std::map<std::string, std::string>{{"openssl", R"({"version":"3.0.11"})"}}));
}

}  // namespace
}  // namespace doc_snippets
