// A power loss at every write of a session's commit and of the reclaimer's work after it
// (docs/storage.md, "Space"): whether the confirmed rows die in place, the dead rows are
// removed from under the live ones, or the table is cleared (and the pages given back),
// the reopened queue holds exactly one of two things: the session's changes pending
// again (the commit did not happen) or exactly what the commit leaves; never a mix,
// never a lost change, and the file passes integrity_check. A commit that returned OK
// with the power on is the second.
//
// FaultVfs (asp/testing/fault_vfs.h) takes back what was written since each file's last
// sync; the power goes off inside the k-th write of the commit and its reclaim (waited
// for: awaitReclaim), for k = 0, 1, 2, ... until both get through.
#include <string>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/fault_vfs.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::makeChange;

struct Scenario {
  std::string name;
  int backlog = 0;          // changes recorded first
  int confirmed_first = 0;  // bounded sessions of `bound` committed before the crash one
  uint64_t bound = 0;       // max_changes of every session (0: none)
  int recorded_during = 0;  // new changes recorded while the crash session is in flight
};

std::string idOf(int n) { return "file-" + std::to_string(n); }

std::vector<std::string> idsOf(const std::vector<SessionChange>& changes) {
  std::vector<std::string> ids;
  for (const SessionChange& c : changes) ids.push_back(c.id);
  return ids;
}

class CommitPowerLoss : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override { FaultVfs::get().reset(); }
  void TearDown() override { FaultVfs::get().reset(); }

  std::unique_ptr<SqliteChangeQueue> open(const std::string& path) {
    SqliteChangeQueue::Options options;
    options.path = path;
    options.vfs = FaultVfs::kName;
    options.durability = Durability::kPowerLoss;
    return testing::openQueue(std::move(options));
  }

  absl::StatusOr<SessionInfo> begin(SqliteChangeQueue& queue) {
    SessionScope scope;
    scope.max_changes = GetParam().bound;
    return queue.beginSession(scope);
  }

  // Brings `path` to the crash session, in flight and read; fills the two outcomes.
  std::unique_ptr<SqliteChangeQueue> prepare(const std::string& path,
                                             std::vector<std::string>* if_lost,
                                             std::vector<std::string>* if_done) {
    const Scenario& s = GetParam();
    std::unique_ptr<SqliteChangeQueue> queue = open(path);
    if (queue == nullptr) return nullptr;
    std::vector<Change> backlog;
    for (int i = 0; i < s.backlog; ++i) {
      backlog.push_back(makeChange(idOf(i), Operation::kCreate, std::string(2000, 'd')));
    }
    EXPECT_TRUE(queue->recordBatch(backlog).ok());
    for (int i = 0; i < s.confirmed_first; ++i) {
      absl::StatusOr<SessionInfo> info = begin(*queue);
      EXPECT_TRUE(info.ok() && queue->commitSession().ok());
      queue->awaitReclaim();  // nothing of it may come after the power is set to go off
    }
    absl::StatusOr<SessionInfo> info = begin(*queue);
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return nullptr;
    const std::vector<SessionChange> sent = testing::readAllInFlight(*queue, info->size);
    const int first_left =
        s.confirmed_first * static_cast<int>(s.bound) + static_cast<int>(sent.size());
    for (int i = s.confirmed_first * static_cast<int>(s.bound); i < s.backlog; ++i) {
      if_lost->push_back(idOf(i));
      if (i >= first_left) if_done->push_back(idOf(i));
    }
    for (int i = 0; i < s.recorded_during; ++i) {
      EXPECT_TRUE(
          queue->record(makeChange("late-" + std::to_string(i), Operation::kCreate, "l")).ok());
      if_lost->push_back("late-" + std::to_string(i));
      if_done->push_back("late-" + std::to_string(i));
    }
    return queue;
  }

  testing::TempDir dir_;
};

TEST_P(CommitPowerLoss, LeavesTheSessionWhollyConfirmedOrWhollyPending) {
  int lost_before_commit = 0, confirmed_anyway = 0;
  for (int64_t k = 0;; ++k) {
    SCOPED_TRACE("power lost at write " + std::to_string(k) + " of the commit");
    const std::string path = dir_.file("k" + std::to_string(k) + ".db");
    std::vector<std::string> if_lost, if_done;
    std::unique_ptr<SqliteChangeQueue> queue = prepare(path, &if_lost, &if_done);
    ASSERT_NE(queue, nullptr);
    ASSERT_FALSE(HasFailure());
    FaultVfs::get().losePowerAfterWrites(k);
    const absl::Status committed = queue->commitSession();
    queue->awaitReclaim();  // its writes count too, in the order they come
    const bool power_lost = FaultVfs::get().powerLost();
    FaultVfs::get().losePower();
    queue.reset();
    FaultVfs::get().reset();
    ASSERT_EQ(testing::integrityCheck(path), "ok");
    std::unique_ptr<SqliteChangeQueue> reopened = testing::openQueue(path);
    ASSERT_NE(reopened, nullptr);
    const std::vector<std::string> queued = idsOf(testing::beginAndReadAll(*reopened));
    if (!power_lost) {
      ASSERT_TRUE(committed.ok()) << committed;
      EXPECT_EQ(queued, if_done) << "a commit that got through";
      std::cout << GetParam().name << ": " << k << " writes into the commit and its reclaim; "
                << "the power went off "
                << "before it took effect " << lost_before_commit << " times, after "
                << confirmed_anyway << " times\n";
      return;
    }
    if (queued == if_done) {
      ++confirmed_anyway;
    } else {
      ASSERT_EQ(queued, if_lost) << "neither the commit's outcome nor the session pending again";
      ++lost_before_commit;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Commits, CommitPowerLoss,
    ::testing::Values(
        // Rows confirmed while older ones remain: they die in place behind the watermark.
        Scenario{"DeadRowsStayInPlace", 200, 1, 50, 0},
        // The end of a drain with a few recorded meanwhile: dead rows removed under them.
        Scenario{"DeadRowsRemovedUnderLiveOnes", 200, 3, 50, 5},
        // Nothing live left: the table is cleared and the file shrinks.
        Scenario{"TableCleared", 200, 0, 0, 0}),
    [](const ::testing::TestParamInfo<Scenario>& info) { return info.param.name; });

}  // namespace
}  // namespace asp
