// One suite every StateStore passes: in memory, SQLite and PostgreSQL (a real server,
// started by the test). What a manager's state must do whatever it is kept in: apply a
// session's upserts, deletes and cleans in seq order, replace a FULL's indices, keep
// (agent, module, index) apart, answer the same §5.1 checksums, keep metadata.
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "asp/base/checksum.h"
#include "asp/manager/postgres_state_store.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/manager/state_store.h"
#include "asp/testing/postgres_cluster.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

using Kind = SessionUpdate::Op::Kind;

const ModuleKey kFim{"001", "fim"};

struct StoreKind {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<StateStore>>(const testing::TempDir&)> open;
};

absl::StatusOr<std::unique_ptr<StateStore>> openPostgres(PostgresStateStore::Options options) {
  absl::StatusOr<testing::PostgresCluster*> cluster = testing::PostgresCluster::shared();
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<std::string> uri = (*cluster)->createDatabase();
  if (!uri.ok()) return uri.status();
  absl::StatusOr<std::unique_ptr<PostgresStateStore>> store =
      PostgresStateStore::open(*uri, options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(*std::move(store));
}

// A memory budget of 0: every session with an op streams through the staging table and
// is reduced by SQL, the path of sessions larger than the manager's memory.
PostgresStateStore::Options streaming() {
  PostgresStateStore::Options options;
  options.memory_budget_bytes = 0;
  return options;
}

SessionUpdate::Op upsert(const std::string& index, const std::string& id, const std::string& data,
                         uint64_t version = 1) {
  return {Kind::kUpsert, index, id, data, version};
}
SessionUpdate::Op remove(const std::string& index, const std::string& id) {
  return {Kind::kDelete, index, id, "", 0};
}
SessionUpdate::Op clean(const std::string& index) { return {Kind::kClean, index, "", "", 0}; }

SessionUpdate session(std::vector<SessionUpdate::Op> ops,
                      std::vector<std::string> replaced_indices = {}) {
  SessionUpdate update;
  update.ops = std::move(ops);
  update.replaced_indices = std::move(replaced_indices);
  return update;
}

class StateStoreSuite : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<StateStore>> store = GetParam().open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void apply(const ModuleKey& key, SessionUpdate update) {
    absl::Status s = store_->apply(key, std::move(update));
    ASSERT_TRUE(s.ok()) << s;
  }

  IndexState documents(const ModuleKey& key, const std::string& index) {
    absl::StatusOr<IndexState> held = store_->documents(key, index);
    EXPECT_TRUE(held.ok()) << held.status();
    return held.value_or(IndexState{});
  }

  std::vector<std::string> indices(const ModuleKey& key) {
    absl::StatusOr<std::vector<std::string>> names = store_->indices(key);
    EXPECT_TRUE(names.ok()) << names.status();
    return names.value_or(std::vector<std::string>{});
  }

  std::string checksum(const ModuleKey& key, const std::string& index) {
    absl::StatusOr<std::string> sum = store_->checksum(key, index);
    EXPECT_TRUE(sum.ok()) << sum.status();
    return sum.value_or("");
  }

  testing::TempDir dir_;
  std::unique_ptr<StateStore> store_;
};

TEST_P(StateStoreSuite, OpsOfOneSessionApplyInSeqOrder) {
  apply(kFim, session({upsert("idx", "a", "A1"), upsert("idx", "b", "B1"), remove("idx", "a"),
                       upsert("idx", "c", "C1"), upsert("idx", "c", "C2", 2),
                       remove("idx", "never-there")}));
  apply(kFim,
        session({upsert("idx", "a", "A3", 3), remove("idx", "b"), upsert("idx", "b", "B4", 4)}));
  EXPECT_EQ(documents(kFim, "idx"),
            (IndexState{{"a", {"A3", 3}}, {"b", {"B4", 4}}, {"c", {"C2", 2}}}));
}

