// SqliteChangeQueue: the durable change queue of one module instance (docs/protocol.md §6).
//
// One SQLite file per module instance, in WAL mode. Per id the queue holds at most one
// pending change, the net effect of everything recorded since the manager last
// confirmed that id (see docs/storage.md for the coalescing table and the schema).
//
// Durability is explicit (Durability): record() returns OK only once the change is
// committed at that level. Concurrent callers share commits (group commit): one of them
// commits everything queued so far in one transaction while the others wait for it.
// The opt-in asynchronous mode (Options::asynchronous) buffers instead; flush() is the
// durability barrier there (see async_committer.h).
//
// Files: the schema carries a version (PRAGMA user_version). A file of a newer or
// unknown version, a corrupt file, or a path that cannot be opened for writing is an
// error naming the file; a file is never silently replaced. At open, changes left in
// flight by a crash become pending again. Confirmed changes die in place and are removed
// in bulk; once a backlog has drained the file gives its space back (docs/storage.md,
// "Space"). That removal runs on a thread of the queue after the commit, so that a
// session's commit costs the same whatever it sent; awaitReclaim() waits for it.
//
// Thread-safety: every method may be called from any thread, concurrently.
#ifndef ASP_STORAGE_SQLITE_CHANGE_QUEUE_H_
#define ASP_STORAGE_SQLITE_CHANGE_QUEUE_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "asp/base/clock.h"
#include "asp/storage/async_committer.h"
#include "asp/storage/change_queue.h"
#include "asp/storage/group_commit.h"

namespace asp {

class IdFilter;
namespace sqlite {
class Db;  // asp/sqlite/sqlite_db.h, internal to asp
class Statement;
}  // namespace sqlite

class SqliteChangeQueue final : public ChangeQueue {
 public:
  static constexpr int kSchemaVersion = 4;
  // Options::path for a queue that lives in memory only (no file, no durability).
  static constexpr const char* kInMemoryPath = ":memory:";

  struct Options {
    std::string path;  // the database file; created if missing
    Durability durability = Durability::kProcessCrash;
    ChangeLimits limits;
    bool asynchronous = false;
    AsyncCommitter::Options async;
    // The group commit's waits and timings. Default: systemClock().
    Clock* clock = nullptr;
    // Name of a registered SQLite VFS (tests inject faults this way); empty: default.
    std::string vfs;
    // Inspection only (aspctl): the file must exist, nothing is written (not even the
    // crash recovery of in-flight changes, which belongs to the module's own process),
    // and every recording or session call fails with FailedPrecondition.
    bool read_only = false;
  };

  // One row of the queue, for inspection.
  struct StoredChange {
    std::string id;
    std::string index;
    bool is_delete = false;
    std::string data;
    uint64_t version = 0;
    bool is_new = false;
    bool in_flight = false;
    uint64_t seq = 0;  // when in flight
  };

  static absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> open(Options options);

  // The SQL that creates an empty queue file (docs/storage.md), for tools and
  // benchmarks that mirror the format.
  static const char* schemaSql();
  // Flushes (asynchronous mode) and closes the file.
  ~SqliteChangeQueue() override;

  absl::Status record(const Change& change) override;
  absl::Status recordBatch(absl::Span<const Change> changes) override;
  absl::Status flush() override;
  // Yields the next change to record, std::nullopt after the last, or an error.
  using ChangeSource = std::function<absl::StatusOr<std::optional<Change>>()>;
  // Records every change `next` yields in one transaction: all of them, or none when
  // `next` returns an error or a change is invalid (that error is returned, and the
  // caller knows which change it was: the last one yielded). Memory stays bounded
  // whatever the count: one change is held at a time and SQLite spills the open
  // transaction to its WAL. The queue's write lock is held until `next` is done, so
  // other writers (here and in other processes) wait: it is for bulk imports (aspctl
  // persist), not a live module's hot path.
  absl::Status recordAllOrNone(const ChangeSource& next);
  absl::StatusOr<int64_t> recordedMark() override;
  absl::StatusOr<SessionInfo> beginSession(const SessionScope& scope) override;
  absl::StatusOr<SessionPage> readInFlight(uint64_t first_seq, uint64_t last_seq,
                                           size_t max_bytes) override;
  // Views of the row as SQLite holds it; the queue's lock is held during the visits.
  absl::StatusOr<uint64_t> visitInFlight(uint64_t first_seq, uint64_t last_seq, size_t max_bytes,
                                         ChangeVisitor visit) override;
  absl::Status commitSession() override;
  absl::Status abortSession() override;
  absl::StatusOr<std::vector<IndexCounts>> counts() override;
  absl::Status deleteDatabase() override;
  // Context documents and pending reads: sqlite_change_queue_context.cc and
  // sqlite_change_queue_pending.cc.
  absl::Status recordContext(const Change& document) override;
  absl::Status clearContexts() override;
  absl::StatusOr<PendingPage> readPending(const PendingQuery& query) override;

