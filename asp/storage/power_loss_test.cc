// Power loss, simulated by FaultVfs (asp/testing/fault_vfs.h): the queue's files lose
// what was written but not synced, as LevelDB's fault_injection_test does it, and the
// queue is reopened as after a reboot.
//
// At Durability::kPowerLoss every change record() or recordBatch() acknowledged before
// the power went off is in the reopened queue, exactly as the §6 rules say (QueueModel),
// from one writer or from many sharing commits, with the power cut at a random write:
// inside commits and checkpoints as well as between them. At kProcessCrash a power
// loss may take recent changes back (docs/storage.md, "Durability"); what is left is
// a prefix of what was acknowledged, whole commits, in recorded order.
//
// Reproducible: the seed is printed and can be forced with ASP_POWER_SEED.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "asp/storage/queue_model.h"
#include "asp/testing/fault_vfs.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::QueueModel;

// Every fsync is real: fewer rounds where sanitizers slow each one down.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kRounds = 10;
#else
constexpr int kRounds = 30;
#endif
// The power goes off within this many writes of a round's start.
constexpr uint64_t kMaxWritesBeforeLoss = 400;

uint64_t seedFromEnvironment() {
  const char* forced = std::getenv("ASP_POWER_SEED");
  const uint64_t seed =
      forced != nullptr ? std::strtoull(forced, nullptr, 10) : std::random_device{}();
  std::cout << "ASP_POWER_SEED=" << seed << "\n";
  return seed;
}

// One recording call's worth of the stream (streamChange) from `*next` on: one change
// two times in three, else a batch of 2 to 8.
std::vector<Change> nextCall(std::mt19937_64& rng, uint64_t* next, const std::string& prefix) {
  const uint64_t size = rng() % 3 != 0 ? 1 : 2 + rng() % 7;
  std::vector<Change> changes;
  for (uint64_t i = 0; i < size; ++i) changes.push_back(testing::streamChange((*next)++, prefix));
  return changes;
}

absl::Status recordCall(SqliteChangeQueue& queue, const std::vector<Change>& changes) {
  return changes.size() == 1 ? queue.record(changes[0]) : queue.recordBatch(changes);
}

// One writer's side of a round: records calls from the stream until the power goes off
// or `budget` changes are acknowledged. Acknowledged calls go into `model`.
struct Writer {
  std::string prefix;  // of the writer's ids and indices
  QueueModel model;
  uint64_t next = 0;
  uint64_t acknowledged = 0;
  // The call the power loss interrupted (empty if none): its changes may or may not
  // have reached the disk. A call that returns while the power is off acknowledged
  // nothing, whatever it returned.
  std::vector<Change> interrupted;

  void recordUntilPowerLoss(SqliteChangeQueue& queue, std::mt19937_64& rng, uint64_t budget) {
    interrupted.clear();
    for (uint64_t recorded = 0; recorded < budget;) {
      std::vector<Change> changes = nextCall(rng, &next, prefix);
      const absl::Status status = recordCall(queue, changes);
      if (FaultVfs::get().powerLost()) {
        interrupted = std::move(changes);
        return;
      }
      ASSERT_TRUE(status.ok()) << status;
      model.record(changes);
      recorded += changes.size();
      acknowledged += changes.size();
    }
  }

  // Checks what the reopened queue holds of this writer's ids: the model, with or
  // without the interrupted call. Returns whether the interrupted call survived.
  bool expectHolds(const std::vector<SessionChange>& queued, bool recover_session) {
    std::vector<SessionChange> mine;
    for (const SessionChange& c : queued) {
      if (c.id.rfind(prefix, 0) == 0) mine.push_back(c);
    }
    QueueModel with_interrupted = model;
    with_interrupted.record(interrupted);
    if (recover_session) {
      model.recover();
      with_interrupted.recover();
    }
    const bool survived = !model.matches(mine);
    if (survived) {
      EXPECT_TRUE(with_interrupted.matches(mine))
          << "writer '" << prefix << "': the queue lost or altered an acknowledged change ("
          << acknowledged << " acknowledged so far, " << mine.size() << " ids queued)";
      model = with_interrupted;
    }
    model.forgetNew();  // the inspection session was aborted
    return survived;
  }
};

class PowerLoss : public ::testing::Test {
 protected:
  void SetUp() override { FaultVfs::get().reset(); }
  void TearDown() override { FaultVfs::get().reset(); }

  std::unique_ptr<SqliteChangeQueue> openThroughFaultVfs(const std::string& path,
                                                         Durability durability) {
    SqliteChangeQueue::Options options;
    options.path = path;
    options.vfs = FaultVfs::kName;
    options.durability = durability;
    return testing::openQueue(std::move(options));
  }

