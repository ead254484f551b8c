// docs/protocol.md §6 and §7 on the SQLite queue: context documents (kept apart from the
// changes, replaced by (index, id), cleared by a call, durable) and reading what is
// pending without a session (recorded order, paged, with or without the contexts).
#include <string>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::makeChange;

Change context(const std::string& id, const std::string& data, const std::string& index = "vd") {
  return Change{id, index, Operation::kModify, data, 1};
}

class ContextAndPendingTest : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = testing::openQueue(path_); }

  // Every item readPending returns, page after page of `max_items`.
  std::vector<PendingItem> readAll(bool with_context, size_t max_items = 1000,
                                   int* pages = nullptr) {
    std::vector<PendingItem> all;
    PendingQuery query;
    query.with_context = with_context;
    query.max_items = max_items;
    for (int page_count = 1;; ++page_count) {
      absl::StatusOr<PendingPage> page = queue_->readPending(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return all;
      EXPECT_LE(page->items.size(), max_items);
      for (PendingItem& item : page->items) all.push_back(std::move(item));
      query.after = page->next_after;
      if (pages != nullptr) *pages = page_count;
      if (page->done || page_count > 10000) return all;
    }
  }

  static std::vector<std::string> idsOf(const std::vector<PendingItem>& items) {
    std::vector<std::string> ids;
    for (const PendingItem& item : items) ids.push_back(item.id);
    return ids;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("syscollector_sync.db");
  std::unique_ptr<SqliteChangeQueue> queue_;
};

TEST_F(ContextAndPendingTest, PendingChangesComeInFirstRecordedOrder) {
  for (const char* id : {"c", "a", "b"}) {
    ASSERT_TRUE(queue_->record(makeChange(id, Operation::kCreate, id)).ok());
  }
  // A newer change of "c" coalesces in place: it keeps c's first-recorded position.
  ASSERT_TRUE(queue_->record(makeChange("c", Operation::kModify, "newer", 2)).ok());
  std::vector<PendingItem> items = readAll(false);
  EXPECT_EQ(idsOf(items), (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(items[0].data, "newer");
  EXPECT_EQ(items[0].version, 2u);
  EXPECT_FALSE(items[0].is_context);
}

TEST_F(ContextAndPendingTest, PagesHoldAtMostMaxItemsAndResumeAfterTheCursor) {
  std::vector<std::string> recorded;
  for (int i = 0; i < 25; ++i) {
    recorded.push_back("pkg-" + std::to_string(i));
    ASSERT_TRUE(queue_->record(makeChange(recorded.back(), Operation::kCreate)).ok());
  }
  int pages = 0;
  EXPECT_EQ(idsOf(readAll(false, 10, &pages)), recorded);
  EXPECT_EQ(pages, 3);
  // Exactly one page's worth: done on the first page.
  EXPECT_EQ(idsOf(readAll(false, 25, &pages)), recorded);
  EXPECT_EQ(pages, 1);
}

TEST_F(ContextAndPendingTest, ContextDocumentsFollowTheChangesOnlyWhenAskedFor) {
  ASSERT_TRUE(queue_->recordContext(context("os", "{\"os\":\"linux\"}")).ok());
  ASSERT_TRUE(queue_->record(makeChange("pkg-1", Operation::kCreate)).ok());
  ASSERT_TRUE(queue_->recordContext(context("hotfixes", "[]")).ok());
  ASSERT_TRUE(queue_->record(makeChange("pkg-2", Operation::kDelete)).ok());

  EXPECT_EQ(idsOf(readAll(false)), (std::vector<std::string>{"pkg-1", "pkg-2"}));
  for (size_t page_size : {size_t{1}, size_t{2}, size_t{3}, size_t{1000}}) {
    std::vector<PendingItem> items = readAll(true, page_size);
    ASSERT_EQ(idsOf(items), (std::vector<std::string>{"pkg-1", "pkg-2", "os", "hotfixes"}))
        << "pages of " << page_size;
    EXPECT_FALSE(items[1].is_context);
    EXPECT_EQ(items[1].operation, Operation::kDelete);
    EXPECT_TRUE(items[2].is_context);
    EXPECT_EQ(items[2].index, "vd");
    EXPECT_EQ(items[2].data, "{\"os\":\"linux\"}");
  }
}

TEST_F(ContextAndPendingTest, OnlyContextsPendingAreReadWithContext) {
  ASSERT_TRUE(queue_->recordContext(context("os", "linux")).ok());
  EXPECT_TRUE(readAll(false).empty());
  EXPECT_EQ(idsOf(readAll(true, 1)), (std::vector<std::string>{"os"}));
}

TEST_F(ContextAndPendingTest, ContextWithTheSameIndexAndIdReplacesItAndKeepsItsPlace) {
  ASSERT_TRUE(queue_->recordContext(context("os", "old")).ok());
  ASSERT_TRUE(queue_->recordContext(context("hotfixes", "[]")).ok());
  ASSERT_TRUE(queue_->recordContext(context("os", "new")).ok());
  // Same id in another index: another document.
  ASSERT_TRUE(queue_->recordContext(context("os", "other", "vd-extra")).ok());
  std::vector<PendingItem> items = readAll(true);
  ASSERT_EQ(idsOf(items), (std::vector<std::string>{"os", "hotfixes", "os"}));
  EXPECT_EQ(items[0].data, "new");
  EXPECT_EQ(items[2].index, "vd-extra");
}

TEST_F(ContextAndPendingTest, ContextsAreNotChangesNorCountedNorDroppedBySessions) {
  ASSERT_TRUE(queue_->recordContext(context("pkg-1", "context copy", "states-packages")).ok());
  ASSERT_TRUE(
      queue_->record(makeChange("pkg-1", Operation::kCreate, "value", 1, "states-packages")).ok());
  absl::StatusOr<std::vector<IndexCounts>> counts = queue_->counts();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].pending, 1u);
  // A session freezes and sends the change alone, and its commit leaves the context.
  std::vector<SessionChange> sent = testing::beginAndReadAll(*queue_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].data, "value");
  ASSERT_TRUE(queue_->commitSession().ok());
  std::vector<PendingItem> left = readAll(true);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].is_context);
  EXPECT_EQ(left[0].data, "context copy");
}