  // The context documents a session sends: those stored up to `last_row` when it began,
  // numbered 0..count-1 in the order each was first stored (a replaced one keeps its
  // number and is sent with its newest content).
  struct ContextSet {
    uint64_t count = 0;
    uint64_t bytes = 0;  // id + index + data, summed, as SessionScope::max_bytes counts
    int64_t last_row = 0;
  };
  absl::StatusOr<ContextSet> contextSet();
  // The documents of `set` with first <= rank <= last, in rank order (SessionChange::seq
  // holds the rank), stopping after the one that brings the page to `max_bytes`. A
  // document damaged on disk is a DataLoss error naming its id.
  absl::StatusOr<SessionPage> readContexts(const ContextSet& set, uint64_t first, uint64_t last,
                                           size_t max_bytes);

  // Changes set aside because they cannot be sent (damaged on disk, or not UTF-8), with
  // why. A session that meets one fails once as a storage error naming its id; the
  // change then moves here and never blocks the others again.
  struct QuarantinedChange {
    std::string id;
    std::string index;
    std::string reason;
  };
  absl::StatusOr<std::vector<QuarantinedChange>> quarantined();

  // Visits every change (of `index`, or all when empty) in first-recorded order, one
  // row in memory at a time.
  absl::Status forEachChange(const std::string& index,
                             const std::function<void(const StoredChange&)>& visit);

  // Returns once the rows of the sessions confirmed so far are removed and their space
  // given back, as far as the queue's rules remove them (docs/storage.md, "Space"): the
  // queue does that on a thread of its own after each commit. For tools and tests that
  // look at the file; nothing a module does needs it (dead rows are never read).
  void awaitReclaim();

  const std::string& path() const { return options_.path; }

 private:
  struct Statements;

  explicit SqliteChangeQueue(Options options);

  class SessionStateGuard;

