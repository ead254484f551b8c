// The SQLite queue's file: format, reopening, refusal of files it does not understand,
// durability levels, I/O faults and the asynchronous mode.

#include <string>
#include <thread>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/fault_vfs.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::beginAndReadAll;
using testing::FaultVfs;
using testing::makeChange;
using testing::readFile;
using testing::writeFile;

std::string queryOutside(const std::string& path, const std::string& sql) {
  return testing::queryOnce(path, sql);
}

class SqliteFileTest : public ::testing::Test {
 protected:
  void TearDown() override { FaultVfs::get().reset(); }

  SqliteChangeQueue::Options options() {
    SqliteChangeQueue::Options o;
    o.path = path_;
    return o;
  }

  absl::Status openError(SqliteChangeQueue::Options o) {
    return SqliteChangeQueue::open(std::move(o)).status();
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("fim_sync.db");
};

TEST_F(SqliteFileTest, CreatesAWalDatabaseWithASchemaVersion) {
  auto queue = testing::openQueue(path_);
  ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "x")).ok());
  EXPECT_EQ(queryOutside(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(queryOutside(path_, "PRAGMA auto_vacuum"), "1") << "FULL: freed pages go back";
  EXPECT_EQ(queryOutside(path_, "PRAGMA user_version"),
            std::to_string(SqliteChangeQueue::kSchemaVersion));
  EXPECT_EQ(queryOutside(path_, "SELECT count(*) FROM change"), "1");
}

TEST_F(SqliteFileTest, ChangesSurviveCloseAndReopen) {
  {
    auto queue = testing::openQueue(path_);
    ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "x", 7)).ok());
  }
  auto queue = testing::openQueue(path_);
  std::vector<SessionChange> sent = beginAndReadAll(*queue);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].data, "x");
  EXPECT_EQ(sent[0].version, 7u);
}

TEST_F(SqliteFileTest, CoalescingFindsChangesRecordedBeforeReopen) {
  {
    auto queue = testing::openQueue(path_);
    ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "a1")).ok());
    ASSERT_TRUE(queue->record(makeChange("b", Operation::kCreate, "b1")).ok());
  }
  auto queue = testing::openQueue(path_);
  ASSERT_TRUE(queue->record(makeChange("a", Operation::kDelete)).ok());
  ASSERT_TRUE(queue->record(makeChange("b", Operation::kModify, "b2")).ok());
  std::vector<SessionChange> sent = beginAndReadAll(*queue);
  ASSERT_EQ(sent.size(), 1u) << "a was created and deleted before any sync: nothing to send";
  EXPECT_EQ(sent[0].id, "b");
  EXPECT_EQ(sent[0].data, "b2");
}

TEST_F(SqliteFileTest, ReopenAfterCloseMidSessionMakesInFlightPendingAgain) {
  {
    auto queue = testing::openQueue(path_);
    ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "a1")).ok());
    ASSERT_TRUE(queue->record(makeChange("b", Operation::kCreate, "b1")).ok());
    ASSERT_TRUE(queue->beginSession({}).ok());
    ASSERT_TRUE(queue->record(makeChange("a", Operation::kModify, "a2")).ok());
  }
  auto queue = testing::openQueue(path_);
  absl::StatusOr<std::vector<IndexCounts>> counts = queue->counts();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].pending, 2u);
  EXPECT_EQ((*counts)[0].in_flight, 0u);
  ASSERT_TRUE(queue->record(makeChange("b", Operation::kDelete)).ok());
  std::vector<SessionChange> sent = beginAndReadAll(*queue);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].data, "a2") << "newest content";
  EXPECT_TRUE(sent[1].is_delete) << "b was sent once, so it is no longer new";
}

TEST_F(SqliteFileTest, RefusesANewerSchemaVersionAndLeavesTheFileAlone) {
  { testing::openQueue(path_); }
  const std::string newer = std::to_string(SqliteChangeQueue::kSchemaVersion + 1);
  ASSERT_EQ(queryOutside(path_, "PRAGMA user_version = " + newer), "<error>");  // no row, applied
  const std::string before = readFile(path_);
  absl::Status s = openError(options());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(path_), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("schema version " + newer), absl::string_view::npos) << s;
  EXPECT_EQ(readFile(path_), before);
}