// Upserts alone, one id twice: the last one counts (PostgreSQL's streamed path first tries
// a plain merge, which refuses a repeated key, and then reduces the session).
TEST_P(StateStoreSuite, UpsertsAloneWithARepeatedIdKeepTheLast) {
  apply(kFim, session({upsert("idx", "a", "A1"), upsert("idx", "b", "B1")}));
  apply(kFim, session({upsert("idx", "a", "A2", 2), upsert("idx", "c", "C1"),
                       upsert("idx", "a", "A3", 3)}));
  EXPECT_EQ(documents(kFim, "idx"),
            (IndexState{{"a", {"A3", 3}}, {"b", {"B1", 1}}, {"c", {"C1", 1}}}));
  // Without a repeat the plain merge applies it, over stored and new documents alike.
  apply(kFim, session({upsert("idx", "b", "B2", 2), upsert("idx", "d", "D1")}));
  EXPECT_EQ(documents(kFim, "idx"),
            (IndexState{{"a", {"A3", 3}}, {"b", {"B2", 2}}, {"c", {"C1", 1}}, {"d", {"D1", 1}}}));
}

TEST_P(StateStoreSuite, ASessionOverNewAndStoredIndicesAppliesToBoth) {
  apply(kFim, session({upsert("stored", "a", "A"), upsert("stored", "b", "B")}));
  apply(kFim, session({upsert("new", "x", "X"), remove("new", "y"), upsert("stored", "a", "A2", 2),
                       remove("stored", "b"), upsert("stored", "c", "C"), upsert("new", "y", "Y"),
                       remove("new", "x")}));
  EXPECT_EQ(documents(kFim, "new"), (IndexState{{"y", {"Y", 1}}}));
  EXPECT_EQ(documents(kFim, "stored"), (IndexState{{"a", {"A2", 2}}, {"c", {"C", 1}}}));
}

// Hands out `good` ops, then fails: a session whose spilled data cannot be read back.
class FailingOpSource final : public OpSource {
 public:
  explicit FailingOpSource(int good) : good_(good) {}
  absl::StatusOr<bool> next(SessionUpdate::Op* op) override {
    if (handed_ == good_)
      return absl::DataLossError("spill file damaged at op " + std::to_string(handed_));
    *op = upsert("idx", "new-" + std::to_string(handed_++), "N");
    return true;
  }

 private:
  const int good_;
  int handed_ = 0;
};

TEST_P(StateStoreSuite, ASessionWhoseOpsCannotBeReadChangesNothing) {
  apply(kFim, session({upsert("idx", "kept", "K")}));
  FailingOpSource ops(50);
  absl::Status status = store_->apply(kFim, {"idx"}, ops);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(documents(kFim, "idx"), (IndexState{{"kept", {"K", 1}}}))
      << "neither the FULL's emptying nor any of its 50 readable upserts is visible";
}

TEST_P(StateStoreSuite, AFullReplacesOnlyItsListedIndices) {
  apply(kFim, session({upsert("idx", "old", "O"), upsert("other", "keep", "K")}));
  apply(kFim, session({upsert("idx", "new", "N"), upsert("idx", "new", "N2", 2)}, {"idx"}));
  EXPECT_EQ(documents(kFim, "idx"), (IndexState{{"new", {"N2", 2}}}));
  EXPECT_EQ(documents(kFim, "other"), (IndexState{{"keep", {"K", 1}}}));
  apply(kFim, session({}, {"other"}));
  EXPECT_TRUE(documents(kFim, "other").empty()) << "a FULL with no document empties its index";
}

TEST_P(StateStoreSuite, ACleanDropsWhatCameBeforeItAndKeepsWhatComesAfter) {
  apply(kFim, session({upsert("idx", "stored", "S"), upsert("kept", "k", "K")}));
  apply(kFim, session({upsert("idx", "before", "B"), clean("idx"), upsert("idx", "after", "A"),
                       remove("idx", "stored")}));
  EXPECT_EQ(documents(kFim, "idx"), (IndexState{{"after", {"A", 1}}}));
  apply(kFim, session({clean("idx"), clean("idx")}));
  EXPECT_TRUE(documents(kFim, "idx").empty());
  EXPECT_EQ(indices(kFim), std::vector<std::string>{"kept"});
}

