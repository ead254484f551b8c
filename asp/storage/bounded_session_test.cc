// Bounded sessions on the SQLite queue (docs/protocol.md §5): the oldest changes first,
// within a count and a byte bound, never past the mark taken when a call began.
#include <string>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::makeChange;
using testing::readAllInFlight;

class BoundedSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = testing::openQueue(dir_.file("fim_sync.db")); }

  void record(const std::string& id, Operation op, const std::string& data = "d",
              const std::string& index = "idx") {
    ASSERT_TRUE(queue_->record(makeChange(id, op, data, 1, index)).ok());
  }

  // The ids the next session with `scope` carries, in seq order; commits it.
  std::vector<std::string> nextSession(const SessionScope& scope) {
    absl::StatusOr<SessionInfo> info = queue_->beginSession(scope);
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return {};
    std::vector<std::string> ids;
    for (const SessionChange& c : readAllInFlight(*queue_, info->size)) ids.push_back(c.id);
    EXPECT_EQ(ids.size(), info->size);
    EXPECT_TRUE(queue_->commitSession().ok());
    return ids;
  }

  static SessionScope atMost(uint64_t changes, uint64_t bytes = 0) {
    SessionScope scope;
    scope.max_changes = changes;
    scope.max_bytes = bytes;
    return scope;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteChangeQueue> queue_;
};

TEST_F(BoundedSessionTest, ConsecutiveSessionsTakeTheOldestFirst) {
  for (int i = 0; i < 10; ++i) record("id" + std::to_string(i), Operation::kCreate);
  EXPECT_EQ(nextSession(atMost(4)), (std::vector<std::string>{"id0", "id1", "id2", "id3"}));
  EXPECT_EQ(nextSession(atMost(4)), (std::vector<std::string>{"id4", "id5", "id6", "id7"}));
  EXPECT_EQ(nextSession(atMost(4)), (std::vector<std::string>{"id8", "id9"}));
  EXPECT_TRUE(nextSession(atMost(4)).empty());
}

// took_all tells a bounded call when to stop: after the session that took the last
// change the scope allows, not one empty session later.
TEST_F(BoundedSessionTest, ASessionSaysWhetherItTookAllThereWas) {
  auto tookAll = [this](const SessionScope& scope) {
    absl::StatusOr<SessionInfo> info = queue_->beginSession(scope);
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return false;
    EXPECT_TRUE(queue_->commitSession().ok());
    return info->took_all;
  };
  for (int i = 0; i < 8; ++i) record("id" + std::to_string(i), Operation::kCreate);
  EXPECT_FALSE(tookAll(atMost(3)));
  EXPECT_FALSE(tookAll(atMost(3)));
  EXPECT_TRUE(tookAll(atMost(3))) << "the last two";

  // A bound met exactly by what is left takes it all.
  for (int i = 0; i < 4; ++i) record("more" + std::to_string(i), Operation::kCreate);
  EXPECT_FALSE(tookAll(atMost(2)));
  EXPECT_TRUE(tookAll(atMost(2)));

  // A byte bound cuts short too: each change weighs 5 + 3 + 92 = 100 bytes.
  for (int i = 0; i < 3; ++i)
    record("big-" + std::to_string(i), Operation::kCreate, std::string(92, 'x'));
  EXPECT_FALSE(tookAll(atMost(0, 250)));
  EXPECT_TRUE(tookAll(atMost(0, 250)));

  // What is recorded after the mark belongs to the next call, bounded or not.
  record("before", Operation::kCreate);
  absl::StatusOr<int64_t> mark = queue_->recordedMark();
  ASSERT_TRUE(mark.ok());
  record("after", Operation::kCreate);
  SessionScope up_to_mark = atMost(5);
  up_to_mark.up_to_mark = *mark;
  EXPECT_TRUE(tookAll(up_to_mark));
  SessionScope unbounded;
  unbounded.up_to_mark = *mark;
  record("after-2", Operation::kCreate);
  EXPECT_TRUE(tookAll(unbounded));
  EXPECT_TRUE(tookAll({})) << "no bound, no mark: the whole queue";
}

