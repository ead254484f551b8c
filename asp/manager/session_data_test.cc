#include "asp/manager/session_data.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace asp::manager {
namespace {

SessionUpdate::Op upsert(uint64_t n) {
  SessionUpdate::Op op;
  op.index = "files";
  op.id = "/srv/file-" + std::to_string(n);
  op.data = std::string(1000, 'd');
  op.version = n + 1;
  return op;
}

uint64_t missingCount(SessionData& data, uint64_t size) {
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> missing = data.missing(size);
  EXPECT_TRUE(missing.ok()) << missing.status();
  uint64_t n = 0;
  if (!missing.ok()) return 0;
  for (const auto& [begin, end] : *missing) n += end - begin + 1;
  return n;
}

// The spill store's disk fills mid-session (a page limit stands in for the disk). A
// failed write may take rows added before it with it (SQLite may end the transaction);
// the session must then neither count them as received nor ever look complete, so the
// End asks for them again instead of applying a session with holes.
TEST(SpillStoreFull, ASessionCountsOnlyWhatTheStoreStillHolds) {
  constexpr uint64_t kSize = 2000;
  MemoryBudget budget(0);              // nothing fits in memory: every value spills
  SpillStore spill(/*max_pages=*/64);  // 256 KiB: a few hundred values of 1 KB
  SessionData data(/*session=*/7, kSize, &budget, &spill);
  uint64_t accepted = 0, refused = 0;
  for (uint64_t seq = 0; seq < kSize; ++seq) {
    absl::StatusOr<bool> added = data.add(seq, upsert(seq), /*context=*/false);
    if (added.ok() && *added) ++accepted;
    if (!added.ok()) ++refused;
  }
  ASSERT_GT(accepted, 0u);
  ASSERT_GT(refused, 0u) << "the page limit never filled the store";

  EXPECT_FALSE(data.complete());
  // What the session believes it holds and what it will ask for add up to the session.
  EXPECT_EQ(data.received() + missingCount(data, kSize), kSize)
      << "received " << data.received() << " of " << accepted << " accepted; " << spill.losses()
      << " losses in the spill store";
}

TEST(SpillStoreFull, RetransmissionsIntoAStoreThatStaysFullNeverCompleteTheSession) {
  constexpr uint64_t kSize = 600;
  MemoryBudget budget(0);
  SpillStore spill(/*max_pages=*/64);
  SessionData data(/*session=*/8, kSize, &budget, &spill);
  for (uint64_t seq = 0; seq < kSize; ++seq) (void)data.add(seq, upsert(seq), false);
  ASSERT_FALSE(data.complete());
  // The limit is fixed, so what the End asks for again keeps failing (and taking rows
  // with it): the session stays incomplete however often it ends, and its tally stays
  // true to what the store holds.
  for (int end = 0; end < 3; ++end) {
    absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> missing = data.missing(1000);
    ASSERT_TRUE(missing.ok()) << missing.status();
    for (const auto& [begin, last] : *missing) {
      for (uint64_t seq = begin; seq <= last; ++seq) (void)data.add(seq, upsert(seq), false);
    }
    EXPECT_FALSE(data.complete());
    EXPECT_EQ(data.received() + missingCount(data, kSize), kSize);
  }
}

// Data held in memory, received out of order and mixed with contexts: takeOps() hands
// the ops (not the contexts) over in seq order whichever way a store reads them, one by
// one or all at once in place; takeContexts() the contexts alone.
TEST(SessionDataHeld, OpsComeInSeqOrderWithoutTheContextsReadEitherWay) {
  for (const bool in_place : {false, true}) {
    SCOPED_TRACE(in_place ? "in place" : "one by one");
    MemoryBudget budget(64 << 20);
    SpillStore spill;
    constexpr uint64_t kSize = 6;
    SessionData data(/*session=*/1, kSize, &budget, &spill);
    for (const uint64_t seq : {3, 0, 5, 1, 4, 2}) {
      ASSERT_TRUE(data.add(seq, upsert(seq), /*context=*/seq % 3 == 1).ok());
    }
    ASSERT_TRUE(data.complete());
    absl::StatusOr<std::unique_ptr<OpSource>> contexts = data.takeContexts();
    ASSERT_TRUE(contexts.ok()) << contexts.status();
    absl::StatusOr<std::unique_ptr<OpSource>> ops = data.takeOps();
    ASSERT_TRUE(ops.ok()) << ops.status();
    EXPECT_EQ(budget.used(), 0u);

    std::vector<std::string> ids;
    std::vector<std::string> context_ids;
    SessionUpdate::Op op;
    if (in_place) {
      HeldOpList* held = (*ops)->takeHeld();
      ASSERT_NE(held, nullptr);
      for (size_t i = 0; i < held->size(); ++i) ids.push_back(held->op(i).id);
      absl::StatusOr<bool> more = (*ops)->next(&op);
      ASSERT_TRUE(more.ok());
      EXPECT_FALSE(*more) << "next() after takeHeld() handed out " << op.id;
    } else {
      absl::StatusOr<bool> more;
      while ((more = (*ops)->next(&op)).ok() && *more) ids.push_back(op.id);
      ASSERT_TRUE(more.ok()) << more.status();
    }
    absl::StatusOr<bool> more;
    while ((more = (*contexts)->next(&op)).ok() && *more) context_ids.push_back(op.id);
    ASSERT_TRUE(more.ok()) << more.status();
    EXPECT_EQ(ids, (std::vector<std::string>{"/srv/file-0", "/srv/file-2", "/srv/file-3",
                                             "/srv/file-5"}));
    EXPECT_EQ(context_ids, (std::vector<std::string>{"/srv/file-1", "/srv/file-4"}));
  }
}

}  // namespace
}  // namespace asp::manager