// The tables versions 1 and 2 wrote, with two pending changes.
constexpr char kVersion2File[] = R"sql(
CREATE TABLE change (row INTEGER PRIMARY KEY, id TEXT NOT NULL, idx TEXT NOT NULL,
  op INTEGER NOT NULL CHECK (op IN (1, 2)), data BLOB NOT NULL, version INTEGER NOT NULL,
  is_new INTEGER NOT NULL);
CREATE INDEX change_by_id ON change(id);
CREATE TABLE queue_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO queue_state VALUES ('frozen_hi', -1), ('sent_watermark', 0);
CREATE TABLE frozen_index (idx TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO change VALUES (1, 'a', 'idx-a', 1, CAST('x' AS BLOB), 3, 1);
INSERT INTO change VALUES (2, 'b', 'idx-b', 2, CAST('' AS BLOB), 4, 0);
)sql";

void expectUpgradedWithBothChanges(const std::string& path) {
  auto queue = testing::openQueue(path);
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(queryOutside(path, "PRAGMA user_version"),
            std::to_string(SqliteChangeQueue::kSchemaVersion));
  absl::StatusOr<SessionInfo> info = queue->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 2u);
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-a", "idx-b"}));
  // Every row got its checksum: reading them for sending finds nothing damaged.
  absl::StatusOr<SessionPage> page = queue->readInFlight(0, 1, 1 << 20);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->changes.size(), 2u);
  EXPECT_EQ(page->changes[0].data, "x");
  EXPECT_EQ(page->changes[0].version, 3u);
  EXPECT_TRUE(page->changes[1].is_delete);
}

TEST_F(SqliteFileTest, UpgradesASchemaTwoFileKeepingItsChanges) {
  ASSERT_EQ(
      testing::execAll(path_, std::string(kVersion2File) +
                                  "CREATE TABLE queue_index (idx TEXT PRIMARY KEY) WITHOUT ROWID;"
                                  "INSERT INTO queue_index VALUES ('idx-a'), ('idx-b');"
                                  "PRAGMA user_version = 2;"),
      "");
  expectUpgradedWithBothChanges(path_);
}

TEST_F(SqliteFileTest, UpgradesASchemaOneFileKeepingItsChanges) {
  // Version 1: version 2 but queue_index.
  ASSERT_EQ(testing::execAll(path_, std::string(kVersion2File) + "PRAGMA user_version = 1;"), "");
  expectUpgradedWithBothChanges(path_);
}

// A file as version 3 left it (no auto-vacuum, no confirmed rows): written by this
// version, then converted back. Holds a and b as kVersion2File does, then `big` changes
// of 4,000 bytes (big-0...) in idx-a, and runs `then_sql`.
void writeVersion3File(const std::string& path, int big, const std::string& then_sql = "") {
  {
    auto queue = testing::openQueue(path);
    ASSERT_NE(queue, nullptr);
    ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "x", 3, "idx-a")).ok());
    ASSERT_TRUE(queue->record(makeChange("b", Operation::kDelete, "", 4, "idx-b")).ok());
    std::vector<Change> batch;
    for (int i = 0; i < big; ++i) {
      batch.push_back(makeChange("big-" + std::to_string(i), Operation::kCreate,
                                 std::string(4000, 'd'), 1, "idx-a"));
    }
    ASSERT_TRUE(batch.empty() || queue->recordBatch(batch).ok());
  }
  ASSERT_EQ(testing::execAll(path,
                             "PRAGMA auto_vacuum = NONE; VACUUM; "
                             "DELETE FROM queue_state WHERE key IN ('confirmed_hi', 'dead_rows'); "
                             "PRAGMA user_version = 3; " +
                                 then_sql),
            "");
  ASSERT_EQ(queryOutside(path, "PRAGMA auto_vacuum"), "0");
}