TEST_P(StateStoreSuite, AgentsAndModulesAreKeptApartUnderOneIndexName) {
  const ModuleKey sca{"001", "sca"}, other_agent{"002", "fim"};
  apply(kFim, session({upsert("shared", "a", "fim")}));
  apply(sca, session({upsert("shared", "a", "sca")}));
  apply(other_agent, session({upsert("shared", "a", "002")}));
  apply(kFim, session({upsert("shared", "z", "fim")}, {"shared"}));
  apply(other_agent, session({clean("shared")}));
  EXPECT_EQ(documents(kFim, "shared"), (IndexState{{"z", {"fim", 1}}}));
  EXPECT_EQ(documents(sca, "shared"), (IndexState{{"a", {"sca", 1}}}));
  EXPECT_TRUE(documents(other_agent, "shared").empty());
  EXPECT_TRUE(documents({"003", "fim"}, "shared").empty()) << "an unknown agent holds nothing";
}

TEST_P(StateStoreSuite, ChecksumsAreThoseOfProtocolSection5Point1) {
  // Binary data, a NUL inside an id, non-ASCII names: every store answers the checksum
  // the agent computes over the same documents.
  const std::string binary("\0\xff\x01 data", 8);
  apply(kFim, session({upsert("índice", std::string("id\0one", 6), binary),
                       upsert("índice", "two", "{\"x\":2}"), upsert("índice", "3", "")}));
  IndexChecksum expected;
  for (const std::string& data : {binary, std::string("{\"x\":2}"), std::string()}) {
    expected.addDocument(data);
  }
  EXPECT_EQ(checksum(kFim, "índice"), expected.finish());
  EXPECT_EQ(checksum(kFim, "índice"), indexChecksum(documents(kFim, "índice")));
  EXPECT_EQ(documents(kFim, "índice").at(std::string("id\0one", 6)).data, binary);
  EXPECT_EQ(checksum(kFim, "empty"), sha1Hex("")) << "an empty index: SHA-1 of nothing";
}

TEST_P(StateStoreSuite, ChecksumsAreEqualAcrossStoresForTheSameSessions) {
  // Many documents, so order matters: the reference is the in-memory store.
  InMemoryStateStore reference;
  SessionUpdate update;
  for (int i = 0; i < 2000; ++i) {
    update.ops.push_back(
        upsert("big", "doc" + std::to_string(i), "payload " + std::to_string(i * 7)));
  }
  for (int i = 0; i < 2000; i += 3) update.ops.push_back(remove("big", "doc" + std::to_string(i)));
  ASSERT_TRUE(reference.apply(kFim, update).ok());
  apply(kFim, update);
  EXPECT_EQ(checksum(kFim, "big"), *reference.checksum(kFim, "big"));
  EXPECT_EQ(documents(kFim, "big"), *reference.documents(kFim, "big"));
}

TEST_P(StateStoreSuite, ALargeSessionAppliesWhole) {
  SessionUpdate update;
  for (int i = 0; i < 30000; ++i) {
    update.ops.push_back(upsert("idx-" + std::to_string(i % 3), "id-" + std::to_string(i),
                                std::string(100, static_cast<char>('a' + i % 26)), i));
  }
  apply(kFim, update);
  EXPECT_EQ(indices(kFim), (std::vector<std::string>{"idx-0", "idx-1", "idx-2"}));
  EXPECT_EQ(documents(kFim, "idx-1").size(), 10000u);
  EXPECT_EQ(documents(kFim, "idx-2").at("id-29999").version, 29999u);
}

