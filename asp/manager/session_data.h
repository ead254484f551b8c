// What the reference manager has received for one session (docs/protocol.md §7, "Memory").
//
// Nothing here is allocated in proportion to what a Start announces: a session costs a
// few hundred bytes until data arrives, then what the data itself takes. Received data
// is held in memory while the manager's MemoryBudget allows; the session whose data
// would exceed it moves to the SpillStore, a private temporary SQLite database on disk,
// so the manager's memory stays bounded by configuration whatever senders do, and a
// confirmed session is applied from there in seq order without being read whole.
//
// Each seq is kept once (duplicates are reported, not stored). Not thread-safe: the
// owner (ManagerCore, under its mutex) serializes every call, on all three classes.
#ifndef ASP_MANAGER_SESSION_DATA_H_
#define ASP_MANAGER_SESSION_DATA_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asp/manager/state_store.h"

namespace asp::sqlite {
class Db;
class Statement;
}  // namespace asp::sqlite

namespace asp::manager {

// Bytes of received session data the manager may hold in memory, across sessions.
class MemoryBudget {
 public:
  explicit MemoryBudget(size_t limit) : limit_(limit) {}
  // Takes `bytes` if they fit; false (nothing taken) otherwise.
  bool tryTake(size_t bytes);
  void give(size_t bytes) { used_ -= bytes < used_ ? bytes : used_; }
  size_t used() const { return used_; }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  size_t used_ = 0;
};

// The disk side: one temporary database for every spilled session, opened on first
// use and deleted (by SQLite) when the manager closes it. Its page cache is small and
// fixed, so spilling costs disk, not memory. Rows are added in transactions of up to
// kRowsPerTransaction (nothing here needs to survive a crash; a commit per row cost a
// scan of the page cache per row, 5x the time of the whole in-memory path). A write
// that fails (the disk full, say) may take the open transaction with it, and with it
// rows of several sessions: losses() counts such events, so that each session counts
// what the store really holds again before it trusts its own tally.
class SpillStore {
 public:
  // `max_pages`: a bound on the database's pages, 0 for none (tests fill the disk with it).
  explicit SpillStore(int64_t max_pages = 0);
  ~SpillStore();

  // Stores `op` at (session, seq) unless that seq is held: true if stored.
  absl::StatusOr<bool> add(uint64_t session, uint64_t seq, bool context,
                           const SessionUpdate::Op& op);
  // Visits the seqs held for `session` in ascending order until `visit` returns false.
  absl::Status forEachSeq(uint64_t session, const std::function<bool(uint64_t)>& visit);
  // The non-context ops of `session` in seq order, or with `contexts` its context
  // documents (DataContext) in seq order.
  absl::StatusOr<std::unique_ptr<OpSource>> ops(uint64_t session, bool contexts = false);
  // Forgets `session` (its ops are applied or abandoned).
  absl::Status drop(uint64_t session);
  // The rows held for `session`: all of them, and how many are contexts.
  absl::StatusOr<std::pair<uint64_t, uint64_t>> count(uint64_t session);
  // Writes that failed in a way that may have lost rows added before them.
  uint64_t losses() const { return losses_; }
  // Sessions spilled since the manager started.
  uint64_t sessionsSpilled() const { return sessions_spilled_; }
  void countSession() { ++sessions_spilled_; }

 private:
  static constexpr int kRowsPerTransaction = 8192;

  absl::Status open();
  // Ends the open transaction, if any: before reads and deletes, and every
  // kRowsPerTransaction rows.
  absl::Status commit();
  // After a failed write: whether SQLite ended the transaction (then its rows may be
  // gone: counted in losses_).
  void noteFailure();

  std::unique_ptr<sqlite::Db> db_;
  std::unique_ptr<sqlite::Statement> insert_;
  const int64_t max_pages_;
  int uncommitted_rows_ = -1;  // -1: no transaction open
  uint64_t losses_ = 0;
  uint64_t sessions_spilled_ = 0;
};

class SessionData {
 public:
  // One data message held in memory.
  struct Entry {
    uint64_t seq;
    bool context;
    SessionUpdate::Op op;
  };

  SessionData(uint64_t session, uint64_t size, MemoryBudget* budget, SpillStore* spill);
  ~SessionData();  // gives back its memory and drops its spilled rows
  SessionData(const SessionData&) = delete;
  SessionData& operator=(const SessionData&) = delete;

  // Records the data message at `seq` (< size): true if new, false if a duplicate.
  // A context message (DataContext) counts as received and is kept apart from the ops.
  absl::StatusOr<bool> add(uint64_t seq, SessionUpdate::Op op, bool context);
  // Data messages received (each seq once), and how many of them were contexts.
  uint64_t received() const { return received_; }
  uint64_t contextsReceived() const { return contexts_received_; }
  // Every seq received. For a spilled session, after a loss in the spill store, what the
  // store holds is counted again first (a failure to count makes it incomplete).
  bool complete();
  // The seq ranges [begin, end] not received yet, ascending, at most `limit` of them.
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> missing(size_t limit);
  // Hands the context documents (DataContext) out in seq order, as upserts. Call at
  // most once, when complete(), before takeOps().
  absl::StatusOr<std::unique_ptr<OpSource>> takeContexts();
  // Hands the non-context ops out in seq order. Call once, when complete().
  absl::StatusOr<std::unique_ptr<OpSource>> takeOps();

  bool spilled() const { return spilled_; }
  size_t memoryBytes() const { return memory_bytes_; }

 private:
  // Moves everything held in memory to the spill store and gives the memory back.
  absl::Status spill();
  void markReceived(uint64_t seq);
  void sortHeld();
  bool isReceived(uint64_t seq) const;
  void release();

  const uint64_t session_;
  const uint64_t size_;
  MemoryBudget* const budget_;
  SpillStore* const spill_;
  uint64_t received_ = 0;
  uint64_t contexts_received_ = 0;
  bool spilled_ = false;
  uint64_t losses_seen_ = 0;  // spill_->losses() when received_ was last known right
  size_t memory_bytes_ = 0;
  // In memory: the entries in arrival order (a deque: no doubling spikes), and the
  // received seqs as ranges (begin -> end, inclusive), usually one.
  std::deque<Entry> entries_;
  bool in_seq_order_ = true;  // entries_ is sorted by seq
  std::map<uint64_t, uint64_t> ranges_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_SESSION_DATA_H_
