// The queue file's size after a backlog drains (docs/storage.md, "Space"): part 6 of
// //bench:storage_bench.
//
// A queue file is filled with N changes (recordBatch of 10k, fillChange: 200-byte data),
// then drained the way a DELTA call does with bounded sessions: consecutive sessions of
// 100,000 changes, each read whole and committed; while the last one is in flight, N/100
// new changes are recorded, and stay queued. Measured: the bytes the file and its WAL take
// on disk before and after, the bytes still queued (id + index + data of what is left),
// and the time of each commit. Target (issue 13): after the drain the files take at most
// twice what is queued plus 4 MiB.
#ifndef BENCH_DRAIN_SPACE_H_
#define BENCH_DRAIN_SPACE_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"

namespace asp::bench {

struct DrainSpaceResult {
  uint64_t changes = 0;  // the backlog
  uint64_t sessions = 0;
  uint64_t queued_changes = 0;      // left after the drain (recorded during the last session)
  int64_t queued_bytes = 0;         // their id + index + data
  int64_t bytes_before = 0;         // file + WAL on disk, filled
  int64_t bytes_after = 0;          // file + WAL on disk, drained
  double drain_seconds = 0;         // every session: begin, read, commit
  double commit_seconds_max = 0;    // the slowest commit
  double reclaim_seconds = 0;       // waiting, after the last commit, for the reclaimer
  double commit_seconds_other = 0;  // all the others together
};

// Fills and drains a queue file at `path` (removed afterwards).
absl::StatusOr<DrainSpaceResult> measureDrainSpace(const std::string& path, uint64_t changes);

// One summary line, with PASS/FAIL against the target.
void printDrainSpace(std::ostream& out, const DrainSpaceResult& result);

}  // namespace asp::bench

#endif  // BENCH_DRAIN_SPACE_H_