int64_t fileBytes(const std::string& path) { return static_cast<int64_t>(readFile(path).size()); }

TEST_F(SqliteFileTest, UpgradesASchemaThreeFileKeepingItsChangesAndGivesItsFreePagesBack) {
  // 24 MiB written and deleted again: free pages that version 3 never gave back.
  writeVersion3File(path_, 6000, "DELETE FROM change WHERE id LIKE 'big-%';");
  ASSERT_GT(fileBytes(path_), int64_t{20} << 20);
  expectUpgradedWithBothChanges(path_);
  EXPECT_EQ(queryOutside(path_, "PRAGMA auto_vacuum"), "1") << "converted at open: little is live";
  EXPECT_LT(fileBytes(path_), int64_t{1} << 20);
}

TEST_F(SqliteFileTest, ASchemaThreeFileWithALargeQueueIsConvertedWhenTheQueueEmpties) {
  writeVersion3File(path_, 6000);
  auto queue = testing::openQueue(path_);
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(queryOutside(path_, "PRAGMA auto_vacuum"), "0") << "24 MiB live: not at open";
  EXPECT_EQ(beginAndReadAll(*queue).size(), 6002u);
  ASSERT_TRUE(queue->commitSession().ok());
  queue->awaitReclaim();
  EXPECT_EQ(queryOutside(path_, "PRAGMA auto_vacuum"), "1");
  EXPECT_LT(fileBytes(path_), int64_t{1} << 20);
  ASSERT_TRUE(queue->record(makeChange("after", Operation::kCreate, "x")).ok());
  EXPECT_EQ(beginAndReadAll(*queue).size(), 1u);
}

TEST_F(SqliteFileTest, AnIndexFirstSeenInAFailedWriteIsStillListedAfterReopen) {
  SqliteChangeQueue::Options o = options();
  o.vfs = testing::FaultVfs::kName;
  testing::FaultVfs& vfs = testing::FaultVfs::get();
  {
    auto queue = testing::openQueue(o);
    ASSERT_NE(queue, nullptr);
    ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "x", 0, "idx-a")).ok());
    vfs.reset();
    vfs.failSyncsAfter(0);
    vfs.failWritesAfter(0);
    EXPECT_FALSE(queue->record(makeChange("n1", Operation::kCreate, "x", 0, "idx-new")).ok());
    vfs.reset();
    // The failed write must not leave idx-new "known" without its queue_index row.
    ASSERT_TRUE(queue->record(makeChange("n2", Operation::kCreate, "x", 0, "idx-new")).ok());
  }
  auto queue = testing::openQueue(path_);
  ASSERT_NE(queue, nullptr);
  absl::StatusOr<SessionInfo> info = queue->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-a", "idx-new"}));
  EXPECT_EQ(info->size, 2u);
}

TEST_F(SqliteFileTest, AnIndexWhoseChangesAllCancelledIsNotListed) {
  auto queue = testing::openQueue(path_);
  ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "x", 0, "idx-a")).ok());
  ASSERT_TRUE(queue->record(makeChange("g", Operation::kCreate, "x", 0, "idx-gone")).ok());
  ASSERT_TRUE(queue->record(makeChange("g", Operation::kDelete, "", 0, "idx-gone")).ok());
  absl::StatusOr<SessionInfo> info = queue->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-a"}));
  EXPECT_EQ(info->size, 1u);
  EXPECT_EQ(queryOutside(path_, "SELECT group_concat(idx) FROM queue_index"), "idx-a");
  ASSERT_TRUE(queue->commitSession().ok());
  queue->awaitReclaim();
  EXPECT_EQ(queryOutside(path_, "SELECT count(*) FROM queue_index"), "0")
      << "emptied with the queue";
  ASSERT_TRUE(queue->record(makeChange("g2", Operation::kCreate, "x", 0, "idx-gone")).ok());
  info = queue->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-gone"}));
}

