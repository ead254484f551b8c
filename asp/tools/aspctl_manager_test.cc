// aspctl manager agents|documents|checksum against a real asp_manager process, on each
// store an operator meets: the SQLite file (--state_dir) and a PostgreSQL database
// (--state_uri, a throwaway cluster the test starts).
#include <signal.h>

#include <chrono>
#include <thread>

#include "asp/base/checksum.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/postgres_cluster.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "asp/tools/tool_test_util.h"
#include "gtest/gtest.h"

namespace asp::tools {
namespace {

using asp::testing::Process;
using asp::testing::runfile;
using testing::linesOf;
using testing::Ran;

constexpr char kFiles[] = "states-fim-files";

enum class Store { kSqlite, kPostgres };

// `line` with its last_sync value, if it reads like 2026-12-02T20:15:00Z, replaced by "T".
std::string withoutTime(const std::string& line) {
  const std::string key = "\"last_sync\":\"";
  const size_t at = line.find(key);
  if (at == std::string::npos || line.size() < at + key.size() + 20) return line;
  const std::string time = line.substr(at + key.size(), 20);
  const bool looks_right = time[4] == '-' && time[7] == '-' && time[10] == 'T' && time[13] == ':' &&
                           time[16] == ':' && time[19] == 'Z';
  if (!looks_right) return line;
  return line.substr(0, at + key.size()) + "T" + line.substr(at + key.size() + 20);
}

class AspctlManager : public ::testing::TestWithParam<Store> {
 protected:
  void SetUp() override {
    if (GetParam() == Store::kSqlite) {
      store_flag_ = "--state_dir=" + dir_.file("state");
    } else {
      auto cluster = asp::testing::PostgresCluster::shared();
      ASSERT_TRUE(cluster.ok()) << cluster.status();
      auto uri = (*cluster)->createDatabase();
      ASSERT_TRUE(uri.ok()) << uri.status();
      store_flag_ = "--state_uri=" + *uri;
    }
    manager_ = std::make_unique<Process>(
        runfile("asp/tools/asp_manager"),
        std::vector<std::string>{"--socket=" + socket_, store_flag_}, dir_.file("manager"));
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (manager_->out().find("listening") == std::string::npos &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_NE(manager_->out().find("listening"), std::string::npos) << manager_->err();
  }

  // Agent `agent`'s module `module` records `data` under ids "<index>-<n>" and syncs.
  void sync(const std::string& agent, const std::string& module, const std::string& index,
            const std::vector<std::string>& data) {
    auto client = SocketSyncProtocol::create(
        asp::testing::localAgentOptions(module, dir_.file(agent + module + ".db"), agent), socket_);
    ASSERT_TRUE(client.ok()) << client.status();
    for (size_t i = 0; i < data.size(); ++i) {
      ASSERT_TRUE((*client)
                      ->protocol()
                      .persistDifference(index + "-" + std::to_string(i), Operation::kModify, index,
                                         data[i], 1)
                      .ok());
    }
    SyncResult result = (*client)->protocol().synchronizeModule(Mode::kDelta);
    ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  }

  Ran aspctl(std::vector<std::string> args) {
    return testing::runTool(runfile("asp/tools/aspctl"), args,
                            dir_.file("ctl-" + std::to_string(++runs_)));
  }

  asp::testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  std::string store_flag_;
  std::unique_ptr<Process> manager_;
  int runs_ = 0;
};

TEST_P(AspctlManager, AgentsListsEveryAgentsModulesWithLastSyncAndDocumentsPerIndex) {
  sync("001", "fim", kFiles, {"a", "b", "c"});
  sync("001", "sca", "states-sca-checks", {"x", "y"});
  sync("002", "fim", kFiles, {"z"});

  Ran agents = aspctl({"manager", "agents", store_flag_});
  ASSERT_EQ(agents.code, 0) << agents.err;
  const std::vector<std::string> lines = linesOf(agents.out);
  ASSERT_EQ(lines.size(), 3u) << agents.out;
  EXPECT_EQ(withoutTime(lines[0]),
            "{\"agent\":\"001\",\"module\":\"fim\",\"last_sync\":\"T\",\"documents\":{\"states-fim-"
            "files\":3}}");
  EXPECT_EQ(withoutTime(lines[1]),
            "{\"agent\":\"001\",\"module\":\"sca\",\"last_sync\":\"T\",\"documents\":{\"states-sca-"
            "checks\":2}}");
  EXPECT_EQ(withoutTime(lines[2]),
            "{\"agent\":\"002\",\"module\":\"fim\",\"last_sync\":\"T\",\"documents\":{\"states-fim-"
            "files\":1}}");
}

TEST_P(AspctlManager, DocumentsAndChecksumAreTheManagersCopyOfOneModule) {
  sync("001", "fim", kFiles, {"a", "b"});
  sync("002", "fim", kFiles, {"other agent"});

  Ran documents = aspctl({"manager", "documents", store_flag_, "--module=fim", "--agent_id=001"});
  ASSERT_EQ(documents.code, 0) << documents.err;
  EXPECT_EQ(
      documents.out,
      "{\"id\":\"states-fim-files-0\",\"index\":\"states-fim-files\",\"operation\":\"modify\","
      "\"version\":1,\"data\":\"a\"}\n"
      "{\"id\":\"states-fim-files-1\",\"index\":\"states-fim-files\",\"operation\":\"modify\","
      "\"version\":1,\"data\":\"b\"}\n");

  IndexChecksum expected;
  expected.addDocument("a");
  expected.addDocument("b");
  const std::string sum = expected.finish();
  Ran one = aspctl({"manager", "checksum", store_flag_, "--module=fim", "--agent_id=001",
                    "--index=" + std::string(kFiles)});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, sum + "\n");
  Ran all = aspctl({"manager", "checksum", store_flag_, "--module=fim", "--agent_id=001"});
  EXPECT_EQ(all.out, sum + "  states-fim-files  2 documents\n");
}

TEST_P(AspctlManager, OneStoreMustBeNamedAndAMissingOneIsAStorageError) {
  Ran both =
      aspctl({"manager", "agents", store_flag_,
              GetParam() == Store::kSqlite ? "--state_uri=postgresql:///x" : "--state_dir=/x"});
  EXPECT_EQ(both.code, 1);
  EXPECT_NE(both.err.find("exactly one of --state_dir (SQLite) and --state_uri"), std::string::npos)
      << both.err;
  EXPECT_EQ(aspctl({"manager", "agents"}).code, 1);
  Ran missing = aspctl({"manager", "agents", "--state_dir=" + dir_.file("nowhere")});
  EXPECT_EQ(missing.code, 7);
  EXPECT_NE(missing.err.find("no manager state in"), std::string::npos) << missing.err;
  Ran help = aspctl({"manager", "checksum", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--state_uri"), std::string::npos) << help.out;
  EXPECT_NE(aspctl({"--help"}).out.find("  manager agents "), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Stores, AspctlManager, ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const ::testing::TestParamInfo<Store>& info) {
                           return info.param == Store::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace asp::tools