TEST_F(ContextAndPendingTest, ChangesABoundedSessionConfirmedAreNoLongerPending) {
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(queue_->record(makeChange(id, Operation::kCreate, id)).ok());
  }
  // A bounded session confirms the oldest two; their rows stay in the file, dead, until
  // the queue is drained (docs/storage.md, "Space"), and must not be listed as pending.
  SessionScope scope;
  scope.max_changes = 2;
  absl::StatusOr<SessionInfo> info = queue_->beginSession(scope);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(testing::readAllInFlight(*queue_, info->size).size(), 2u);
  ASSERT_TRUE(queue_->commitSession().ok());
  ASSERT_EQ(testing::queryOnce(path_, "SELECT count(*) FROM change"), "5");
  EXPECT_EQ(idsOf(readAll(false)), (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(idsOf(readAll(false, 1)), (std::vector<std::string>{"c", "d", "e"}))
      << "one item per page, each cursor past the dead rows";
}

TEST_F(ContextAndPendingTest, ClearContextsDropsEveryContextAndNoChange) {
  ASSERT_TRUE(queue_->recordContext(context("os", "linux")).ok());
  ASSERT_TRUE(queue_->recordContext(context("hotfixes", "[]", "vd-2")).ok());
  ASSERT_TRUE(queue_->record(makeChange("pkg-1", Operation::kCreate)).ok());
  ASSERT_TRUE(queue_->clearContexts().ok());
  EXPECT_EQ(idsOf(readAll(true)), (std::vector<std::string>{"pkg-1"}));
  absl::StatusOr<SqliteChangeQueue::ContextSet> set = queue_->contextSet();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->count, 0u);
}

TEST_F(ContextAndPendingTest, ContextsSurviveReopen) {
  ASSERT_TRUE(queue_->recordContext(context("os", "linux")).ok());
  ASSERT_TRUE(queue_->record(makeChange("pkg-1", Operation::kCreate)).ok());
  queue_.reset();
  queue_ = testing::openQueue(path_);
  std::vector<PendingItem> items = readAll(true);
  ASSERT_EQ(idsOf(items), (std::vector<std::string>{"pkg-1", "os"}));
  EXPECT_EQ(items[1].data, "linux");
  // And the file is one any earlier build of this schema version reads: same version.
  EXPECT_EQ(testing::queryOnce(path_, "PRAGMA user_version"),
            std::to_string(SqliteChangeQueue::kSchemaVersion));
}

TEST_F(ContextAndPendingTest, PendingItemsSayInFlightAndWhetherNew) {
  ASSERT_TRUE(queue_->record(makeChange("sent", Operation::kCreate)).ok());
  ASSERT_TRUE(queue_->beginSession({}).ok());
  ASSERT_TRUE(queue_->record(makeChange("new", Operation::kCreate)).ok());
  ASSERT_TRUE(queue_->record(makeChange("known", Operation::kModify)).ok());
  std::vector<PendingItem> items = readAll(false);
  ASSERT_EQ(idsOf(items), (std::vector<std::string>{"sent", "new", "known"}));
  EXPECT_TRUE(items[0].in_flight);
  EXPECT_FALSE(items[1].in_flight);
  EXPECT_EQ(items[1].operation, Operation::kCreate);
  EXPECT_EQ(items[2].operation, Operation::kModify);
  // Sent in a session: no longer new, whatever it was recorded as.
  ASSERT_TRUE(queue_->abortSession().ok());
  EXPECT_EQ(readAll(false)[0].operation, Operation::kModify);
}