TEST_F(SqliteFileTest, RefusesACorruptFileAndLeavesItAlone) {
  const std::string garbage(8192, 'G');
  ASSERT_TRUE(writeFile(path_, garbage));
  absl::Status s = openError(options());
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find(path_), absl::string_view::npos) << s;
  EXPECT_EQ(readFile(path_), garbage);
}

TEST_F(SqliteFileTest, RefusesAFileWithCorruptPages) {
  {
    auto queue = testing::openQueue(path_);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(queue
                      ->record(makeChange("id" + std::to_string(i), Operation::kCreate,
                                          std::string(100, 'x')))
                      .ok());
    }
  }
  std::string bytes = readFile(path_);
  ASSERT_GT(bytes.size(), 8192u);
  for (size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31);
  ASSERT_TRUE(writeFile(path_, bytes));
  absl::Status s = openError(options());
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find(path_), absl::string_view::npos) << s;
  EXPECT_EQ(readFile(path_), bytes);
}

TEST_F(SqliteFileTest, RefusesAnotherApplicationsDatabase) {
  ASSERT_EQ(queryOutside(path_, "CREATE TABLE users (name TEXT)"), "<error>");
  const std::string before = readFile(path_);
  ASSERT_FALSE(before.empty());
  absl::Status s = openError(options());
  EXPECT_EQ(readFile(path_), before);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("not an ASP change queue"), absl::string_view::npos) << s;
}

TEST_F(SqliteFileTest, ReportsAMissingDirectoryNamingTheFile) {
  SqliteChangeQueue::Options o = options();
  o.path = dir_.file("no/such/dir/fim_sync.db");
  absl::Status s = openError(o);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(o.path), absl::string_view::npos) << s;
}

TEST_F(SqliteFileTest, ReportsAFileThatCannotBeOpened) {
  SqliteChangeQueue::Options o = options();
  o.vfs = FaultVfs::kName;
  FaultVfs::get().failOpens(true);
  absl::Status s = openError(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find(path_), absl::string_view::npos) << s;
}

TEST_F(SqliteFileTest, RefusesAnEmptyPathAndAnOversizeFrameBudget) {
  SqliteChangeQueue::Options o = options();
  o.path.clear();
  EXPECT_EQ(openError(o).code(), absl::StatusCode::kInvalidArgument);
  o = options();
  o.limits.frame_budget_bytes = 70000;
  absl::Status s = openError(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("70000"), absl::string_view::npos) << s;
}

TEST_F(SqliteFileTest, DeleteDatabaseRemovesEverythingAndStaysUsable) {
  auto queue = testing::openQueue(path_);
  ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "x")).ok());
  ASSERT_TRUE(queue->deleteDatabase().ok());
  EXPECT_TRUE(beginAndReadAll(*queue).empty());
  ASSERT_TRUE(queue->commitSession().ok());
  ASSERT_TRUE(queue->record(makeChange("b", Operation::kCreate, "y")).ok());
  EXPECT_EQ(queryOutside(path_, "SELECT id FROM change"), "b");
}

TEST_F(SqliteFileTest, PowerLossDurabilitySyncsAtEveryCommit) {
  SqliteChangeQueue::Options o = options();
  o.vfs = FaultVfs::kName;
  o.durability = Durability::kPowerLoss;
  auto queue = testing::openQueue(o);
  FaultVfs::get().reset();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(queue->record(makeChange("id" + std::to_string(i), Operation::kCreate)).ok());
  }
  EXPECT_GE(FaultVfs::get().syncs(), 20u);
}

TEST_F(SqliteFileTest, PowerLossWritersOnManyThreadsShareTheirSyncs) {
  SqliteChangeQueue::Options o = options();
  o.vfs = FaultVfs::kName;
  o.durability = Durability::kPowerLoss;
  auto queue = testing::openQueue(o);
  FaultVfs::get().reset();
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(queue->record(makeChange(id, Operation::kCreate, "x")).ok()) << id;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // One commit each would be at least one sync each.
  EXPECT_LT(FaultVfs::get().syncs(), static_cast<uint64_t>(kThreads * kEach) * 3 / 4)
      << "group commit: writers waiting together share a transaction and its fsync";
  EXPECT_EQ(queryOutside(path_, "SELECT count(*) FROM change"), std::to_string(kThreads * kEach));
}

