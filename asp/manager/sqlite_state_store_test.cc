#include "asp/manager/sqlite_state_store.h"

#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

const ModuleKey kFim{"001", "fim"};

SessionUpdate upserts(std::vector<std::pair<std::string, std::string>> docs) {
  SessionUpdate update;
  for (auto& [id, data] : docs) {
    SessionUpdate::Op op;
    op.index = "idx";
    op.id = id;
    op.data = data;
    op.version = 1;
    update.ops.push_back(op);
  }
  return update;
}

TEST(SqliteStateStore, SurvivesReopenAndMatchesTheInMemoryStore) {
  testing::TempDir dir;
  InMemoryStateStore memory;
  const SessionUpdate update = upserts({{"a", "A"}, {"b", "B"}, {"c", std::string("\0bin", 4)}});
  SessionUpdate removal;
  removal.ops.push_back({SessionUpdate::Op::Kind::kDelete, "idx", "b", "", 0});
  {
    auto store = SqliteStateStore::open(dir.file("state.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->apply(kFim, update).ok());
    ASSERT_TRUE((*store)->apply(kFim, removal).ok());
    ASSERT_TRUE((*store)->putMetadata(kFim, {"MODE_GROUP_DELTA", {"x", "y"}, 9}).ok());
  }
  ASSERT_TRUE(memory.apply(kFim, update).ok());
  ASSERT_TRUE(memory.apply(kFim, removal).ok());
  auto store = SqliteStateStore::open(dir.file("state.db"));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->documents(kFim, "idx"), *memory.documents(kFim, "idx"));
  EXPECT_EQ(*(*store)->checksum(kFim, "idx"), *memory.checksum(kFim, "idx"));
  EXPECT_EQ(*(*store)->indices(kFim), std::vector<std::string>{"idx"});
  EXPECT_EQ((*store)->metadata(kFim)->indices, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE((*store)->documents({"002", "fim"}, "idx")->empty());
}

TEST(SqliteStateStore, FullReplacementAndCleans) {
  testing::TempDir dir;
  auto store = SqliteStateStore::open(dir.file("state.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->apply(kFim, upserts({{"old", "1"}})).ok());
  SessionUpdate full = upserts({{"new", "2"}});
  full.replaced_indices = {"idx"};
  ASSERT_TRUE((*store)->apply(kFim, full).ok());
  EXPECT_EQ((*store)->documents(kFim, "idx")->count("old"), 0u);
  EXPECT_EQ((*store)->documents(kFim, "idx")->count("new"), 1u);
  SessionUpdate clean;
  clean.ops.push_back({SessionUpdate::Op::Kind::kClean, "idx", "", "", 0});
  ASSERT_TRUE((*store)->apply(kFim, clean).ok());
  EXPECT_TRUE((*store)->documents(kFim, "idx")->empty());
}

TEST(SqliteStateStore, RefusesAnUnknownSchemaVersion) {
  testing::TempDir dir;
  { ASSERT_TRUE(SqliteStateStore::open(dir.file("state.db")).ok()); }
  auto db = sqlite::Db::open(dir.file("state.db"), SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->exec("PRAGMA user_version = 5").ok());
  db->reset();
  absl::Status s = SqliteStateStore::open(dir.file("state.db")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("version 5"), absl::string_view::npos) << s;
}

TEST(SqliteStateStore, RefusesAVersionOneFileKeptPerAgentAndIndexNamingTheWayOut) {
  testing::TempDir dir;
  {
    auto db = sqlite::Db::open(dir.file("state.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->exec("CREATE TABLE document (agent TEXT, idx TEXT, id TEXT, data BLOB, "
                           "version INTEGER, checksum TEXT); PRAGMA user_version = 1")
                    .ok());
  }
  absl::Status s = SqliteStateStore::open(dir.file("state.db")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("schema version 1"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("Move the file aside"), absl::string_view::npos) << s;
  auto reopened = sqlite::Db::open(dir.file("state.db"), SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->queryInt("PRAGMA user_version"), 1) << "the old file is left as it was";
}

}  // namespace
}  // namespace asp::manager
