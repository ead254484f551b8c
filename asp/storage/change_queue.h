// Interfaces of the module's change queue (docs/protocol.md §6).
//
// SessionSource is what a session reads from: it freezes a set of changes (numbered
// 0..N-1 by seq), hands them out in pages by seq range, as often as needed (for
// retransmission), and finally commits (drops them: the manager confirmed) or aborts
// (everything back to pending). ChangeQueue adds recording and inspection.
//
// Implementations: SqliteChangeQueue (durable, one file per module instance) and
// InMemoryChangeSet (the recovery set of FULL syncs). Both are thread-safe: changes
// may be recorded from many threads while a session runs.
#ifndef ASP_STORAGE_CHANGE_QUEUE_H_
#define ASP_STORAGE_CHANGE_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "asp/storage/change.h"
#include "asp/storage/change_recorder.h"

namespace asp {

// What beginSession() froze.
struct SessionInfo {
  uint64_t size = 0;                 // changes in flight, seq 0..size-1
  std::vector<std::string> indices;  // distinct indices among them, sorted
  // Every pending change the scope allows (up to its mark, within its indices) is in
  // flight: once this session is confirmed, a bounded DELTA call has nothing left to
  // ask for. False when a bound left some behind, and whenever a queue cannot tell.
  bool took_all = false;
};

// Which pending changes beginSession() freezes.
struct SessionScope {
  // Only the changes of these indices (a DataClean session freezes what it is about to
  // make obsolete, so that commitSession() drops exactly that and nothing recorded
  // meanwhile). Empty: every index.
  std::vector<std::string> only_indices;
  // At most this many changes and this many bytes (id + index + data, summed), the oldest
  // first: a bounded session (docs/protocol.md §5). At least one change whenever any is
  // pending, whatever its size. 0: no bound. Not with only_indices.
  uint64_t max_changes = 0;
  uint64_t max_bytes = 0;
  // Only changes first recorded up to this mark (ChangeQueue::recordedMark()): what was
  // pending when a call began, not what was recorded since. Empty: no bound.
  std::optional<int64_t> up_to_mark;

  // Only the changes of `indices`.
  static SessionScope of(std::vector<std::string> indices) {
    SessionScope scope;
    scope.only_indices = std::move(indices);
    return scope;
  }
};

// One page of a session, in seq order.
struct SessionPage {
  std::vector<SessionChange> changes;
  size_t data_bytes = 0;  // sum of id + index + data sizes
};

class SessionSource {
 public:
  virtual ~SessionSource() = default;

  // Marks the pending changes `scope` selects in flight, numbering them 0..N-1 in the
  // order each was first recorded. N may be 0. FailedPrecondition if a session is
  // already in flight.
  virtual absl::StatusOr<SessionInfo> beginSession(const SessionScope& scope = {}) = 0;

  // The in-flight changes with first_seq <= seq <= last_seq, in seq order, stopping
  // after the change that brings the page to `max_bytes` (at least one change when any
  // is in range). Callers page by continuing after the last seq returned. May be called
  // any number of times for the same range while the session is in flight.
  virtual absl::StatusOr<SessionPage> readInFlight(uint64_t first_seq, uint64_t last_seq,
                                                   size_t max_bytes) = 0;

  // The same changes shown to `visit` one at a time, without copying them (a session
  // encodes each straight into its frame), until `visit` returns false (that change is
  // not taken: the next call starts with it), the page reaches `max_bytes` as above, or
  // the range ends. Returns the seq after the last change taken: first_seq when none
  // was. The views are valid only during the call, and `visit` must not call into the
  // source. This default reads a page with readInFlight.
  using ChangeVisitor = absl::FunctionRef<bool(const SessionChangeView&)>;
  virtual absl::StatusOr<uint64_t> visitInFlight(uint64_t first_seq, uint64_t last_seq,
                                                 size_t max_bytes, ChangeVisitor visit) {
    absl::StatusOr<SessionPage> page = readInFlight(first_seq, last_seq, max_bytes);
    if (!page.ok()) return page.status();
    uint64_t next = first_seq;
    for (const SessionChange& c : page->changes) {
      if (!visit(viewOf(c))) break;
      next = c.seq + 1;
    }
    return next;
  }

  // The manager confirmed: drops every in-flight change. A change recorded for the
  // same id while it was in flight stays pending with its newest content.
  virtual absl::Status commitSession() = 0;

  // The session failed or stopped: every in-flight change becomes pending again,
  // merged with anything recorded for its id meanwhile, and is no longer "new".
  virtual absl::Status abortSession() = 0;
};

// The whole queue: recording, sessions, and deleting it.
class ChangeQueue : public ChangeRecorder, public SessionSource {
 public:
  // A mark for SessionScope::up_to_mark: every change recorded (and, in asynchronous
  // mode, buffered) before the call is at or below it, every later one above.
  virtual absl::StatusOr<int64_t> recordedMark() = 0;

  // Deletes every change and the backing file(s); the queue stays usable, empty.
  virtual absl::Status deleteDatabase() = 0;
};

}  // namespace asp

#endif  // ASP_STORAGE_CHANGE_QUEUE_H_
