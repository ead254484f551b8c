// ChangeRecorder: what a module may do with the queue a protocol instance owns: record
// and inspect. AgentSyncProtocol::queue() hands out this view, so a module cannot begin,
// commit or abort a session behind the protocol's back, nor delete the file under a
// running session. (The whole queue interface is asp/storage/change_queue.h.)
//
// Implementations are thread-safe.
#ifndef ASP_STORAGE_CHANGE_RECORDER_H_
#define ASP_STORAGE_CHANGE_RECORDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "asp/storage/change.h"

namespace asp {

// How durable a recorded change is when record() returns OK (docs/protocol.md §6).
enum class Durability {
  // It survives the process being killed (SIGKILL, crash): it is in the WAL file,
  // though perhaps not yet on the disk (synchronous=NORMAL).
  kProcessCrash,
  // It survives power loss too: the WAL is fsync'ed at each commit (synchronous=FULL).
  // Group commit shares the fsync between concurrent callers.
  kPowerLoss,
};

// Counts of changes per index, for inspection.
struct IndexCounts {
  std::string index;
  uint64_t pending = 0;
  uint64_t in_flight = 0;
};

class ChangeRecorder {
 public:
  virtual ~ChangeRecorder() = default;

  // Records one change, coalescing it per id (docs/protocol.md §6). Returns OK only once the
  // change is durable at the queue's durability level (in asynchronous mode: once
  // buffered; see flush()). InvalidArgument for a change validateChange() refuses.
  virtual absl::Status record(const Change& change) = 0;

  // Records many changes atomically, in order: all or none. Validates all first.
  virtual absl::Status recordBatch(absl::Span<const Change> changes) = 0;

  // Returns once everything recorded before the call is durable. A no-op except in
  // asynchronous mode.
  virtual absl::Status flush() = 0;

  // Pending and in-flight counts per index, sorted by index.
  virtual absl::StatusOr<std::vector<IndexCounts>> counts() = 0;
};

}  // namespace asp

#endif  // ASP_STORAGE_CHANGE_RECORDER_H_
