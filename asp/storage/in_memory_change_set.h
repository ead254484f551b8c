// InMemoryChangeSet: the recovery set a FULL sync sends (docs/protocol.md §5.1).
//
// The module fills it with every document it holds (persistDifferenceInMemory) and
// runs a FULL session, after which the manager replaces the listed indices with it.
// Per id it keeps the newest document; a DELETE removes the id. Nothing is written to
// disk: the module can always rebuild the set from its own state.
//
// As a SessionSource: beginSession() freezes the current documents (in first-recorded
// order) and empties the live set; commitSession() forgets what was sent;
// abortSession() puts it back, unless the id was recorded again meanwhile.
//
// Thread-safety: all methods may be called concurrently.
#ifndef ASP_STORAGE_IN_MEMORY_CHANGE_SET_H_
#define ASP_STORAGE_IN_MEMORY_CHANGE_SET_H_

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "asp/storage/change_queue.h"

namespace asp {

class InMemoryChangeSet final : public SessionSource {
 public:
  explicit InMemoryChangeSet(ChangeLimits limits = {}) : limits_(limits) {}

  // InvalidArgument for a change validateChange() refuses.
  absl::Status record(const Change& change);
  // Forgets every document not in flight.
  void clear();
  // Documents in the live set (not counting a session in flight).
  size_t size() const;

  // Takes scope.only_indices; a FULL is one session (the manager replaces the listed
  // indices with what it carries), so the bounds and the mark do not apply.
  absl::StatusOr<SessionInfo> beginSession(const SessionScope& scope) override;
  absl::StatusOr<SessionPage> readInFlight(uint64_t first_seq, uint64_t last_seq,
                                           size_t max_bytes) override;
  absl::Status commitSession() override;
  absl::Status abortSession() override;

 private:
  // Live documents in first-recorded order; a DELETE leaves a tombstone while a
  // session is in flight (so an abort does not resurrect the document), else a hole.
  struct Slot {
    std::optional<Change> change;
  };
  void compactLocked();

  const ChangeLimits limits_;
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
  absl::flat_hash_map<std::string, size_t> position_;  // id -> slot
  size_t live_ = 0;
  bool in_session_ = false;
  std::vector<SessionChange> in_flight_;
};

}  // namespace asp

#endif  // ASP_STORAGE_IN_MEMORY_CHANGE_SET_H_
