// docs/protocol.md §7: the manager keeps state per (agent, module, index). Two modules of one
// agent that use the same index name never touch each other's documents: not with a
// FULL, not with a DataClean. Driven through ManagerCore, message by message, on every
// store the reference manager ships with.
#include <functional>
#include <memory>

#include "asp/manager/manager_core.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/testing/simulated_clock.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

using wire::v1::Message;

constexpr char kAgent[] = "001";
constexpr char kShared[] = "states-shared";

struct StoreMaker {
  std::string name;
  std::function<std::unique_ptr<StateStore>(const testing::TempDir&)> make;
};

class PerModuleStateTest : public ::testing::TestWithParam<StoreMaker> {
 protected:
  PerModuleStateTest() : store_(GetParam().make(dir_)), core_(options(), store_.get()) {}

  ManagerCore::Options options() {
    ManagerCore::Options o;
    o.clock = &clock_;
    o.seed = 1;
    return o;
  }

  uint64_t open(const std::string& module, wire::v1::Mode mode, uint64_t size) {
    Message m;
    m.mutable_start()->set_module(module);
    m.mutable_start()->set_mode(mode);
    m.mutable_start()->set_size(size);
    m.mutable_start()->add_indices(kShared);
    m.mutable_start()->mutable_agent()->set_id(kAgent);
    std::vector<Message> answers = core_.handle(m);
    EXPECT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers.at(0).start_ack().status(), wire::v1::STATUS_OK);
    return answers.at(0).start_ack().session();
  }

  void value(uint64_t session, uint64_t seq, const std::string& id, const std::string& data) {
    Message m;
    wire::v1::DataValue* v = m.mutable_data_value();
    v->set_session(session);
    v->set_seq(seq);
    v->set_id(id);
    v->set_index(kShared);
    v->set_data(data);
    v->set_version(1);
    v->set_operation(wire::v1::OPERATION_UPSERT);
    core_.handle(m);
  }

  void clean(uint64_t session, uint64_t seq) {
    Message m;
    m.mutable_data_clean()->set_session(session);
    m.mutable_data_clean()->set_seq(seq);
    m.mutable_data_clean()->set_index(kShared);
    core_.handle(m);
  }

  wire::v1::Status end(uint64_t session) {
    Message m;
    m.mutable_end()->set_session(session);
    std::vector<Message> answers = core_.handle(m);
    return answers.size() == 1 ? answers[0].end_ack().status() : wire::v1::STATUS_UNSPECIFIED;
  }

  // A DELTA of `module` that upserts `ids` into the shared index.
  void sync(const std::string& module, const std::vector<std::string>& ids) {
    const uint64_t s = open(module, wire::v1::MODE_DELTA, ids.size());
    for (size_t i = 0; i < ids.size(); ++i) value(s, i, ids[i], module + ":" + ids[i]);
    ASSERT_EQ(end(s), wire::v1::STATUS_OK);
  }

  IndexState held(const std::string& module) {
    absl::StatusOr<IndexState> documents = store_->documents({kAgent, module}, kShared);
    EXPECT_TRUE(documents.ok()) << documents.status();
    return documents.value_or(IndexState{});
  }

  testing::TempDir dir_;
  testing::SimulatedClock clock_;
  std::unique_ptr<StateStore> store_;
  ManagerCore core_;
};

TEST_P(PerModuleStateTest, AFullFromOneModuleLeavesAnotherModulesIndexOfTheSameNameAlone) {
  sync("fim", {"a", "b"});
  sync("sca", {"a", "c"});
  const uint64_t s = open("fim", wire::v1::MODE_FULL, 1);
  value(s, 0, "z", "fim:z");
  ASSERT_EQ(end(s), wire::v1::STATUS_OK);

  EXPECT_EQ(held("fim"), (IndexState{{"z", {"fim:z", 1}}}));
  EXPECT_EQ(held("sca"), (IndexState{{"a", {"sca:a", 1}}, {"c", {"sca:c", 1}}}))
      << "sca's documents of '" << kShared << "' survive fim's FULL of its own";
}

TEST_P(PerModuleStateTest, ACleanFromOneModuleLeavesAnotherModulesIndexOfTheSameNameAlone) {
  sync("fim", {"a"});
  sync("sca", {"a", "c"});
  const uint64_t s = open("fim", wire::v1::MODE_DELTA, 1);
  clean(s, 0);
  ASSERT_EQ(end(s), wire::v1::STATUS_OK);

  EXPECT_TRUE(held("fim").empty());
  EXPECT_EQ(held("sca").size(), 2u) << "sca's documents survive fim's DataClean";
  absl::StatusOr<std::vector<std::string>> sca = store_->indices({kAgent, "sca"});
  ASSERT_TRUE(sca.ok());
  EXPECT_EQ(*sca, std::vector<std::string>{kShared});
  absl::StatusOr<std::vector<std::string>> fim = store_->indices({kAgent, "fim"});
  ASSERT_TRUE(fim.ok());
  EXPECT_TRUE(fim->empty());
}

TEST_P(PerModuleStateTest, ChecksAndMetadataAreAnsweredPerModule) {
  sync("fim", {"a"});
  sync("sca", {"a", "c"});
  absl::StatusOr<std::string> fim = store_->checksum({kAgent, "fim"}, kShared);
  absl::StatusOr<std::string> sca = store_->checksum({kAgent, "sca"}, kShared);
  ASSERT_TRUE(fim.ok() && sca.ok());
  EXPECT_EQ(*fim, indexChecksum(held("fim")));
  EXPECT_NE(*fim, *sca);

  Message m;
  m.mutable_start()->set_module("sca");
  m.mutable_start()->set_mode(wire::v1::MODE_METADATA_DELTA);
  m.mutable_start()->add_indices("x");
  m.mutable_start()->set_global_version(3);
  m.mutable_start()->mutable_agent()->set_id(kAgent);
  ASSERT_EQ(end(core_.handle(m).at(0).start_ack().session()), wire::v1::STATUS_OK);
  EXPECT_EQ(store_->metadata({kAgent, "sca"})->global_version, 3u);
  EXPECT_EQ(store_->metadata({kAgent, "fim"}).status().code(), absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, PerModuleStateTest,
    ::testing::Values(StoreMaker{"InMemory",
                                 [](const testing::TempDir&) -> std::unique_ptr<StateStore> {
                                   return std::make_unique<InMemoryStateStore>();
                                 }},
                      StoreMaker{"Sqlite",
                                 [](const testing::TempDir& dir) -> std::unique_ptr<StateStore> {
                                   auto store = SqliteStateStore::open(dir.file("state.db"));
                                   EXPECT_TRUE(store.ok()) << store.status();
                                   return store.ok()
                                              ? std::unique_ptr<StateStore>(*std::move(store))
                                              : nullptr;
                                 }}),
    [](const ::testing::TestParamInfo<StoreMaker>& info) { return info.param.name; });

}  // namespace
}  // namespace asp::manager
