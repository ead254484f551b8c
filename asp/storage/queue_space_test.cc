// Deferred deletion and space (docs/storage.md, "Space"): a confirmed DELTA session's rows
// die in place and are removed in bulk; the file gives its space back once a backlog has
// drained. What the module sees (counts, sessions, coalescing) never includes a dead row.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::makeChange;
using testing::openQueue;
using testing::readAllInFlight;

constexpr char kIndex[] = "states-fim-files";

// Bytes the queue's files take on disk (the database and its WAL).
int64_t bytesOnDisk(const std::string& path) {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    struct stat st;
    if (stat((path + suffix).c_str(), &st) == 0) total += static_cast<int64_t>(st.st_blocks) * 512;
  }
  return total;
}

// Rows in the table, dead or live: what deferred deletion leaves on disk.
int64_t rowsInFile(const std::string& path) {
  return std::stoll(testing::queryOnce(path, "SELECT count(*) FROM change"));
}

class QueueSpaceTest : public ::testing::Test {
 protected:
  void record(const std::string& id, Operation operation, const std::string& data = "x") {
    ASSERT_TRUE(queue_->record(makeChange(id, operation, data)).ok()) << id;
  }

  void recordMany(int count, size_t data_bytes, const std::string& prefix = "file-") {
    std::vector<Change> batch;
    for (int i = 0; i < count; ++i) {
      batch.push_back(
          makeChange(prefix + std::to_string(i), Operation::kCreate, std::string(data_bytes, 'd')));
    }
    ASSERT_TRUE(queue_->recordBatch(batch).ok());
  }

  // One bounded session of at most `max` changes, confirmed; returns what it sent.
  std::vector<SessionChange> confirmOldest(uint64_t max) {
    SessionScope scope;
    scope.max_changes = max;
    absl::StatusOr<SessionInfo> info = queue_->beginSession(scope);
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return {};
    std::vector<SessionChange> sent = readAllInFlight(*queue_, info->size);
    EXPECT_TRUE(queue_->commitSession().ok());
    queue_->awaitReclaim();  // the file as the queue leaves it once its reclaimer is done
    return sent;
  }

  uint64_t pending() {
    absl::StatusOr<std::vector<IndexCounts>> counts = queue_->counts();
    EXPECT_TRUE(counts.ok()) << counts.status();
    uint64_t total = 0;
    for (const IndexCounts& c : counts.value_or(std::vector<IndexCounts>{})) total += c.pending;
    return total;
  }

  std::vector<std::string> idsOf(const std::vector<SessionChange>& changes) {
    std::vector<std::string> ids;
    for (const SessionChange& c : changes) ids.push_back(c.id);
    return ids;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("fim_sync.db");
  std::unique_ptr<SqliteChangeQueue> queue_ = openQueue(path_);
};

TEST_F(QueueSpaceTest, ADrainedQueueGivesItsSpaceBackToTheFileSystem) {
  recordMany(20000, 1024);  // about 24 MiB on disk
  ASSERT_GT(bytesOnDisk(path_), int64_t{20} << 20);
  while (pending() > 0) confirmOldest(3000);
  EXPECT_LT(bytesOnDisk(path_), int64_t{1} << 20)
      << "the freed pages go back to the file system, and the WAL is cut";
  queue_.reset();
  EXPECT_EQ(testing::integrityCheck(path_), "ok");
}

TEST_F(QueueSpaceTest, RowsConfirmedByABoundedSessionAreNeitherCountedNorSentAgain) {
  recordMany(10, 10);
  EXPECT_EQ(confirmOldest(4).size(), 4u);
  ASSERT_EQ(rowsInFile(path_), 10)
      << "the four confirmed rows wait, dead, for the end of the drain";
  EXPECT_EQ(pending(), 6u);
  std::vector<SessionChange> sent = confirmOldest(100);
  EXPECT_EQ(idsOf(sent),
            (std::vector<std::string>{"file-4", "file-5", "file-6", "file-7", "file-8", "file-9"}));
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(rowsInFile(path_), 0);
}

TEST_F(QueueSpaceTest, AChangeForAnIdWhoseConfirmedRowIsDeadIsQueuedAfresh) {
  record("a", Operation::kCreate, "a1");
  record("z", Operation::kCreate, "z1");
  record("b", Operation::kCreate, "b1");
  EXPECT_EQ(idsOf(confirmOldest(2)), (std::vector<std::string>{"a", "z"}));
  ASSERT_EQ(rowsInFile(path_), 3);
  // The manager holds a and z now: their changes are queued, not merged into dead rows
  // (which would lose them), and they are not new (a delete must be sent).
  record("a", Operation::kModify, "a2");
  record("z", Operation::kDelete, "");
  std::vector<SqliteChangeQueue::StoredChange> stored;
  ASSERT_TRUE(queue_->forEachChange("", [&](const auto& c) { stored.push_back(c); }).ok());
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0].id, "b");
  EXPECT_EQ(stored[1].id, "a");
  EXPECT_EQ(stored[1].data, "a2");
  EXPECT_FALSE(stored[1].is_new);
  EXPECT_EQ(stored[2].id, "z");
  EXPECT_TRUE(stored[2].is_delete);
  EXPECT_EQ(idsOf(confirmOldest(100)), (std::vector<std::string>{"b", "a", "z"}));
}

