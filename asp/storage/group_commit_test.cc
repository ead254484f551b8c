// GroupCommit on its own: who commits together, in what order, what a failure does,
// and the power-loss wait for late writers on the simulated clock.
#include "asp/storage/group_commit.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "asp/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

// A transaction that records what it applied, in order, and can be told to fail.
class FakeDatabase {
 public:
  GroupCommit::Transaction transaction(absl::Duration cost = absl::ZeroDuration(),
                                       testing::SimulatedClock* clock = nullptr) {
    return [this, cost, clock](const GroupCommit::NextParts& next) -> absl::Status {
      if (fail_begin_) return absl::UnavailableError("database is locked");
      std::vector<std::string> applied;
      GroupCommit::Parts parts;
      bool first = true;
      while (next(&parts)) {
        if (first && hold_) hold_();
        first = false;
        for (absl::Span<const Change> part : parts) {
          for (const Change& change : part) applied.push_back(change.id);
        }
        parts.clear();
      }
      if (clock != nullptr) clock->advance(cost);
      std::lock_guard<std::mutex> lock(mu_);
      ++transactions_;
      if (fail_commit_) return absl::ResourceExhaustedError("disk full");
      committed_.insert(committed_.end(), applied.begin(), applied.end());
      return absl::OkStatus();
    };
  }
  int transactions() {
    std::lock_guard<std::mutex> lock(mu_);
    return transactions_;
  }
  std::vector<std::string> committed() {
    std::lock_guard<std::mutex> lock(mu_);
    return committed_;
  }
  // Runs after the leader took its first parts, before it asks for more.
  std::function<void()> hold_;
  std::atomic<bool> fail_begin_{false};
  std::atomic<bool> fail_commit_{false};

 private:
  std::mutex mu_;
  int transactions_ = 0;
  std::vector<std::string> committed_;
};

std::vector<Change> changes(const std::string& prefix, int n) {
  std::vector<Change> out;
  for (int i = 0; i < n; ++i)
    out.push_back(Change{prefix + std::to_string(i), "idx", Operation::kCreate, "", 0});
  return out;
}