// Upserts, deletes and cleans over five indices, ids repeating, interleaved by index one
// op at a time and in runs: the store ends as replaying the ops one by one in seq order.
TEST_P(StateStoreSuite, MixedOpsOverManyIndicesEndAsTheirReplayInSeqOrder) {
  std::map<std::string, std::map<std::string, Document>> replay;
  replay["idx-4"]["kept"] = Document{"before", 1};
  apply(kFim, session({upsert("idx-4", "kept", "before", 1)}));
  SessionUpdate update;
  uint64_t state = 12345;
  auto draw = [&state](uint64_t n) {  // a fixed pseudo-random sequence
    state = state * 6364136223846793005u + 1442695040888963407u;
    return (state >> 33) % n;
  };
  for (uint64_t i = 0; i < 6000; ++i) {
    // The first half alternates indices op by op; the second comes in runs of 50.
    const std::string index = "idx-" + std::to_string(i < 3000 ? i % 5 : (i / 50) % 5);
    const uint64_t pick = draw(100);
    const std::string id = "id-" + std::to_string(draw(400));
    if (pick < 70) {
      const std::string data = "v" + std::to_string(i);
      update.ops.push_back(upsert(index, id, data, i + 1));
      replay[index][id] = Document{data, i + 1};
    } else if (pick < 99) {
      update.ops.push_back(remove(index, id));
      replay[index].erase(id);
    } else {
      update.ops.push_back(clean(index));
      replay.erase(index);
    }
  }
  update.ops.push_back(clean("idx-3"));
  replay.erase("idx-3");
  apply(kFim, update);
  std::vector<std::string> expected_indices;
  for (const auto& [index, documents] : replay) {
    if (!documents.empty()) expected_indices.push_back(index);
  }
  EXPECT_EQ(indices(kFim), expected_indices);
  for (int n = 0; n < 5; ++n) {
    const std::string index = "idx-" + std::to_string(n);
    const IndexState held = documents(kFim, index);
    const std::map<std::string, Document>& want = replay[index];
    EXPECT_EQ(held.size(), want.size()) << index;
    for (const auto& [id, document] : want) {
      auto it = held.find(id);
      ASSERT_NE(it, held.end()) << index << " lacks " << id;
      EXPECT_EQ(it->second, document) << index << " " << id;
    }
  }
}

TEST_P(StateStoreSuite, IndicesAreSortedBytewiseAndOmitEmptyOnes) {
  apply(kFim, session({upsert("b", "1", "x"), upsert("a", "1", "x"), upsert("\xc3\xa9", "1", "x"),
                       upsert("B", "1", "x"), upsert("gone", "1", "x"), remove("gone", "1")}));
  EXPECT_EQ(indices(kFim), (std::vector<std::string>{"B", "a", "b", "\xc3\xa9"}));
  EXPECT_TRUE(indices({"001", "other"}).empty());
}

TEST_P(StateStoreSuite, VersionsKeepAllSixtyFourBits) {
  apply(kFim,
        session({upsert("idx", "max", "x", UINT64_MAX), upsert("idx", "high", "x", 1ull << 63)}));
  EXPECT_EQ(documents(kFim, "idx").at("max").version, UINT64_MAX);
  EXPECT_EQ(documents(kFim, "idx").at("high").version, 1ull << 63);
}

TEST_P(StateStoreSuite, MetadataIsKeptPerModuleAndTheLatestWins) {
  EXPECT_EQ(store_->metadata(kFim).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->putMetadata(kFim, {"MODE_METADATA_DELTA", {"a"}, 1}).ok());
  const AgentMetadata groups{"MODE_GROUP_DELTA", {"x\ny", "", "z:1"}, UINT64_MAX};
  ASSERT_TRUE(store_->putMetadata(kFim, groups).ok());
  absl::StatusOr<AgentMetadata> held = store_->metadata(kFim);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->mode, groups.mode);
  EXPECT_EQ(held->indices, groups.indices) << "names with newlines, colons, empty ones";
  EXPECT_EQ(held->global_version, UINT64_MAX);
  EXPECT_EQ(store_->metadata({"001", "sca"}).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->putMetadata({"001", "sca"}, {"MODE_GROUP_CHECK", {}, 0}).ok());
  EXPECT_TRUE(store_->metadata({"001", "sca"})->indices.empty());
  EXPECT_EQ(store_->metadata(kFim)->mode, "MODE_GROUP_DELTA");
}

