// SqliteChangeQueue::recordAllOrNone: a stream of changes recorded in one transaction.
#include <optional>
#include <string>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::makeChange;
using testing::openQueue;

// A source over `changes`, then `end` (nullopt, or an error that ends the stream).
SqliteChangeQueue::ChangeSource sourceOf(std::vector<Change> changes,
                                         absl::Status end = absl::OkStatus()) {
  auto next = std::make_shared<size_t>(0);
  return [changes = std::move(changes), end, next]() -> absl::StatusOr<std::optional<Change>> {
    if (*next < changes.size()) return std::optional<Change>(changes[(*next)++]);
    if (!end.ok()) return end;
    return std::optional<Change>();
  };
}

uint64_t pendingIn(SqliteChangeQueue& queue) {
  uint64_t n = 0;
  for (const IndexCounts& c : queue.counts().value_or(std::vector<IndexCounts>{})) n += c.pending;
  return n;
}

class RecordAllOrNone : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::unique_ptr<SqliteChangeQueue> queue_ = openQueue(dir_.file("q.db"));
};

TEST_F(RecordAllOrNone, RecordsEveryChangeWithTheUsualCoalescing) {
  ASSERT_TRUE(queue_
                  ->recordAllOrNone(sourceOf({makeChange("a", Operation::kCreate, "1"),
                                              makeChange("b", Operation::kModify, "2"),
                                              makeChange("a", Operation::kDelete)}))
                  .ok());
  std::vector<std::string> ids;
  ASSERT_TRUE(queue_
                  ->forEachChange(
                      "", [&](const SqliteChangeQueue::StoredChange& c) { ids.push_back(c.id); })
                  .ok());
  EXPECT_EQ(ids, std::vector<std::string>{"b"}) << "created then deleted: nothing to send";
}

TEST_F(RecordAllOrNone, AnErrorFromTheSourceRecordsNothing) {
  absl::Status s = queue_->recordAllOrNone(
      sourceOf({makeChange("a", Operation::kCreate, "1"), makeChange("b", Operation::kCreate, "2")},
               absl::InvalidArgumentError("line 3: not JSON")));
  EXPECT_EQ(s, absl::InvalidArgumentError("line 3: not JSON"));
  EXPECT_EQ(pendingIn(*queue_), 0u);
}

TEST_F(RecordAllOrNone, AnInvalidChangeRecordsNothingAndSaysWhy) {
  absl::Status s = queue_->recordAllOrNone(sourceOf(
      {makeChange("a", Operation::kCreate, "1"), makeChange("", Operation::kCreate, "2")}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("id is empty"), absl::string_view::npos) << s;
  EXPECT_EQ(pendingIn(*queue_), 0u);
}

TEST_F(RecordAllOrNone, TheQueueStaysUsableAfterARefusedStream) {
  ASSERT_FALSE(queue_->recordAllOrNone(sourceOf({}, absl::DataLossError("input cut"))).ok());
  ASSERT_TRUE(queue_->record(makeChange("c", Operation::kModify, "3")).ok());
  EXPECT_EQ(pendingIn(*queue_), 1u);
}

TEST_F(RecordAllOrNone, AReadOnlyQueueRefuses) {
  queue_.reset();
  SqliteChangeQueue::Options options;
  options.path = dir_.file("q.db");
  options.read_only = true;
  std::unique_ptr<SqliteChangeQueue> reader = openQueue(options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->recordAllOrNone(sourceOf({makeChange("a", Operation::kCreate)})).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace asp
