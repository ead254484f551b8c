// Sessions on the SQLite queue: numbering, paging, retransmission reads, commit, abort,
// index filters, and recording from many threads while a session runs.
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::beginAndReadAll;
using testing::makeChange;
using testing::readAllInFlight;

class SqliteSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = testing::openQueue(dir_.file("fim_sync.db")); }

  void recordN(int n, const std::string& prefix = "id", const std::string& index = "idx") {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(queue_
                      ->record(makeChange(prefix + std::to_string(i), Operation::kCreate,
                                          "data-" + std::to_string(i), i, index))
                      .ok());
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteChangeQueue> queue_;
};

TEST_F(SqliteSessionTest, EmptyQueueBeginsAnEmptySession) {
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 0u);
  EXPECT_TRUE(info->indices.empty());
  EXPECT_TRUE(queue_->commitSession().ok());
}

TEST_F(SqliteSessionTest, SeqsFollowFirstRecordedOrder) {
  recordN(5);
  // Re-recording id2 coalesces in place: it keeps its first-recorded position.
  ASSERT_TRUE(queue_->record(makeChange("id2", Operation::kModify, "newer", 9, "idx")).ok());
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 5u);
  for (uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(sent[i].seq, i);
    EXPECT_EQ(sent[i].id, "id" + std::to_string(i));
  }
  EXPECT_EQ(sent[2].data, "newer");
}

// What a session sends: views of the rows, stopped and resumed frame by frame.
TEST_F(SqliteSessionTest, VisitingShowsWhatReadingReturnsAndResumesWhereItStopped) {
  recordN(8);
  ASSERT_TRUE(queue_->record(makeChange("id4", Operation::kDelete, "", 0, "idx")).ok());
  ASSERT_TRUE(queue_->record(makeChange("empty-data", Operation::kCreate, "", 5, "idx2")).ok());
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  testing::expectVisitsMatchReads(*queue_, info->size);
}

TEST_F(SqliteSessionTest, BeginReportsSizeAndSortedIndices) {
  recordN(3, "a", "idx-b");
  recordN(2, "b", "idx-a");
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-a", "idx-b"}));
}

TEST_F(SqliteSessionTest, SecondBeginIsRefusedWhileInFlight) {
  recordN(1);
  ASSERT_TRUE(queue_->beginSession({}).ok());
  absl::StatusOr<SessionInfo> again = queue_->beginSession({});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("fim_sync.db"), absl::string_view::npos);
}

TEST_F(SqliteSessionTest, PagesStopAtTheByteBudget) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(queue_
                    ->record(makeChange("i" + std::to_string(i), Operation::kCreate,
                                        std::string(1000, 'x'), 0, "idx"))
                    .ok());
  }
  ASSERT_TRUE(queue_->beginSession({}).ok());
  absl::StatusOr<SessionPage> page = queue_->readInFlight(0, 9, 2500);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->changes.size(), 3u);
  EXPECT_EQ(page->data_bytes, 3u * (2 + 3 + 1000));
  absl::StatusOr<SessionPage> one = queue_->readInFlight(4, 9, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->changes.size(), 1u) << "a page holds at least one change";
  EXPECT_EQ(one->changes[0].seq, 4u);
}

TEST_F(SqliteSessionTest, RetransmissionReadsExactlyTheRequestedRange) {
  recordN(20);
  ASSERT_TRUE(queue_->beginSession({}).ok());
  absl::StatusOr<SessionPage> range = queue_->readInFlight(7, 9, 1 << 20);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->changes.size(), 3u);
  EXPECT_EQ(range->changes[0].seq, 7u);
  EXPECT_EQ(range->changes[0].id, "id7");
  EXPECT_EQ(range->changes[2].seq, 9u);
  // Read again: same content (a second ReqRet for the same seqs).
  absl::StatusOr<SessionPage> again = queue_->readInFlight(7, 9, 1 << 20);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->changes[1].data, range->changes[1].data);
  EXPECT_TRUE(queue_->readInFlight(20, 30, 1 << 20)->changes.empty());
}

TEST_F(SqliteSessionTest, CommitDropsWhatWasSent) {
  recordN(3);
  beginAndReadAll(*queue_);
  ASSERT_TRUE(queue_->commitSession().ok());
  EXPECT_TRUE(queue_->counts()->empty());
  EXPECT_TRUE(beginAndReadAll(*queue_).empty());
}

TEST_F(SqliteSessionTest, AbortMakesEverythingPendingAgain) {
  recordN(3);
  beginAndReadAll(*queue_);
  ASSERT_TRUE(queue_->abortSession().ok());
  std::vector<SessionChange> again = beginAndReadAll(*queue_);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].id, "id0");
}

TEST_F(SqliteSessionTest, CountsShowPendingAndInFlightPerIndex) {
  recordN(3, "a", "idx-a");
  ASSERT_TRUE(queue_->beginSession({}).ok());
  recordN(2, "b", "idx-b");
  ASSERT_TRUE(queue_->record(makeChange("a0", Operation::kModify, "x", 1, "idx-a")).ok());
  absl::StatusOr<std::vector<IndexCounts>> counts = queue_->counts();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].index, "idx-a");
  EXPECT_EQ((*counts)[0].in_flight, 3u);
  EXPECT_EQ((*counts)[0].pending, 1u);
  EXPECT_EQ((*counts)[1].index, "idx-b");
  EXPECT_EQ((*counts)[1].pending, 2u);
  EXPECT_EQ((*counts)[1].in_flight, 0u);
}