  // Opening, in named steps. Require db_mu_.
  absl::Status openFile();
  absl::StatusOr<std::unique_ptr<sqlite::Db>> openDatabase() const;
  absl::StatusOr<int64_t> checkVersion(sqlite::Db& db) const;
  absl::Status configureConnection(sqlite::Db& db) const;
  absl::Status createOrMigrate(sqlite::Db& db, int64_t version) const;
  // The context table, created if missing (sqlite_change_queue_context.cc).
  static absl::Status createContextTable(sqlite::Db& db);
  // Appends to `items` up to `room` context documents stored after `after_row` (sets
  // *last_row to the last one's), reading one more only to tell whether any is left
  // (*more). Requires db_mu_.
  absl::Status readContextsAfter(int64_t after_row, size_t room, std::vector<PendingItem>* items,
                                 int64_t* last_row, bool* more);
  // The same for the changes after row `after_row`. Requires db_mu_.
  absl::Status readChangesAfter(int64_t after_row, size_t room, std::vector<PendingItem>* items,
                                int64_t* last_row, bool* more);
  static absl::StatusOr<std::unique_ptr<Statements>> prepareStatements(sqlite::Db& db);
  absl::Status loadKnownIndices();
  absl::Status recoverCrashedSession();
  absl::Status closeFile();  // requires db_mu_
  absl::Status validateAll(absl::Span<const Change> changes) const;
  // One transaction applying, in order, the parts `next` hands out until it returns
  // false (asked again before COMMIT, so late writers can join): GroupCommit's.
  absl::Status applyInTransaction(const GroupCommit::NextParts& next);
  // A row of `change`'s table as the coalescing rules see it.
  struct StoredRow {
    bool present = false;
    int64_t row = 0;
    bool is_delete = false;
    bool is_new = false;
  };
  struct IdRows {
    StoredRow pending;
    StoredRow in_flight;
  };
  // Recording one change, in a transaction. Require db_mu_.
  absl::Status applyOne(const Change& change);
  absl::StatusOr<IdRows> rowsOf(const std::string& id);
  absl::Status insertRow(const Change& change, bool is_new);
  static void bindContent(sqlite::Statement& write, const Change& change, bool is_new);
  // Whether `row` (of `index`) belongs to the session in flight. Requires db_mu_.
  bool inFlight(int64_t row, const std::string& index) const;
  // Whether a row's stored "new" flag still holds (it was never in a session).
  bool stillNew(int64_t row, bool is_new) const { return is_new && row > sent_watermark_; }
  // Session steps. Require db_mu_, in a transaction.
  struct Frozen;
  // The whole table: `live` rows (liveRows()) and the indices with rows.
  absl::Status countAll(int64_t live, SessionInfo* info);
  absl::Status freezeOldest(const SessionScope& scope, Frozen* frozen, SessionInfo* info);
  // The live rows when all of them together stay within the scope's bounds, known
  // without reading them; nullopt when they may not (the rows must be stepped through).
  absl::StatusOr<std::optional<int64_t>> liveRowsWithin(const SessionScope& scope);
  absl::Status countIndices(const Frozen& frozen, SessionInfo* info);
  absl::Status dropFrozenIndices();
  // Deferred deletion and giving space back (sqlite_change_queue_space.cc,
  // docs/storage.md "Space"). A confirmed DELTA session's rows die in place behind
  // confirmed_hi_ (less the `quarantined` ones, gone already): a few writes, whatever the
  // session's size. Requires db_mu_, in a transaction.
  void confirmFrozenRows(int64_t quarantined);
  // The reclaimer: a thread of the queue, started at the first request, that removes the
  // dead rows (removeConfirmedRows) and gives the space back (reclaimSpace) after a
  // commit asked for it. `drain_ended`: the session took every live row (its rows may be
  // removed under live ones). Require reclaim_mu_ not held.
  void requestReclaim(bool drain_ended);
  void reclaimLoop();
  // Empties the table when no live row is left; after a drain, removes the dead rows
  // under the few live ones recorded meanwhile (kDeadPerLiveRow). Not while a session is
  // in flight (its commit asks again). Whether it removed any. Requires db_mu_.
  absl::StatusOr<bool> removeConfirmedRows(bool drain_ended);
  absl::Status removeDeadRows();
  // How many rows are live: SQLite counts a whole table without reading its rows, a
  // WHERE would make it step through each; the dead ones are known (dead_rows_).
  absl::StatusOr<int64_t> liveRows();
  // The bytes of the file's pages in use (free pages left out): every row's id, index
  // and data are stored in them, so they bound what any set of rows counts.
  absl::StatusOr<int64_t> bytesInUse();
  // After a commit that freed many pages, and at open: converts a file without
  // auto-vacuum when little of it is live (one VACUUM) and truncates the WAL, so that
  // the disk space comes back. Best effort: nothing depends on it. Requires db_mu_, no
  // transaction open.
  void reclaimSpace();
  // Abort / crash recovery: sets aside the damaged rows met, merges what was recorded
  // during the session into the frozen rows and ends the session. Requires db_mu_, in
  // a transaction.
  absl::Status unfreeze();
  // Moves the rows in damaged_ to the quarantine table, adding how many to *moved.
  // Requires db_mu_, in a transaction.
  absl::Status quarantineDamaged(int64_t* moved = nullptr);
  // Notes every damaged row of the session from `first_row` on; returns how many.
  // Requires db_mu_.
  size_t noteDamagedFrom(int64_t first_row);
  // Why a row read for sending cannot be sent, or "" when it is sound.
  static std::string damage(const sqlite::Statement& row);
  // Persists frozen_ and the watermarks (queue_state, frozen_index). Requires db_mu_.
  absl::Status saveState();
  absl::Status loadState();
  absl::Status loadIds();  // requires db_mu_ (or the constructor), statements_
  // readInFlight's and visitInFlight's reading: each row of the range checked (damage)
  // and shown to `visit`. Requires db_mu_.
  absl::StatusOr<uint64_t> visitRows(uint64_t first_seq, uint64_t last_seq, size_t max_bytes,
                                     ChangeVisitor visit);
  // The row just before the in-flight change with seq `seq`: where to start reading it.
  absl::StatusOr<int64_t> rowOfSeq(uint64_t seq);
  // Steps a one-value query (0 when it returns no row) and resets it.
  static absl::StatusOr<int64_t> scalar(sqlite::Statement& statement);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on any error.
  template <typename Body>
  absl::Status inTransaction(Body body);