TEST_F(SqliteFileTest, ProcessCrashDurabilityDoesNotSyncEachCommit) {
  SqliteChangeQueue::Options o = options();
  o.vfs = FaultVfs::kName;
  auto queue = testing::openQueue(o);
  FaultVfs::get().reset();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(queue->record(makeChange("id" + std::to_string(i), Operation::kCreate)).ok());
  }
  EXPECT_GE(FaultVfs::get().writes(), 20u) << "each commit reaches the WAL file";
  EXPECT_LT(FaultVfs::get().syncs(), 5u);
}

TEST_F(SqliteFileTest, DiskFullAcknowledgesNothingAndRecoversWhenSpaceReturns) {
  SqliteChangeQueue::Options o = options();
  o.vfs = FaultVfs::kName;
  auto queue = testing::openQueue(o);
  ASSERT_TRUE(queue->record(makeChange("kept", Operation::kCreate, "1")).ok());
  FaultVfs::get().failWritesAfter(0, FaultVfs::Error::kFull);
  absl::Status s = queue->record(makeChange("refused", Operation::kCreate, "2"));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  FaultVfs::get().reset();
  ASSERT_TRUE(queue->record(makeChange("after", Operation::kCreate, "3")).ok());
  queue.reset();
  auto reopened = testing::openQueue(path_);
  std::vector<SessionChange> sent = beginAndReadAll(*reopened);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].id, "kept");
  EXPECT_EQ(sent[1].id, "after");
}

TEST_F(SqliteFileTest, FailedSyncAtPowerLossDurabilityIsAnError) {
  SqliteChangeQueue::Options o = options();
  o.vfs = FaultVfs::kName;
  o.durability = Durability::kPowerLoss;
  auto queue = testing::openQueue(o);
  FaultVfs::get().failSyncsAfter(0);
  EXPECT_FALSE(queue->record(makeChange("x", Operation::kCreate)).ok());
  FaultVfs::get().reset();
  EXPECT_TRUE(queue->record(makeChange("y", Operation::kCreate)).ok());
}

TEST_F(SqliteFileTest, AsynchronousModeIsDurableAfterFlush) {
  SqliteChangeQueue::Options o = options();
  o.asynchronous = true;
  auto queue = testing::openQueue(o);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(queue->record(makeChange("id" + std::to_string(i), Operation::kCreate)).ok());
  }
  ASSERT_TRUE(queue->flush().ok());
  EXPECT_EQ(queryOutside(path_, "SELECT count(*) FROM change"), "1000");
}

TEST_F(SqliteFileTest, AsynchronousModeFlushesOnClose) {
  {
    SqliteChangeQueue::Options o = options();
    o.asynchronous = true;
    auto queue = testing::openQueue(o);
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(queue->record(makeChange("id" + std::to_string(i), Operation::kCreate)).ok());
    }
  }
  EXPECT_EQ(queryOutside(path_, "SELECT count(*) FROM change"), "500");
}

TEST_F(SqliteFileTest, AsynchronousModeReportsCommitErrorsAndRetriesUntilTheyClear) {
  SqliteChangeQueue::Options o = options();
  o.asynchronous = true;
  o.vfs = FaultVfs::kName;
  o.async.retry_initial = absl::Milliseconds(1);
  o.async.retry_max = absl::Milliseconds(2);
  auto queue = testing::openQueue(o);
  FaultVfs::get().failWritesAfter(0, FaultVfs::Error::kFull);
  ASSERT_TRUE(queue->record(makeChange("a", Operation::kCreate, "1")).ok());
  absl::Status s = queue->flush();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  FaultVfs::get().reset();
  ASSERT_TRUE(queue->flush().ok());
  EXPECT_EQ(queryOutside(path_, "SELECT id FROM change"), "a");
}

}  // namespace
}  // namespace asp
