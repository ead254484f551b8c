#include "asp/storage/in_memory_change_set.h"

#include "asp/storage/queue_test_util.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::beginAndReadAll;
using testing::makeChange;

TEST(InMemoryChangeSet, KeepsNewestDocumentPerIdInFirstRecordedOrder) {
  InMemoryChangeSet set;
  ASSERT_TRUE(set.record(makeChange("a", Operation::kCreate, "a1", 1)).ok());
  ASSERT_TRUE(set.record(makeChange("b", Operation::kCreate, "b1", 1)).ok());
  ASSERT_TRUE(set.record(makeChange("a", Operation::kModify, "a2", 2)).ok());
  EXPECT_EQ(set.size(), 2u);
  std::vector<SessionChange> sent = beginAndReadAll(set);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].id, "a");
  EXPECT_EQ(sent[0].data, "a2");
  EXPECT_EQ(sent[0].seq, 0u);
  EXPECT_EQ(sent[1].id, "b");
  EXPECT_EQ(sent[1].seq, 1u);
}

// The default visitInFlight (pages of readInFlight), as a FULL session's recovery set uses it.
TEST(InMemoryChangeSet, VisitingShowsWhatReadingReturnsAndResumesWhereItStopped) {
  InMemoryChangeSet set;
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(set.record(makeChange("id" + std::to_string(i), Operation::kCreate,
                                      "data-" + std::to_string(i), i, i % 2 ? "a" : "b"))
                    .ok());
  }
  absl::StatusOr<SessionInfo> info = set.beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  testing::expectVisitsMatchReads(set, info->size);
}

TEST(InMemoryChangeSet, DeleteRemovesTheDocument) {
  InMemoryChangeSet set;
  ASSERT_TRUE(set.record(makeChange("a", Operation::kCreate, "a1")).ok());
  ASSERT_TRUE(set.record(makeChange("a", Operation::kDelete)).ok());
  EXPECT_EQ(set.size(), 0u);
  EXPECT_TRUE(beginAndReadAll(set).empty());
}

TEST(InMemoryChangeSet, SessionListsItsIndices) {
  InMemoryChangeSet set;
  ASSERT_TRUE(set.record(makeChange("a", Operation::kCreate, "", 0, "idx-b")).ok());
  ASSERT_TRUE(set.record(makeChange("b", Operation::kCreate, "", 0, "idx-a")).ok());
  absl::StatusOr<SessionInfo> info = set.beginSession({});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 2u);
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-a", "idx-b"}));
}

TEST(InMemoryChangeSet, CommitForgetsWhatWasSentAndKeepsWhatCameMeanwhile) {
  InMemoryChangeSet set;
  ASSERT_TRUE(set.record(makeChange("a", Operation::kCreate, "a1")).ok());
  beginAndReadAll(set);
  ASSERT_TRUE(set.record(makeChange("b", Operation::kCreate, "b1")).ok());
  ASSERT_TRUE(set.commitSession().ok());
  std::vector<SessionChange> next = beginAndReadAll(set);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].id, "b");
}

TEST(InMemoryChangeSet, AbortRestoresUnlessRecordedOrDeletedMeanwhile) {
  InMemoryChangeSet set;
  ASSERT_TRUE(set.record(makeChange("a", Operation::kCreate, "a1")).ok());
  ASSERT_TRUE(set.record(makeChange("b", Operation::kCreate, "b1")).ok());
  ASSERT_TRUE(set.record(makeChange("c", Operation::kCreate, "c1")).ok());
  beginAndReadAll(set);
  ASSERT_TRUE(set.record(makeChange("b", Operation::kModify, "b2")).ok());
  ASSERT_TRUE(set.record(makeChange("c", Operation::kDelete)).ok());
  ASSERT_TRUE(set.abortSession().ok());
  EXPECT_EQ(set.size(), 2u);
  std::vector<SessionChange> next = beginAndReadAll(set);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].id, "a");
  EXPECT_EQ(next[1].id, "b");
  EXPECT_EQ(next[1].data, "b2");
}

TEST(InMemoryChangeSet, SecondSessionIsRefusedWhileOneIsInFlight) {
  InMemoryChangeSet set;
  ASSERT_TRUE(set.beginSession({}).ok());
  EXPECT_EQ(set.beginSession({}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(InMemoryChangeSet, RefusesInvalidChanges) {
  InMemoryChangeSet set;
  EXPECT_EQ(set.record(makeChange("", Operation::kCreate)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(set.record(makeChange("a", Operation::kCreate, std::string(70000, 'x'))).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(set.size(), 0u);
}

TEST(InMemoryChangeSet, ClearForgetsEverything) {
  InMemoryChangeSet set;
  ASSERT_TRUE(set.record(makeChange("a", Operation::kCreate, "a1")).ok());
  set.clear();
  EXPECT_EQ(set.size(), 0u);
  EXPECT_TRUE(beginAndReadAll(set).empty());
}

TEST(InMemoryChangeSet, PagesRespectTheByteBudget) {
  InMemoryChangeSet set;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        set.record(makeChange("id" + std::to_string(i), Operation::kCreate, std::string(100, 'x')))
            .ok());
  }
  ASSERT_TRUE(set.beginSession({}).ok());
  absl::StatusOr<SessionPage> page = set.readInFlight(2, 9, 250);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->changes.size(), 3u) << "stops after the change that reaches the budget";
  EXPECT_EQ(page->changes[0].seq, 2u);
  absl::StatusOr<SessionPage> tail = set.readInFlight(8, 100, 1 << 20);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->changes.size(), 2u);
}

}  // namespace
}  // namespace asp