  const Options options_;

  std::mutex db_mu_;  // guards db_, statements_, frozen_ and the watermarks
  std::unique_ptr<sqlite::Db> db_;
  std::unique_ptr<Statements> statements_;

  // The session in flight: the rows up to `hi` (of the `only` indices, all when
  // empty) as they were at beginSession(). The queue numbers rows itself (next_row_),
  // always above every number in use, frozen or watermarked, so nothing recorded later
  // can fall inside the range; seqs are ranks within it.
  struct Frozen {
    bool active = false;
    int64_t hi = 0;
    absl::flat_hash_set<std::string> only;
    uint64_t size = 0;
    // The session took every live row up to its bound (no size limit cut it short): the
    // end of a drain, where removing the dead rows costs the least.
    bool reached_end = false;
    uint64_t next_seq = 0;  // streaming cursor: seq next_seq is the first in-flight row
    int64_t after_row = 0;  // after this one
  } frozen_;
  // Rows up to here have been in a DELTA session: whatever their flag says, they are
  // no longer "new" (the manager may have applied them).
  int64_t sent_watermark_ = 0;
  // Rows up to here were confirmed: dead, never read, removed in bulk (confirmFrozenRows);
  // dead_rows_ of them are still in the table. Persisted in queue_state with each commit.
  int64_t confirmed_hi_ = 0;
  int64_t dead_rows_ = 0;
  // Whether the file gives freed pages back at commit (auto_vacuum = FULL; files created
  // before schema version 4 have none until reclaimSpace() converts them).
  bool auto_vacuum_ = false;
  // Rows of the session in flight found damaged when read (row, reason): quarantined
  // when the session ends.
  std::vector<std::pair<int64_t, std::string>> damaged_;
  // The number the next new row gets: above every row, frozen_.hi and the watermarks
  // (SQLite's own choice, max + 1, could fall back into a frozen range after deletes).
  int64_t next_row_ = 1;
  // Indices queue_index is known to hold (a subset of it; it holds a superset of the
  // indices with rows), and those the open transaction added. Require db_mu_.
  absl::flat_hash_set<std::string> known_indices_;
  // Every id with a row, when `ids_complete_` (else unknown: the lookup always runs).
  // Complete from an empty table, or rebuilt at open from a table small enough for the
  // filter; ids are only ever added, and forgotten when a commit empties the table.
  std::unique_ptr<IdFilter> ids_;
  bool ids_complete_ = false;
  std::vector<std::string> indices_added_;
  // Adds change.index to queue_index unless known. Requires db_mu_, in a transaction.
  absl::Status noteIndex(const std::string& index);
  // The indices with rows, sorted; forgets the others. Requires db_mu_, in a transaction.
  absl::StatusOr<std::vector<std::string>> indicesWithRows();

  // Concurrent record() calls share transactions (group_commit.h).
  std::unique_ptr<GroupCommit> group_commit_;
  std::unique_ptr<AsyncCommitter> async_;  // set in asynchronous mode

  // The reclaimer's requests (requestReclaim). Never held while taking db_mu_.
  std::mutex reclaim_mu_;
  std::condition_variable reclaim_cv_;
  bool reclaim_wanted_ = false;       // a request not yet taken
  bool reclaim_drain_ended_ = false;  // of the requests not yet taken, one ended a drain
  bool reclaim_busy_ = false;         // the thread is removing rows now
  bool reclaim_stop_ = false;         // the destructor: do what is asked, then end
  std::thread reclaimer_;             // started at the first request
};

}  // namespace asp

#endif  // ASP_STORAGE_SQLITE_CHANGE_QUEUE_H_
