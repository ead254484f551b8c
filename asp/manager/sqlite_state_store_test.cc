#include "asp/manager/sqlite_state_store.h"

#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

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
    ASSERT_TRUE((*store)->apply("001", update).ok());
    ASSERT_TRUE((*store)->apply("001", removal).ok());
    ASSERT_TRUE((*store)->putMetadata("001", {"MODE_GROUP_DELTA", {"x", "y"}, 9}).ok());
  }
  ASSERT_TRUE(memory.apply("001", update).ok());
  ASSERT_TRUE(memory.apply("001", removal).ok());
  auto store = SqliteStateStore::open(dir.file("state.db"));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->documents("001", "idx"), *memory.documents("001", "idx"));
  EXPECT_EQ(*(*store)->checksum("001", "idx"), *memory.checksum("001", "idx"));
  EXPECT_EQ(*(*store)->indices("001"), std::vector<std::string>{"idx"});
  EXPECT_EQ((*store)->metadata("001")->indices, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE((*store)->documents("002", "idx")->empty());
}

TEST(SqliteStateStore, FullReplacementAndCleans) {
  testing::TempDir dir;
  auto store = SqliteStateStore::open(dir.file("state.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->apply("001", upserts({{"old", "1"}})).ok());
  SessionUpdate full = upserts({{"new", "2"}});
  full.replaced_indices = {"idx"};
  ASSERT_TRUE((*store)->apply("001", full).ok());
  EXPECT_EQ((*store)->documents("001", "idx")->count("old"), 0u);
  EXPECT_EQ((*store)->documents("001", "idx")->count("new"), 1u);
  SessionUpdate clean;
  clean.ops.push_back({SessionUpdate::Op::Kind::kClean, "idx", "", "", 0});
  ASSERT_TRUE((*store)->apply("001", clean).ok());
  EXPECT_TRUE((*store)->documents("001", "idx")->empty());
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

}  // namespace
}  // namespace asp::manager