TEST_F(SqliteSessionTest, IndexFilteredSessionFreezesOnlyThoseIndices) {
  recordN(2, "a", "idx-a");
  recordN(2, "b", "idx-b");
  absl::StatusOr<SessionInfo> info = queue_->beginSession(SessionScope::of({"idx-a"}));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 2u);
  // Recorded during the clean: newer than it, must survive.
  ASSERT_TRUE(queue_->record(makeChange("a9", Operation::kCreate, "late", 0, "idx-a")).ok());
  ASSERT_TRUE(queue_->commitSession().ok());
  std::vector<SessionChange> rest = beginAndReadAll(*queue_);
  std::set<std::string> ids;
  for (const SessionChange& c : rest) ids.insert(c.id);
  EXPECT_EQ(ids, (std::set<std::string>{"b0", "b1", "a9"}));
}

TEST_F(SqliteSessionTest, AChangeRecordedDuringACleanNeverFallsIntoItsFrozenRange) {
  ASSERT_TRUE(queue_->record(makeChange("a0", Operation::kCreate, "x", 0, "idx-a")).ok());
  ASSERT_TRUE(queue_->record(makeChange("b0", Operation::kCreate, "x", 0, "idx-b")).ok());
  ASSERT_TRUE(queue_->beginSession(SessionScope::of({"idx-a"})).ok());
  // b0 is not frozen (another index) and is cancelled: the highest row disappears.
  ASSERT_TRUE(queue_->record(makeChange("b0", Operation::kDelete, "", 0, "idx-b")).ok());
  ASSERT_TRUE(queue_->record(makeChange("a1", Operation::kCreate, "late", 0, "idx-a")).ok());
  ASSERT_TRUE(queue_->commitSession().ok());
  std::vector<SessionChange> rest = beginAndReadAll(*queue_);
  ASSERT_EQ(rest.size(), 1u) << "a1 was recorded after the clean began";
  EXPECT_EQ(rest[0].id, "a1");
}

TEST_F(SqliteSessionTest, AChangeMovedIntoTheCleanedIndexDuringTheCleanSurvivesIt) {
  ASSERT_TRUE(queue_->record(makeChange("a0", Operation::kCreate, "x", 0, "idx-a")).ok());
  ASSERT_TRUE(queue_->record(makeChange("b0", Operation::kCreate, "x", 0, "idx-b")).ok());
  ASSERT_TRUE(queue_->beginSession(SessionScope::of({"idx-a"})).ok());
  // b0 is below the frozen range's top but not frozen (another index). Recorded again,
  // now in the index being cleaned: a change newer than the clean, which must survive it.
  ASSERT_TRUE(queue_->record(makeChange("b0", Operation::kModify, "moved", 1, "idx-a")).ok());
  ASSERT_TRUE(queue_->commitSession().ok());
  std::vector<SessionChange> rest = beginAndReadAll(*queue_);
  ASSERT_EQ(rest.size(), 1u) << "b0 was recorded after the clean began";
  EXPECT_EQ(rest[0].id, "b0");
  EXPECT_EQ(rest[0].index, "idx-a");
  EXPECT_EQ(rest[0].data, "moved");
}

TEST_F(SqliteSessionTest, RowNumbersStayAboveTheWatermarkAcrossReopen) {
  recordN(3);
  beginAndReadAll(*queue_);
  ASSERT_TRUE(queue_->commitSession().ok());
  queue_.reset();  // empty table; the watermark is all that remembers the numbers
  queue_ = testing::openQueue(dir_.file("fim_sync.db"));
  ASSERT_TRUE(queue_->record(makeChange("fresh", Operation::kCreate, "x")).ok());
  ASSERT_TRUE(queue_->record(makeChange("fresh", Operation::kDelete)).ok());
  EXPECT_TRUE(beginAndReadAll(*queue_).empty()) << "a new row is still new: its delete cancels it";
}

TEST_F(SqliteSessionTest, BatchIsAllOrNothing) {
  std::vector<Change> batch = {makeChange("x", Operation::kCreate, "1"),
                               makeChange("", Operation::kCreate, "bad")};
  absl::Status s = queue_->recordBatch(batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(beginAndReadAll(*queue_).empty());
}

TEST_F(SqliteSessionTest, BatchCoalescesInOrder) {
  std::vector<Change> batch = {makeChange("x", Operation::kCreate, "1"),
                               makeChange("y", Operation::kCreate, "1"),
                               makeChange("x", Operation::kDelete)};
  ASSERT_TRUE(queue_->recordBatch(batch).ok());
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].id, "y");
}

TEST_F(SqliteSessionTest, ManyThreadsRecordWhileASessionRuns) {
  recordN(100, "old");
  ASSERT_TRUE(queue_->beginSession({}).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Half touch ids in flight, half are fresh.
        std::string id = (i % 2 == 0) ? "old" + std::to_string((i / 2) % 100)
                                      : "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!queue_->record(makeChange(id, Operation::kModify, "v", i, "idx")).ok()) ++failures;
      }
    });
  }
  // Meanwhile the session pages through its frozen changes.
  std::vector<SessionChange> in_flight = readAllInFlight(*queue_, 100);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(in_flight.size(), 100u);
  for (const SessionChange& c : in_flight) EXPECT_EQ(c.data, "data-" + c.id.substr(3));
  ASSERT_TRUE(queue_->commitSession().ok());
  // 100 in-flight ids re-recorded (pending again) + every fresh id.
  std::vector<SessionChange> next = beginAndReadAll(*queue_);
  EXPECT_EQ(next.size(), 100u + kThreads * kPerThread / 2);
}

}  // namespace
}  // namespace asp
