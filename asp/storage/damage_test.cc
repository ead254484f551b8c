// docs/protocol.md §6: a change damaged on disk is a storage error naming its id, never sent
// as if it were good; a change that cannot be encoded never blocks the others. Both are
// set aside in quarantine after one failed session.
#include <string>
#include <vector>

#include "asp/storage/change_crc.h"
#include "asp/storage/queue_test_util.h"
#include "asp/testing/fault_vfs.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::makeChange;

class DamageTest : public ::testing::Test {
 protected:
  void SetUp() override { FaultVfs::get().reset(); }  // registers the VFS
  void TearDown() override { FaultVfs::get().reset(); }

  std::unique_ptr<SqliteChangeQueue> open() {
    SqliteChangeQueue::Options o;
    o.path = path_;
    o.vfs = FaultVfs::kName;
    return testing::openQueue(std::move(o));
  }

  void recordTen(SqliteChangeQueue& queue) {
    for (int i = 0; i < 10; ++i) {
      const std::string data =
          i == 4 ? "{\"hash\":\"ROTTEN-BYTES\"}" : "{\"n\":" + std::to_string(i) + "}";
      ASSERT_TRUE(
          queue.record(makeChange("file-" + std::to_string(i), Operation::kCreate, data)).ok());
    }
  }

  // The ids a full read of the session returns, or the first error.
  absl::StatusOr<std::vector<std::string>> readSession(SqliteChangeQueue& queue) {
    absl::StatusOr<SessionInfo> info = queue.beginSession({});
    if (!info.ok()) return info.status();
    std::vector<std::string> ids;
    uint64_t next = 0;
    while (next < info->size) {
      absl::StatusOr<SessionPage> page = queue.readInFlight(next, info->size - 1, 1 << 20);
      if (!page.ok()) return page.status();
      for (const SessionChange& c : page->changes) ids.push_back(c.id);
      next = page->changes.back().seq + 1;
    }
    return ids;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("fim_sync.db");
};

TEST_F(DamageTest, AChangeDamagedOnDiskIsAStorageErrorNamingItsIdAndIsNeverSent) {
  {
    auto queue = open();
    recordTen(*queue);
  }
  // Bit rot: one byte of change 4's data reads back flipped. SQLite does not notice.
  FaultVfs::get().flipOnRead("ROTTEN-BYTES");
  EXPECT_EQ(testing::integrityCheck(path_), "ok");
  auto queue = open();
  absl::StatusOr<std::vector<std::string>> sent = readSession(*queue);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(sent.status().message().find("'file-4'"), absl::string_view::npos) << sent.status();
  EXPECT_NE(sent.status().message().find("checksum mismatch"), absl::string_view::npos)
      << sent.status();
  ASSERT_TRUE(queue->abortSession().ok());

  // Set aside: the next session sends the nine others, and only them.
  absl::StatusOr<std::vector<SqliteChangeQueue::QuarantinedChange>> quarantined =
      queue->quarantined();
  ASSERT_TRUE(quarantined.ok()) << quarantined.status();
  ASSERT_EQ(quarantined->size(), 1u);
  EXPECT_EQ((*quarantined)[0].id, "file-4");
  EXPECT_NE((*quarantined)[0].reason.find("checksum"), std::string::npos);
  absl::StatusOr<std::vector<std::string>> next = readSession(*queue);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->size(), 9u);
  EXPECT_EQ(std::count(next->begin(), next->end(), "file-4"), 0);
}

TEST_F(DamageTest, SeveralDamagedChangesCostOneFailedSession) {
  {
    auto queue = open();
    for (int i = 0; i < 6; ++i) {
      const std::string data = i % 2 == 0 ? "ROT" : "fine";
      ASSERT_TRUE(
          queue->record(makeChange("f" + std::to_string(i), Operation::kCreate, data)).ok());
    }
  }
  FaultVfs::get().flipOnRead("ROT");
  auto queue = open();
  absl::StatusOr<std::vector<std::string>> sent = readSession(*queue);
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.status().message().find("nor 2 more"), absl::string_view::npos) << sent.status();
  ASSERT_TRUE(queue->abortSession().ok());
  FaultVfs::get().flipOnRead("");
  absl::StatusOr<std::vector<std::string>> next = readSession(*queue);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, (std::vector<std::string>{"f1", "f3", "f5"}));
  EXPECT_EQ(queue->quarantined()->size(), 3u);
}

// Rows an earlier version let in (ids that are not UTF-8) never block the queue.
TEST_F(DamageTest, AStoredIdThatIsNotUtf8IsQuarantinedAndTheOthersAreSent) {
  {
    auto queue = open();
    ASSERT_TRUE(queue->record(makeChange("good-1", Operation::kCreate, "a")).ok());
    ASSERT_TRUE(queue->record(makeChange("good-2", Operation::kCreate, "b")).ok());
  }
  const std::string bad_id = "caf\xe9.txt";
  const uint32_t crc = changeCrc(bad_id, "states-fim-files", 1, "c", 0);
  ASSERT_EQ(testing::execAll(path_,
                             "INSERT INTO change (row, id, idx, op, data, version, is_new, "
                             "crc) VALUES (1000, CAST(X'636166E92E747874' AS TEXT), "
                             "'states-fim-files', 1, X'63', 0, 1, " +
                                 std::to_string(crc) + ")"),
            "");
  auto queue = open();
  absl::StatusOr<std::vector<std::string>> sent = readSession(*queue);
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.status().message().find("not valid UTF-8"), absl::string_view::npos)
      << sent.status();
  ASSERT_TRUE(queue->abortSession().ok());
  absl::StatusOr<std::vector<std::string>> next = readSession(*queue);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, (std::vector<std::string>{"good-1", "good-2"}));
  EXPECT_EQ(queue->quarantined()->at(0).id, bad_id);
}

}  // namespace
}  // namespace asp