TEST_P(StateStoreSuite, MetadataDoesNotTouchDocumentsNorTheOtherWayRound) {
  apply(kFim, session({upsert("idx", "a", "A")}));
  ASSERT_TRUE(store_->putMetadata(kFim, {"MODE_METADATA_DELTA", {"idx"}, 5}).ok());
  apply(kFim, session({}, {"idx"}));
  EXPECT_EQ(store_->metadata(kFim)->global_version, 5u);
  EXPECT_TRUE(documents(kFim, "idx").empty());
}

// What operators see: every module with its documents per index, metadata-only modules
// too, sorted by (agent, module); a store that records when sessions apply says when.
TEST_P(StateStoreSuite, ModulesListsEveryModuleWithItsDocumentsPerIndex) {
  apply({"002", "sca"}, session({upsert("checks", "c1", "C")}));
  apply(kFim,
        session({upsert("files", "a", "A"), upsert("files", "b", "B"), upsert("dirs", "d", "D")}));
  apply(kFim, session({remove("files", "b"), clean("dirs")}));
  ASSERT_TRUE(store_->putMetadata({"001", "syscollector"}, {"MODE_METADATA_DELTA", {}, 1}).ok());
  const int64_t before = static_cast<int64_t>(std::time(nullptr)) - 5;

  absl::StatusOr<std::vector<ModuleSummary>> modules = store_->modules();
  ASSERT_TRUE(modules.ok()) << modules.status();
  ASSERT_EQ(modules->size(), 3u);
  EXPECT_EQ((*modules)[0].key, kFim);
  EXPECT_EQ((*modules)[0].documents, (std::map<std::string, uint64_t>{{"files", 1}}));
  EXPECT_EQ((*modules)[1].key, (ModuleKey{"001", "syscollector"}));
  EXPECT_TRUE((*modules)[1].documents.empty());
  EXPECT_EQ((*modules)[2].key, (ModuleKey{"002", "sca"}));
  EXPECT_EQ((*modules)[2].documents, (std::map<std::string, uint64_t>{{"checks", 1}}));
  if (!absl::StartsWith(GetParam().name, "InMemory")) {  // the in-memory store keeps no time
    EXPECT_GE((*modules)[0].last_applied_unix, before);
    EXPECT_LE((*modules)[0].last_applied_unix, before + 3600);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StateStoreSuite,
    ::testing::Values(
        StoreKind{"InMemory",
                  [](const testing::TempDir&) -> absl::StatusOr<std::unique_ptr<StateStore>> {
                    return std::unique_ptr<StateStore>(std::make_unique<InMemoryStateStore>());
                  }},
        // Every session over two indices or more applied by three threads, index by index.
        StoreKind{"InMemoryThreeThreads",
                  [](const testing::TempDir&) -> absl::StatusOr<std::unique_ptr<StateStore>> {
                    ApplyOptions apply;
                    apply.threads = 3;
                    apply.min_ops_to_share = 0;
                    return std::unique_ptr<StateStore>(std::make_unique<InMemoryStateStore>(apply));
                  }},
        StoreKind{"Sqlite",
                  [](const testing::TempDir& dir) -> absl::StatusOr<std::unique_ptr<StateStore>> {
                    auto store = SqliteStateStore::open(dir.file("state.db"));
                    if (!store.ok()) return store.status();
                    return std::unique_ptr<StateStore>(*std::move(store));
                  }},
        StoreKind{
            "Postgres",
            [](const testing::TempDir&) { return openPostgres(PostgresStateStore::Options()); }},
        StoreKind{"PostgresStreaming",
                  [](const testing::TempDir&) { return openPostgres(streaming()); }}),
    [](const ::testing::TestParamInfo<StoreKind>& info) { return info.param.name; });

}  // namespace
}  // namespace asp::manager
