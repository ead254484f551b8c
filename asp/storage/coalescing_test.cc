// The coalescing table of docs/protocol.md §6, one test per row, on the SQLite queue.
// "new" is observed the only way a user can: a later DELETE cancels a new change and
// is sent for one that is not new.
#include <memory>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::beginAndReadAll;
using testing::makeChange;

class CoalescingTest : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = testing::openQueue(dir_.file("fim_sync.db")); }

  void record(const std::string& id, Operation op, const std::string& data = "",
              uint64_t version = 0) {
    ASSERT_TRUE(queue_->record(makeChange(id, op, data, version)).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteChangeQueue> queue_;
};

TEST_F(CoalescingTest, CreateOnEmptyQueuesUpsert) {
  record("a", Operation::kCreate, "v1", 1);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].id, "a");
  EXPECT_FALSE(sent[0].is_delete);
  EXPECT_EQ(sent[0].data, "v1");
  EXPECT_EQ(sent[0].version, 1u);
}

TEST_F(CoalescingTest, CreateOnEmptyIsNew) {
  record("a", Operation::kCreate, "v1");
  record("a", Operation::kDelete);
  EXPECT_TRUE(beginAndReadAll(*queue_).empty());
}

TEST_F(CoalescingTest, ModifyOnEmptyQueuesUpsertThatIsNotNew) {
  record("a", Operation::kModify, "v2", 2);
  record("a", Operation::kDelete, "", 3);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].is_delete);
  EXPECT_EQ(sent[0].version, 3u);
}

TEST_F(CoalescingTest, DeleteOnEmptyQueuesDelete) {
  record("a", Operation::kDelete, "", 4);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].is_delete);
  EXPECT_EQ(sent[0].version, 4u);
}

TEST_F(CoalescingTest, CreateOrModifyOnPendingUpsertKeepsNewestDataAndVersion) {
  record("a", Operation::kCreate, "v1", 1);
  record("a", Operation::kModify, "v2", 2);
  record("a", Operation::kCreate, "v3", 3);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(sent[0].is_delete);
  EXPECT_EQ(sent[0].data, "v3");
  EXPECT_EQ(sent[0].version, 3u);
}

TEST_F(CoalescingTest, PendingUpsertStaysNewAfterModify) {
  record("a", Operation::kCreate, "v1");
  record("a", Operation::kModify, "v2");
  record("a", Operation::kDelete);
  EXPECT_TRUE(beginAndReadAll(*queue_).empty());
}

TEST_F(CoalescingTest, DeleteOfNewUnsentItemCancelsIt) {
  record("a", Operation::kCreate, "v1");
  record("b", Operation::kCreate, "v1");
  record("a", Operation::kDelete);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].id, "b");
}

TEST_F(CoalescingTest, DeleteOfPendingUpsertThatIsNotNewQueuesDelete) {
  record("a", Operation::kModify, "v1", 1);
  record("a", Operation::kDelete, "gone", 2);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].is_delete);
  EXPECT_EQ(sent[0].data, "gone");
  EXPECT_EQ(sent[0].version, 2u);
}

TEST_F(CoalescingTest, CreateOrModifyOnPendingDeleteQueuesUpsert) {
  record("a", Operation::kDelete, "", 1);
  record("a", Operation::kCreate, "back", 2);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(sent[0].is_delete);
  EXPECT_EQ(sent[0].data, "back");
  EXPECT_EQ(sent[0].version, 2u);
}

TEST_F(CoalescingTest, UpsertReplacingPendingDeleteIsNotNew) {
  // The manager still holds the document the delete was for: a later delete is sent.
  record("a", Operation::kDelete);
  record("a", Operation::kCreate, "back");
  record("a", Operation::kDelete);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].is_delete);
}

TEST_F(CoalescingTest, DeleteOfPendingDeleteKeepsOneDelete) {
  record("a", Operation::kDelete, "", 1);
  record("a", Operation::kDelete, "", 2);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].is_delete);
  EXPECT_EQ(sent[0].version, 2u);
}