TEST_F(QueueSpaceTest, ACreateAfterTheIdsRowWasConfirmedAndDeletedIsNewAndCancelsWithItsDelete) {
  record("gone", Operation::kDelete, "");
  record("other", Operation::kCreate, "o");
  EXPECT_EQ(idsOf(confirmOldest(1)), (std::vector<std::string>{"gone"}));
  record("gone", Operation::kCreate, "back");
  record("gone", Operation::kDelete, "");
  EXPECT_EQ(idsOf(confirmOldest(100)), (std::vector<std::string>{"other"}))
      << "the manager had confirmed the delete: a create and delete since cancel out";
}

TEST_F(QueueSpaceTest, ReopeningAfterACommitThatLeftDeadRowsSeesOnlyTheLiveOnes) {
  recordMany(10, 10);
  EXPECT_EQ(confirmOldest(7).size(), 7u);
  queue_.reset();
  queue_ = openQueue(path_);
  EXPECT_EQ(pending(), 3u);
  record("file-0", Operation::kModify, "again");
  record("new", Operation::kCreate, "n");
  std::vector<SessionChange> sent = confirmOldest(100);
  EXPECT_EQ(idsOf(sent), (std::vector<std::string>{"file-7", "file-8", "file-9", "file-0", "new"}));
  EXPECT_EQ(sent[3].data, "again");
}

// A commit only moves the watermark; the queue's reclaimer removes the rows after it. A
// crash in between leaves the file as made here by hand: every row dead behind the
// watermark. The next open sends none of them and wakes the reclaimer, which empties the
// table.
TEST_F(QueueSpaceTest, RowsLeftDeadByACrashBeforeTheirRemovalGoAfterTheNextOpen) {
  recordMany(50, 10);
  queue_.reset();
  ASSERT_EQ(testing::execAll(path_,
                             "INSERT OR REPLACE INTO queue_state VALUES "
                             "('confirmed_hi', (SELECT max(row) FROM change)), "
                             "('sent_watermark', (SELECT max(row) FROM change)), "
                             "('dead_rows', 50), ('frozen_hi', -1)"),
            "");
  ASSERT_EQ(rowsInFile(path_), 50);
  queue_ = openQueue(path_);
  EXPECT_EQ(pending(), 0u) << "dead rows are never counted";
  queue_->awaitReclaim();
  EXPECT_EQ(rowsInFile(path_), 0) << "the open woke the reclaimer";
  record("after", Operation::kCreate, "a");
  EXPECT_EQ(idsOf(confirmOldest(100)), std::vector<std::string>{"after"});
}

TEST_F(QueueSpaceTest, TheEndOfADrainRemovesTheDeadRowsAndKeepsThoseRecordedMeanwhile) {
  recordMany(100, 10);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(confirmOldest(30).size(), 30u);
  ASSERT_EQ(rowsInFile(path_), 100) << "a drain under way removes nothing";
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 10u);
  record("file-99", Operation::kModify, "newest");  // in flight: a new row above the range
  record("late", Operation::kCreate, "l");
  ASSERT_TRUE(queue_->commitSession().ok());
  queue_->awaitReclaim();
  EXPECT_EQ(rowsInFile(path_), 2) << "100 dead rows under 2 live ones are removed at once";
  std::vector<SessionChange> sent = confirmOldest(100);
  ASSERT_EQ(idsOf(sent), (std::vector<std::string>{"file-99", "late"}));
  EXPECT_EQ(sent[0].data, "newest");
}

TEST_F(QueueSpaceTest, AnAbortedSessionAfterConfirmedOnesMergesOnlyLiveRows) {
  record("a", Operation::kCreate, "a1");
  record("b", Operation::kCreate, "b1");
  EXPECT_EQ(idsOf(confirmOldest(1)), (std::vector<std::string>{"a"}));
  record("a", Operation::kModify, "a2");  // a has a dead row and a live one now
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 2u);
  record("a", Operation::kModify, "a3");  // recorded while a2 is in flight
  ASSERT_TRUE(queue_->abortSession().ok());
  std::vector<SessionChange> sent = confirmOldest(100);
  ASSERT_EQ(idsOf(sent), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(sent[1].data, "a3") << "the newest content, in the in-flight row's place";
}

TEST_F(QueueSpaceTest, ACleanAfterConfirmedSessionsCountsAndDropsOnlyLiveRows) {
  ASSERT_TRUE(queue_->record(makeChange("a", Operation::kCreate, "1", 0, "idx-1")).ok());
  ASSERT_TRUE(queue_->record(makeChange("b", Operation::kCreate, "2", 0, "idx-2")).ok());
  ASSERT_TRUE(queue_->record(makeChange("c", Operation::kCreate, "3", 0, "idx-1")).ok());
  EXPECT_EQ(idsOf(confirmOldest(1)), (std::vector<std::string>{"a"}));
  absl::StatusOr<SessionInfo> clean = queue_->beginSession(SessionScope::of({"idx-1"}));
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_EQ(clean->size, 1u) << "c only: a's row is dead";
  ASSERT_TRUE(queue_->commitSession().ok());
  EXPECT_EQ(idsOf(confirmOldest(100)), (std::vector<std::string>{"b"}));
}

}  // namespace
}  // namespace asp