TEST_F(BoundedSessionTest, TheByteBoundCountsIdIndexAndData) {
  // Each change weighs 3 (id) + 3 (index) + 94 (data) = 100 bytes.
  for (int i = 0; i < 5; ++i)
    record("id" + std::to_string(i), Operation::kCreate, std::string(94, 'x'));
  EXPECT_EQ(nextSession(atMost(0, 250)).size(), 2u);
  EXPECT_EQ(nextSession(atMost(0, 300)).size(), 3u);
}

TEST_F(BoundedSessionTest, AChangeLargerThanTheByteBoundStillGoesAlone) {
  record("big", Operation::kCreate, std::string(5000, 'x'));
  record("small", Operation::kCreate);
  EXPECT_EQ(nextSession(atMost(0, 1000)), (std::vector<std::string>{"big"}));
  EXPECT_EQ(nextSession(atMost(0, 1000)), (std::vector<std::string>{"small"}));
}

TEST_F(BoundedSessionTest, SessionIndicesAreThoseOfTheChangesTaken) {
  record("a", Operation::kCreate, "d", "idx-b");
  record("b", Operation::kCreate, "d", "idx-a");
  record("c", Operation::kCreate, "d", "idx-c");
  absl::StatusOr<SessionInfo> info = queue_->beginSession(atMost(2));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-a", "idx-b"}));
}

TEST_F(BoundedSessionTest, ChangesRecordedAfterTheMarkWaitForTheNextCall) {
  record("old", Operation::kCreate);
  record("older-but-modified", Operation::kCreate);
  absl::StatusOr<int64_t> mark = queue_->recordedMark();
  ASSERT_TRUE(mark.ok());
  record("later", Operation::kCreate);
  // A pending change modified after the mark is still the one pending at the call.
  record("older-but-modified", Operation::kModify, "newest");
  SessionScope scope;
  scope.up_to_mark = *mark;
  absl::StatusOr<SessionInfo> info = queue_->beginSession(scope);
  ASSERT_TRUE(info.ok());
  std::vector<SessionChange> sent = readAllInFlight(*queue_, info->size);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].id, "older-but-modified");
  EXPECT_EQ(sent[1].data, "newest");
  ASSERT_TRUE(queue_->commitSession().ok());
  EXPECT_TRUE(nextSession(scope).empty());
  EXPECT_EQ(nextSession({}), (std::vector<std::string>{"later"}));
}

TEST_F(BoundedSessionTest, AChangeSentOnceStaysNotNewWhenALaterSessionTakesLess) {
  // Both were in a session that failed: the manager may have applied them.
  record("a", Operation::kCreate);
  record("b", Operation::kCreate);
  ASSERT_TRUE(queue_->beginSession({}).ok());
  ASSERT_TRUE(queue_->abortSession().ok());
  // A bounded session takes only "a"; "b" must not become "new" again ...
  EXPECT_EQ(nextSession(atMost(1)), (std::vector<std::string>{"a"}));
  // ... so deleting it is sent, not cancelled.
  record("b", Operation::kDelete);
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok());
  std::vector<SessionChange> sent = readAllInFlight(*queue_, info->size);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].id, "b");
  EXPECT_TRUE(sent[0].is_delete);
}

TEST_F(BoundedSessionTest, AnAbortedBoundedSessionReturnsItsChangesFirst) {
  for (int i = 0; i < 6; ++i) record("id" + std::to_string(i), Operation::kCreate);
  ASSERT_TRUE(queue_->beginSession(atMost(3)).ok());
  record("id1", Operation::kModify, "during");
  ASSERT_TRUE(queue_->abortSession().ok());
  absl::StatusOr<SessionInfo> info = queue_->beginSession(atMost(3));
  ASSERT_TRUE(info.ok());
  std::vector<SessionChange> sent = readAllInFlight(*queue_, info->size);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].id, "id0");
  EXPECT_EQ(sent[1].id, "id1");
  EXPECT_EQ(sent[1].data, "during");
  EXPECT_EQ(sent[2].id, "id2");
}