// Waits, in real time, until `commit` has `n` writers in line.
void awaitInLine(GroupCommit& commit, size_t n) {
  for (int i = 0; i < 10000 && commit.inLine() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(commit.inLine(), n);
}

// Commits "a" and "b" as one group of two: b queues while a's transaction is open.
void commitAGroupOfTwo(FakeDatabase& db, GroupCommit& commit) {
  std::atomic<bool> b_queued{false};
  db.hold_ = [&] {
    while (!b_queued) std::this_thread::yield();
  };
  std::thread a([&] { ASSERT_TRUE(commit.commit(changes("a", 1)).ok()); });
  awaitInLine(commit, 1);
  std::thread b([&] { ASSERT_TRUE(commit.commit(changes("b", 1)).ok()); });
  awaitInLine(commit, 2);
  b_queued = true;
  a.join();
  b.join();
  db.hold_ = nullptr;
}

TEST(GroupCommit, OneWriterCommitsAloneInOrder) {
  FakeDatabase db;
  GroupCommit commit({}, db.transaction());
  const std::vector<Change> batch = changes("a", 3);
  ASSERT_TRUE(commit.commit(batch).ok());
  EXPECT_EQ(db.committed(), (std::vector<std::string>{"a0", "a1", "a2"}));
  EXPECT_EQ(db.transactions(), 1);
}

TEST(GroupCommit, ManyWritersShareFewerTransactionsAndEachBatchStaysWhole) {
  FakeDatabase db;
  GroupCommit commit({}, db.transaction());
  constexpr int kWriters = 8, kBatches = 200;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        const std::vector<Change> batch =
            changes("w" + std::to_string(w) + "b" + std::to_string(b) + "-", 2);
        ASSERT_TRUE(commit.commit(batch).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::vector<std::string> all = db.committed();
  ASSERT_EQ(all.size(), static_cast<size_t>(kWriters * kBatches * 2));
  for (size_t i = 0; i < all.size(); i += 2) {
    // A batch's two changes are adjacent: writers' batches are never interleaved.
    EXPECT_EQ(all[i].substr(0, all[i].size() - 1), all[i + 1].substr(0, all[i + 1].size() - 1));
  }
  EXPECT_LE(db.transactions(), kWriters * kBatches);
}

TEST(GroupCommit, AFailedTransactionFailsItsWritersAndTheNextOneRuns) {
  FakeDatabase db;
  GroupCommit commit({}, db.transaction());
  db.fail_commit_ = true;
  EXPECT_EQ(commit.commit(changes("x", 1)).code(), absl::StatusCode::kResourceExhausted);
  db.fail_commit_ = false;
  EXPECT_TRUE(commit.commit(changes("y", 1)).ok());
  EXPECT_EQ(db.committed(), std::vector<std::string>{"y0"});
}

// Before: a leader whose transaction failed before taking anything (BEGIN refused)
// stayed at the head of the line, and every later writer waited forever.
TEST(GroupCommit, ATransactionThatFailsBeforeTakingAnythingStillFreesTheLine) {
  FakeDatabase db;
  GroupCommit commit({}, db.transaction());
  db.fail_begin_ = true;
  EXPECT_EQ(commit.commit(changes("x", 1)).code(), absl::StatusCode::kUnavailable);
  db.fail_begin_ = false;
  EXPECT_TRUE(commit.commit(changes("y", 1)).ok());
}

TEST(GroupCommit, AGroupTakesNoMoreThanItsCapBeyondTheLeader) {
  FakeDatabase db;
  GroupCommit::Options options;
  options.max_group_changes = 4;
  GroupCommit commit(options, db.transaction());
  const std::vector<Change> big = changes("big", 10);
  ASSERT_TRUE(commit.commit(big).ok()) << "a leader always commits its own batch, however large";
  EXPECT_EQ(db.committed().size(), 10u);
}

// Power loss: after a group of two, a leader alone waits, on the clock, for the other
// writer it expects, at most twice the last commit's duration, then commits both.
TEST(GroupCommit, AtPowerLossALeaderWaitsBrieflyForTheWritersItExpects) {
  testing::SimulatedClock clock(testing::SimulatedClock::Mode::kManual);
  FakeDatabase db;
  GroupCommit::Options options;
  options.wait_for_writers = true;
  options.clock = &clock;
  GroupCommit commit(options, db.transaction(absl::Milliseconds(10), &clock));
  commitAGroupOfTwo(db, commit);
  const int before = db.transactions();
  // Now one writer leads alone and waits for a second one, which comes 5 ms later.
  std::thread leader([&] { ASSERT_TRUE(commit.commit(changes("c", 1)).ok()); });
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(absl::Milliseconds(5));
  std::thread late([&] { ASSERT_TRUE(commit.commit(changes("d", 1)).ok()); });
  leader.join();
  late.join();
  EXPECT_EQ(db.transactions(), before + 1) << "c and d committed together";
}

TEST(GroupCommit, AtPowerLossTheWaitEndsAtTwiceTheLastCommitEvenIfNobodyComes) {
  testing::SimulatedClock clock(testing::SimulatedClock::Mode::kAutoAdvance);
  FakeDatabase db;
  GroupCommit::Options options;
  options.wait_for_writers = true;
  options.clock = &clock;
  GroupCommit commit(options, db.transaction(absl::Milliseconds(10), &clock));
  commitAGroupOfTwo(db, commit);
  const absl::Duration before = clock.elapsed();
  ASSERT_TRUE(commit.commit(changes("c", 1)).ok());
  // Its own 10 ms, plus at most twice the last commit's 10 ms of waiting.
  EXPECT_LE(clock.elapsed() - before, absl::Milliseconds(30));
}

}  // namespace
}  // namespace asp