TEST_F(CoalescingTest, ChangeInFlightIsUnchangedAndNewestStaysPendingAfterCommit) {
  record("a", Operation::kCreate, "v1", 1);
  std::vector<SessionChange> first = beginAndReadAll(*queue_);
  record("a", Operation::kModify, "v2", 2);
  // The session keeps sending its frozen copy, even when asked again (retransmission).
  std::vector<SessionChange> again = testing::readAllInFlight(*queue_, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].data, "v1");
  ASSERT_TRUE(queue_->commitSession().ok());
  std::vector<SessionChange> next = beginAndReadAll(*queue_);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].data, "v2");
  EXPECT_EQ(next[0].version, 2u);
}

TEST_F(CoalescingTest, ChangeInFlightTakesNewestContentAfterAbort) {
  record("a", Operation::kCreate, "v1", 1);
  record("b", Operation::kCreate, "b1", 1);
  beginAndReadAll(*queue_);
  record("a", Operation::kModify, "v2", 2);
  ASSERT_TRUE(queue_->abortSession().ok());
  std::vector<SessionChange> next = beginAndReadAll(*queue_);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].id, "a") << "keeps its first-recorded position";
  EXPECT_EQ(next[0].data, "v2");
  EXPECT_EQ(next[0].version, 2u);
  EXPECT_EQ(next[1].id, "b");
}

TEST_F(CoalescingTest, ChangeSentInFailedSessionIsNoLongerNew) {
  record("a", Operation::kCreate, "v1");
  beginAndReadAll(*queue_);
  ASSERT_TRUE(queue_->abortSession().ok());
  record("a", Operation::kDelete);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u) << "the manager may have applied the create";
  EXPECT_TRUE(sent[0].is_delete);
}

TEST_F(CoalescingTest, DeleteDuringFlightOfUpsertIsSentAfterCommit) {
  record("a", Operation::kCreate, "v1");
  beginAndReadAll(*queue_);
  record("a", Operation::kDelete);
  ASSERT_TRUE(queue_->commitSession().ok());
  std::vector<SessionChange> next = beginAndReadAll(*queue_);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_TRUE(next[0].is_delete);
}

TEST_F(CoalescingTest, CreateThenDeleteDuringFlightOfUpsertStillSendsDelete) {
  record("a", Operation::kCreate, "v1");
  beginAndReadAll(*queue_);
  record("a", Operation::kCreate, "v2");  // not new: the in-flight copy may land
  record("a", Operation::kDelete);
  ASSERT_TRUE(queue_->commitSession().ok());
  std::vector<SessionChange> next = beginAndReadAll(*queue_);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_TRUE(next[0].is_delete);
}

TEST_F(CoalescingTest, CreateDuringFlightOfDeleteIsNewAfterCommit) {
  record("a", Operation::kDelete);
  beginAndReadAll(*queue_);
  record("a", Operation::kCreate, "v1");
  ASSERT_TRUE(queue_->commitSession().ok());
  record("a", Operation::kDelete);
  EXPECT_TRUE(beginAndReadAll(*queue_).empty());
}

TEST_F(CoalescingTest, CreateDuringFlightOfDeleteIsNotNewAfterAbort) {
  record("a", Operation::kDelete);
  beginAndReadAll(*queue_);
  record("a", Operation::kCreate, "v1");
  ASSERT_TRUE(queue_->abortSession().ok());
  record("a", Operation::kDelete);
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].is_delete);
}

TEST_F(CoalescingTest, NewestIndexWins) {
  ASSERT_TRUE(queue_->record(makeChange("a", Operation::kCreate, "v1", 1, "idx-1")).ok());
  ASSERT_TRUE(queue_->record(makeChange("a", Operation::kModify, "v2", 2, "idx-2")).ok());
  std::vector<SessionChange> sent = beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].index, "idx-2");
}

}  // namespace
}  // namespace asp