  // The power goes off (unless it already has), the dead process's queue closes
  // without reaching the disk, and the machine comes back with the file intact.
  void loseThePowerAndReboot(std::unique_ptr<SqliteChangeQueue>& queue, const std::string& path) {
    FaultVfs::get().losePower();
    bytes_dropped_ += FaultVfs::get().bytesDropped();
    queue.reset();
    FaultVfs::get().reset();
    ASSERT_EQ(testing::integrityCheck(path), "ok");
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("fim_sync.db");
  uint64_t bytes_dropped_ = 0;
};

TEST_F(PowerLoss, EveryChangeAcknowledgedAtPowerLossDurabilitySurvives) {
  std::mt19937_64 rng(seedFromEnvironment());
  Writer writer;
  int interrupted_calls_kept = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto queue = openThroughFaultVfs(path_, Durability::kPowerLoss);
    ASSERT_NE(queue, nullptr);
    // Some rounds lose the power with a session in flight: it must come back pending.
    const bool in_session = round % 4 == 1;
    if (in_session) {
      ASSERT_TRUE(queue->beginSession({}).ok());
      writer.model.begin();
    }
    FaultVfs::get().losePowerAfterWrites(rng() % kMaxWritesBeforeLoss);
    ASSERT_NO_FATAL_FAILURE(writer.recordUntilPowerLoss(*queue, rng, 300));
    ASSERT_NO_FATAL_FAILURE(loseThePowerAndReboot(queue, path_));
    interrupted_calls_kept += writer.expectHolds(testing::queuedAfterReopen(path_), in_session);
    if (HasFailure()) return;  // the first round that lost something says it all
  }
  std::cout << kRounds << " power losses at Durability::kPowerLoss: " << writer.acknowledged
            << " changes acknowledged, all present; " << bytes_dropped_
            << " unsynced bytes dropped; " << interrupted_calls_kept
            << " interrupted calls had reached the disk anyway\n";
  EXPECT_GT(writer.acknowledged, 0u);
  EXPECT_GT(bytes_dropped_, 0u) << "the power losses took something back";
}

TEST_F(PowerLoss, ConcurrentWritersSharingCommitsLoseNothingAcknowledged) {
  constexpr int kWriters = 4;
  std::mt19937_64 rng(seedFromEnvironment());
  std::vector<Writer> writers(kWriters);
  for (int w = 0; w < kWriters; ++w) writers[w].prefix = "w" + std::to_string(w) + "-";
  uint64_t syncs = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto queue = openThroughFaultVfs(path_, Durability::kPowerLoss);
    ASSERT_NE(queue, nullptr);
    const uint64_t syncs_before = FaultVfs::get().syncs();
    FaultVfs::get().losePowerAfterWrites(rng() % kMaxWritesBeforeLoss);
    std::vector<std::thread> threads;
    for (Writer& writer : writers) {
      threads.emplace_back([&writer, &queue, seed = rng()] {
        std::mt19937_64 own_rng(seed);
        writer.recordUntilPowerLoss(*queue, own_rng, 150);
      });
    }
    for (std::thread& thread : threads) thread.join();
    syncs += FaultVfs::get().syncs() - syncs_before;
    if (HasFailure()) return;  // a writer failed before the power loss
    ASSERT_NO_FATAL_FAILURE(loseThePowerAndReboot(queue, path_));
    const std::vector<SessionChange> queued = testing::queuedAfterReopen(path_);
    for (Writer& writer : writers) writer.expectHolds(queued, /*recover_session=*/false);
    if (HasFailure()) return;  // the first round that lost something says it all
  }
  uint64_t acknowledged = 0;
  for (const Writer& writer : writers) acknowledged += writer.acknowledged;
  std::cout << kRounds << " power losses, " << kWriters
            << " writers at Durability::kPowerLoss: " << acknowledged
            << " changes acknowledged, all present (" << syncs
            << " syncs for them: shared commits)\n";
  EXPECT_GT(acknowledged, 0u);
}

// Durability::kProcessCrash does not sync at each commit (docs/storage.md): a power loss
// takes back what was committed since the last sync (a WAL checkpoint). What it leaves
// is still a consistent queue: a prefix of the acknowledged changes, whole commits, in
// the order they were recorded. How much is lost is printed, not asserted.
TEST_F(PowerLoss, ProcessCrashDurabilityKeepsAPrefixOfWhatWasAcknowledged) {
  std::mt19937_64 rng(seedFromEnvironment());
  uint64_t acknowledged = 0, lost = 0;
  int rounds_with_loss = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string path = dir_.file("round-" + std::to_string(round) + ".db");
    auto queue = openThroughFaultVfs(path, Durability::kProcessCrash);
    ASSERT_NE(queue, nullptr);
    // New ids only, so the queue's first-recorded order is the order of recording.
    std::vector<std::string> ids;
    std::vector<size_t> commit_ends = {0};
    const uint64_t count = 1 + rng() % 3000;
    while (ids.size() < count) {
      const uint64_t size = rng() % 3 != 0 ? 1 : 2 + rng() % 7;
      std::vector<Change> changes;
      for (uint64_t i = 0; i < size; ++i) {
        ids.push_back("r" + std::to_string(round) + "-" + std::to_string(ids.size()));
        changes.push_back(testing::makeChange(ids.back(), Operation::kCreate, "v"));
      }
      ASSERT_TRUE(recordCall(*queue, changes).ok());
      commit_ends.push_back(ids.size());
    }
    ASSERT_NO_FATAL_FAILURE(loseThePowerAndReboot(queue, path));
    const std::vector<SessionChange> kept = testing::queuedAfterReopen(path);
    ASSERT_LE(kept.size(), ids.size());
    for (size_t i = 0; i < kept.size(); ++i) {
      ASSERT_EQ(kept[i].id, ids[i]) << "what survives is a prefix, in recorded order";
    }
    EXPECT_NE(std::find(commit_ends.begin(), commit_ends.end(), kept.size()), commit_ends.end())
        << kept.size() << " changes kept: not a whole number of commits";
    acknowledged += ids.size();
    lost += ids.size() - kept.size();
    rounds_with_loss += kept.size() < ids.size() ? 1 : 0;
  }
  std::cout << kRounds << " power losses at Durability::kProcessCrash: " << acknowledged
            << " changes acknowledged, " << lost << " lost (the most recent; " << rounds_with_loss
            << " rounds lost some); what was left was a prefix of whole commits every time\n";
}

}  // namespace
}  // namespace asp
