// docs/porting.md's modules, written against the established interface, run unchanged
// on ASP against the reference manager (ManagerServer on a socket in the test's
// directory), the test being the agent: its MQueue (asp/testing/agent_mqueue.h) routes
// the manager's answers to the module.
#include <map>
#include <memory>
#include <string>

#include "asp/base/checksum.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/state_store.h"
#include "asp/testing/agent_mqueue.h"
#include "asp/testing/state_drift.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/docs/porting_prelude.h"
#include "tests/docs/porting_test_snippets.h"

// The C module of the guide (a "file" snippet).
extern "C" {
void syscollector_on_answer(const uint8_t* data, size_t length);
bool syscollector_start(const char* db_path, const MQ_Functions* mq);
bool syscollector_scan(const char* package_json, const char* checksum);
void syscollector_stop(void);
void syscollector_shutdown(void);
}

namespace {

using Copy = std::map<std::string, std::string>;

std::string indexChecksum(const std::vector<std::string>& datas) {
  asp::IndexChecksum sum;
  for (const std::string& d : datas) sum.addDocument(d);
  return sum.finish();
}

class Porting : public ::testing::Test {
 protected:
  void SetUp() override {
    asp::manager::ManagerServer::Options m;
    m.socket_path = socket_;
    auto server = asp::manager::ManagerServer::start(m, &store_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    agent_mqueue_open(socket_.c_str());
  }

  void TearDown() override { agent_mqueue_close(); }

  Copy managerCopy(const std::string& module, const std::string& index) {
    Copy copy;
    for (const auto& [id, d] :
         store_.documents({"000", module}, index).value_or(asp::manager::IndexState{})) {
      copy[id] = d.data;
    }
    return copy;
  }

  asp::testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  asp::manager::InMemoryStateStore store_;
  std::unique_ptr<asp::manager::ManagerServer> server_;
};

void toSyscollector(void*, const uint8_t* data, size_t length) {
  syscollector_on_answer(data, length);
}

void toProtocol(void* protocol, const uint8_t* data, size_t length) {
  static_cast<AgentSyncProtocol*>(protocol)->parseResponseBuffer(data, length);
}

TEST_F(Porting, TheCModuleSyncsChecksAndRecoversUnchanged) {
  constexpr char kIndex[] = "states-inventory-packages";
  ASSERT_TRUE(syscollector_start(dir_.file("syscollector.db").c_str(), &agent_mqueue_functions));
  agent_mqueue_route("syscollector", toSyscollector, nullptr);
  const std::string v1 = R"({"version":"3.0.11"})";
  EXPECT_TRUE(syscollector_scan(v1.c_str(), indexChecksum({v1}).c_str()));
  EXPECT_EQ(managerCopy("syscollector", kIndex), (Copy{{"openssl", v1}}));

  // The manager's copy drifts: the check finds it and the FULL recovery repairs it.
  ASSERT_TRUE(
      asp::testing::putDocument(store_, {"000", "syscollector"}, kIndex, "stale", {"x", 1}).ok());
  const std::string v2 = R"({"version":"3.0.13"})";
  EXPECT_TRUE(syscollector_scan(v2.c_str(), indexChecksum({v2}).c_str()));
  EXPECT_EQ(managerCopy("syscollector", kIndex), (Copy{{"openssl", v2}}));

  syscollector_stop();
  EXPECT_FALSE(syscollector_scan(v2.c_str(), indexChecksum({v2}).c_str()));
  agent_mqueue_route("syscollector", nullptr, nullptr);
  syscollector_shutdown();
}

TEST_F(Porting, TheCppModuleSyncsAndChecksUnchanged) {
  std::unique_ptr<AgentSyncProtocol> fim =
      doc_snippets::make_fim(dir_.file("fim.db"), agent_mqueue_functions);
  ASSERT_NE(fim, nullptr);
  agent_mqueue_route("fim", toProtocol, fim.get());
  EXPECT_TRUE(
      doc_snippets::fim_cycle(*fim, indexChecksum({R"({"size":120})", R"({"size":2048})"})));
  EXPECT_EQ(managerCopy("fim", "states-fim-files"),
            (Copy{{"/etc/hosts", R"({"size":120})"}, {"/etc/passwd", R"({"size":2048})"}}));
  EXPECT_FALSE(doc_snippets::fim_cycle(*fim, indexChecksum({"something else"})));
  agent_mqueue_route("fim", nullptr, nullptr);
}

TEST_F(Porting, TheCppModuleSeesTheConstructorsErrorAsTheEstablishedOneThrowsIt) {
  EXPECT_EQ(doc_snippets::make_fim("/nonexistent-dir/x/fim.db", agent_mqueue_functions), nullptr);
}

}  // namespace