TEST_F(ContextAndPendingTest, ReadingPendingBeginsNoSessionAndChangesNothing) {
  ASSERT_TRUE(queue_->record(makeChange("pkg-1", Operation::kCreate)).ok());
  EXPECT_EQ(readAll(true).size(), 1u);
  EXPECT_EQ(readAll(true).size(), 1u);
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 1u);
}

TEST_F(ContextAndPendingTest, ReadOnlyQueueReadsPendingAndRefusesContextWrites) {
  ASSERT_TRUE(queue_->record(makeChange("pkg-1", Operation::kCreate)).ok());
  ASSERT_TRUE(queue_->recordContext(context("os", "linux")).ok());
  SqliteChangeQueue::Options options;
  options.path = path_;
  options.read_only = true;
  std::unique_ptr<SqliteChangeQueue> reader = testing::openQueue(std::move(options));
  ASSERT_NE(reader, nullptr);
  absl::StatusOr<PendingPage> page = reader->readPending(PendingQuery{0, 10, true});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(idsOf(page->items), (std::vector<std::string>{"pkg-1", "os"}));
  EXPECT_TRUE(absl::IsFailedPrecondition(reader->recordContext(context("x", ""))));
  EXPECT_TRUE(absl::IsFailedPrecondition(reader->clearContexts()));
}

TEST_F(ContextAndPendingTest, BadContextIsRefusedNamingTheValue) {
  absl::Status empty_id = queue_->recordContext(context("", "linux"));
  EXPECT_TRUE(absl::IsInvalidArgument(empty_id));
  EXPECT_NE(empty_id.message().find("context document"), std::string::npos) << empty_id;
  absl::Status bad_index = queue_->recordContext(context("os", "linux", "vd\xff"));
  EXPECT_TRUE(absl::IsInvalidArgument(bad_index));
  EXPECT_NE(bad_index.message().find("0xff"), std::string::npos) << bad_index;
  absl::Status too_big = queue_->recordContext(context("os", std::string(70000, 'x')));
  EXPECT_TRUE(absl::IsInvalidArgument(too_big));
  EXPECT_NE(too_big.message().find("70000"), std::string::npos) << too_big;
  EXPECT_TRUE(readAll(true).empty());
}

TEST_F(ContextAndPendingTest, BadPendingQueryIsRefusedNamingTheValue) {
  absl::StatusOr<PendingPage> none = queue_->readPending(PendingQuery{0, 0, false});
  EXPECT_TRUE(absl::IsInvalidArgument(none.status()));
  EXPECT_NE(none.status().message().find("max_items 0"), std::string::npos) << none.status();
  absl::StatusOr<PendingPage> huge =
      queue_->readPending(PendingQuery{0, kMaxPendingItems + 1, false});
  EXPECT_TRUE(absl::IsInvalidArgument(huge.status()));
  absl::StatusOr<PendingPage> cursor = queue_->readPending(PendingQuery{UINT64_MAX, 10, true});
  EXPECT_TRUE(absl::IsInvalidArgument(cursor.status()));
  EXPECT_NE(cursor.status().message().find(std::to_string(UINT64_MAX)), std::string::npos);
}

TEST_F(ContextAndPendingTest, SessionReadsContextsByRankUpToItsSet) {
  ASSERT_TRUE(queue_->recordContext(context("os", "linux")).ok());
  ASSERT_TRUE(queue_->recordContext(context("hotfixes", "[]")).ok());
  absl::StatusOr<SqliteChangeQueue::ContextSet> set = queue_->contextSet();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->count, 2u);
  EXPECT_EQ(set->bytes, std::string("osvdlinux").size() + std::string("hotfixesvd[]").size());
  // Stored after the set was taken: not part of it.
  ASSERT_TRUE(queue_->recordContext(context("later", "x")).ok());
  absl::StatusOr<SessionPage> second = queue_->readContexts(*set, 1, 5, 1 << 20);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->changes.size(), 1u);
  EXPECT_EQ(second->changes[0].seq, 1u);
  EXPECT_EQ(second->changes[0].id, "hotfixes");
}

TEST_F(ContextAndPendingTest, DamagedContextIsAStorageErrorNamingIt) {
  ASSERT_TRUE(queue_->recordContext(context("os", "linux")).ok());
  ASSERT_EQ(testing::execAll(path_, "UPDATE context SET data = 'rotten'"), "");
  absl::StatusOr<SqliteChangeQueue::ContextSet> set = queue_->contextSet();
  ASSERT_TRUE(set.ok());
  absl::StatusOr<SessionPage> page = queue_->readContexts(*set, 0, 0, 1 << 20);
  EXPECT_TRUE(absl::IsDataLoss(page.status())) << page.status();
  EXPECT_NE(page.status().message().find("'os'"), std::string::npos) << page.status();
}

}  // namespace
}  // namespace asp
