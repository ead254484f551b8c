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

// Which pending items readPending() returns: those after the cursor `after` (0: from the
// start; else a PendingPage::next_after), at most `max_items` of them (1..kMaxPendingItems).
struct PendingQuery {
  uint64_t after = 0;
  size_t max_items = 1000;
  // Also the context documents, after every change.
  bool with_context = false;
};

// One item readPending() returns: a change (is_context false) or a context document.
struct PendingItem {
  std::string id;
  std::string index;
  // A change's net effect: kCreate for an upsert of a document created since the manager
  // last confirmed it ("new"), kModify for another upsert, kDelete. A context document:
  // the operation it was recorded with.
  Operation operation = Operation::kCreate;
  std::string data;
  uint64_t version = 0;
  bool is_context = false;
  // Part of the session running now (sent, not confirmed yet). Never for a context.
  bool in_flight = false;
};

// One page of readPending().
struct PendingPage {
  std::vector<PendingItem> items;
  // The cursor to pass as PendingQuery::after for the next page (opaque).
  uint64_t next_after = 0;
  // Nothing is left after this page (as the queue is now).
  bool done = false;
};

// The largest PendingQuery::max_items.
inline constexpr size_t kMaxPendingItems = 100000;

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

  // Pending and in-flight counts per index, sorted by index. Context documents are
  // not counted.
  virtual absl::StatusOr<std::vector<IndexCounts>> counts() = 0;

  // Stores a context document (docs/protocol.md §7: what a vulnerability scan needs beside the
  // changes, e.g. packages, OS), replacing the one with the same (index, id), which keeps
  // its place in the order. Context documents are kept apart from the changes: never
  // coalesced with them, never counted by counts(), never dropped by a session; a DELTA
  // with option kVdFirst or kVdSync sends them after the values of each of its sessions,
  // until clearContexts(). Durable at the queue's durability level when it returns OK
  // (also in asynchronous mode: contexts are not buffered). InvalidArgument for a
  // document validateChange() refuses, naming the offending value.
  virtual absl::Status recordContext(const Change& document) = 0;

  // Drops every context document. A session already running keeps sending the ones it
  // began with only if it does not need to read them again (a retransmission of a
  // dropped one fails that session, and its changes stay queued).
  virtual absl::Status clearContexts() = 0;

  // Reads the pending changes (in flight ones too, marked) in the order each was first
  // recorded, and with `query.with_context` the context documents after them, in the
  // order each was first stored; one page of at most `query.max_items` items, resumed
  // from `query.after`. Begins no session and changes nothing; memory is bounded by
  // max_items. Pages see the queue as it is when each is read: a change recorded between
  // pages appears in a later page, a confirmed one disappears. InvalidArgument naming the
  // value for max_items 0 or above kMaxPendingItems, or a cursor readPending never returns.
  virtual absl::StatusOr<PendingPage> readPending(const PendingQuery& query) = 0;
};

}  // namespace asp

#endif  // ASP_STORAGE_CHANGE_RECORDER_H_
