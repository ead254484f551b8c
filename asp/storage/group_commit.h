// GroupCommit: concurrent writers share transactions, so a change is durable without
// each writer paying for its own commit (and, at power-loss durability, its own fsync).
//
// Each writer calls commit(changes) and returns once its changes are committed (or the
// transaction that carried them failed: then every writer in it gets that error, and
// nothing of theirs is visible). The first writer in line is the leader: it runs one
// transaction for itself and every writer queued behind it, and the transaction asks
// for more before it commits, so writers that arrive meanwhile join (up to
// max_group_changes). Then the next writer in line leads. Changes are applied in the
// order their writers queued.
//
// With wait_for_writers (power loss), a leader about to commit with fewer writers than
// the last group waits for the others to queue up, at most twice the last commit's own
// duration on the Clock (PostgreSQL's commit_delay, adaptive): a fraction of an fsync
// spent waiting saves each of them one.
//
// Thread-safe: commit() may be called from any number of threads.
#ifndef ASP_STORAGE_GROUP_COMMIT_H_
#define ASP_STORAGE_GROUP_COMMIT_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asp/base/clock.h"
#include "asp/storage/change.h"

namespace asp {

class GroupCommit {
 public:
  using Parts = std::vector<absl::Span<const Change>>;
  // Appends the next parts to apply to *parts; false when there are none, and the
  // transaction commits.
  using NextParts = std::function<bool(Parts* parts)>;
  // One transaction applying, in order, every part `next` hands out: all or none.
  using Transaction = std::function<absl::Status(const NextParts& next)>;

  struct Options {
    bool wait_for_writers = false;
    size_t max_group_changes = 8192;
    Clock* clock = nullptr;  // systemClock() when null
  };

  GroupCommit(Options options, Transaction transaction);
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Returns once `changes` are committed, in one transaction with whoever else wrote.
  absl::Status commit(absl::Span<const Change> changes);

  // Writers in line now, the leader included (for tests that arrange a group).
  size_t inLine();

 private:
  struct Writer;
  // What one leader's transaction has taken so far.
  struct Group {
    size_t writers = 0;  // the first `writers` of writers_
    size_t changes = 0;
    bool waited = false;  // the one wait for late writers is spent (or not wanted)
    absl::Duration waiting;
  };

  // Runs the transaction for `self` (the leader) and everyone it takes; hands over.
  absl::Status lead(Writer& self);
  // The transaction's NextParts: takes the writers queued since it last asked.
  bool buildGroup(Group& group, Parts* parts);
  // Appends the queued writers' changes not yet in `group`. REQUIRES: mu_.
  void takeQueued(Group& group, Parts* parts);
  // Whether a leader with nothing new should wait for the writers it expects. REQUIRES: mu_.
  bool shouldWaitForWriters(const Group& group) const;
  // Waits (bounded) for the last group's number of writers to queue up. REQUIRES: mu_.
  void waitForWriters(Group& group, std::unique_lock<std::mutex>& lock);
  // Wakes the group's writers with `status` and the next leader. REQUIRES: mu_.
  void finishGroup(const Group& group, const absl::Status& status, const Writer* leader);

  const Options options_;
  Clock* const clock_;
  const Transaction transaction_;

  std::mutex mu_;                // guards everything below
  std::deque<Writer*> writers_;  // in line; the front one leads
  std::condition_variable leader_cv_;
  bool leader_waiting_ = false;
  size_t last_group_ = 0;
  absl::Duration last_commit_;  // the last commit's own duration, its waits left out
};

}  // namespace asp

#endif  // ASP_STORAGE_GROUP_COMMIT_H_