TEST_F(BoundedSessionTest, ACommittedBoundedSessionKeepsWhatWasRecordedForItsIds) {
  for (int i = 0; i < 4; ++i) record("id" + std::to_string(i), Operation::kCreate);
  ASSERT_TRUE(queue_->beginSession(atMost(2)).ok());
  record("id0", Operation::kModify, "during");
  record("id3", Operation::kModify, "pending-updated");
  ASSERT_TRUE(queue_->commitSession().ok());
  absl::StatusOr<SessionInfo> info = queue_->beginSession({});
  ASSERT_TRUE(info.ok());
  std::vector<SessionChange> sent = readAllInFlight(*queue_, info->size);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].id, "id2");
  EXPECT_EQ(sent[1].id, "id3");
  EXPECT_EQ(sent[1].data, "pending-updated");
  EXPECT_EQ(sent[2].id, "id0");
  EXPECT_EQ(sent[2].data, "during");
}

// The default bounds are far above a usual backlog: a backlog within both is taken whole
// (counted without reading its rows), exactly as stepping through them would take it.
TEST_F(BoundedSessionTest, ABacklogWithinBothBoundsIsOneSessionOfAllOfIt) {
  std::vector<std::string> recorded;
  for (int i = 0; i < 300; ++i) {
    recorded.push_back("id" + std::to_string(i));
    record(recorded.back(), Operation::kCreate, "d", i % 3 == 0 ? "idx-a" : "idx-b");
  }
  record("id7", Operation::kDelete);  // a pending create cancelled: nothing to send
  recorded.erase(recorded.begin() + 7);
  absl::StatusOr<SessionInfo> info = queue_->beginSession(atMost(299, 1 << 20));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->took_all);
  EXPECT_EQ(info->indices, (std::vector<std::string>{"idx-a", "idx-b"}));
  std::vector<std::string> sent;
  for (const SessionChange& c : readAllInFlight(*queue_, info->size)) sent.push_back(c.id);
  EXPECT_EQ(sent, recorded);
  ASSERT_TRUE(queue_->commitSession().ok());
  EXPECT_TRUE(nextSession(atMost(299, 1 << 20)).empty());
}

// ... but only when every change together is known to fit: a count within its bound
// says nothing of the bytes.
TEST_F(BoundedSessionTest, TheByteBoundCutsASessionWhoseCountFits) {
  for (int i = 0; i < 3; ++i)
    record("id" + std::to_string(i), Operation::kCreate, std::string(40000, 'x'));
  EXPECT_EQ(nextSession(atMost(10, 100000)), (std::vector<std::string>{"id0", "id1"}));
  EXPECT_EQ(nextSession(atMost(10, 100000)), (std::vector<std::string>{"id2"}));
}

// Something recorded after the mark makes the freeze step through the rows (the whole
// table no longer is the session): a count bound met exactly by what is left up to the
// mark takes it all, and says so.
TEST_F(BoundedSessionTest, SteppingFindsABoundMetExactlyByWhatIsLeft) {
  for (int i = 0; i < 4; ++i) record("id" + std::to_string(i), Operation::kCreate);
  absl::StatusOr<int64_t> mark = queue_->recordedMark();
  ASSERT_TRUE(mark.ok());
  record("after", Operation::kCreate);
  SessionScope scope = atMost(2, 1 << 20);
  scope.up_to_mark = *mark;
  absl::StatusOr<SessionInfo> first = queue_->beginSession(scope);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size, 2u);
  EXPECT_FALSE(first->took_all);
  ASSERT_TRUE(queue_->commitSession().ok());
  absl::StatusOr<SessionInfo> second = queue_->beginSession(scope);
  ASSERT_TRUE(second.ok()) << second.status();
  std::vector<std::string> ids;
  for (const SessionChange& c : readAllInFlight(*queue_, second->size)) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"id2", "id3"}));
  EXPECT_TRUE(second->took_all);
  ASSERT_TRUE(queue_->commitSession().ok());
  EXPECT_EQ(nextSession({}), (std::vector<std::string>{"after"}));
}

TEST_F(BoundedSessionTest, ACleanTakesNoBounds) {
  SessionScope scope = SessionScope::of({"idx"});
  scope.max_changes = 1;
  EXPECT_EQ(queue_->beginSession(scope).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace asp
