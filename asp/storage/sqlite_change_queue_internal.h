// Internals shared by the two halves of SqliteChangeQueue (sqlite_change_queue.cc:
// recording and sessions; sqlite_change_queue_file.cc: opening, inspecting, deleting).
// Not part of the API.
#ifndef ASP_STORAGE_SQLITE_CHANGE_QUEUE_INTERNAL_H_
#define ASP_STORAGE_SQLITE_CHANGE_QUEUE_INTERNAL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "asp/sqlite/sqlite_db.h"
#include "asp/storage/change_crc.h"
#include "asp/storage/sqlite_change_queue.h"

namespace asp {
namespace queue_internal {

// op column values: the wire's net operations.
inline constexpr int64_t kUpsert = 1;
inline constexpr int64_t kDelete = 2;

// The id filter: 512 KiB, about 2% false positives at its designed load of 500,000 ids.
inline constexpr size_t kIdFilterBits = size_t{1} << 22;
inline constexpr int64_t kIdFilterRebuildRows = 500000;

// How long a statement waits for another process's lock (aspctl reading the file).
inline constexpr char kBusyTimeoutSql[] = "PRAGMA busy_timeout = 5000";

// queue_state.frozen_hi when no session is in flight.
inline constexpr int64_t kNoSession = -1;

// FULL auto-vacuum: a commit that frees pages gives them back to the file system (it
// moves the pages still in use from the end of the file into the holes), so the file
// shrinks as soon as a drained queue is cleared (docs/storage.md, "Space").
inline constexpr char kSchema[] = R"sql(
PRAGMA auto_vacuum = FULL;
BEGIN IMMEDIATE;
CREATE TABLE change (
  row     INTEGER PRIMARY KEY,   -- first-recorded order; given by the queue (next_row_)
  id      TEXT    NOT NULL,
  idx     TEXT    NOT NULL,
  op      INTEGER NOT NULL CHECK (op IN (1, 2)),
  data    BLOB    NOT NULL,
  version INTEGER NOT NULL,
  is_new  INTEGER NOT NULL,  -- created since the last confirmed sync (see sent_watermark)
  crc     INTEGER NOT NULL   -- CRC-32 of the change (changeCrc), checked when it is read to send
);
CREATE INDEX change_by_id ON change(id);
-- frozen_hi: the session in flight holds the rows up to it (-1: none);
-- sent_watermark: rows up to it have been in a DELTA session;
-- confirmed_hi: rows up to it were confirmed and are dead, waiting to be removed in bulk;
-- dead_rows: how many of them are still in the table.
CREATE TABLE queue_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO queue_state VALUES ('frozen_hi', -1), ('sent_watermark', 0), ('confirmed_hi', 0),
  ('dead_rows', 0);
-- The indices a DataClean session froze (empty: a DELTA session froze every index).
CREATE TABLE frozen_index (idx TEXT PRIMARY KEY) WITHOUT ROWID;
-- Every index that may have rows in `change` (a superset): what beginSession() lists
-- without scanning the table.
CREATE TABLE queue_index (idx TEXT PRIMARY KEY) WITHOUT ROWID;
-- Changes that cannot be sent (damaged on disk, or not encodable): set aside, never
-- sent, never blocking the others; kept for inspection (aspctl) and recovery (a FULL).
CREATE TABLE quarantine (
  row     INTEGER PRIMARY KEY,
  id      BLOB    NOT NULL,
  idx     BLOB    NOT NULL,
  op      INTEGER NOT NULL,
  data    BLOB    NOT NULL,
  version INTEGER NOT NULL,
  reason  TEXT    NOT NULL
);
PRAGMA user_version = 4;
COMMIT;
)sql";

// Version 1 had no queue_index.
inline constexpr char kMigrateFrom1[] = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE queue_index (idx TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO queue_index SELECT DISTINCT idx FROM change;
PRAGMA user_version = 2;
COMMIT;
)sql";

// Version 2 had no checksum per change and no quarantine. asp_crc() is registered by
// the migration (changeCrc()). The quarantine table is spelled out again, not taken
// from the current schema: a migration must stay what it was when the schema changes.
inline constexpr char kMigrateFrom2[] = R"sql(
BEGIN IMMEDIATE;
ALTER TABLE change ADD COLUMN crc INTEGER NOT NULL DEFAULT 0;
UPDATE change SET crc = asp_crc(id, idx, op, data, version);
CREATE TABLE quarantine (
  row     INTEGER PRIMARY KEY,
  id      BLOB    NOT NULL,
  idx     BLOB    NOT NULL,
  op      INTEGER NOT NULL,
  data    BLOB    NOT NULL,
  version INTEGER NOT NULL,
  reason  TEXT    NOT NULL
);
PRAGMA user_version = 3;
COMMIT;
)sql";

// Version 3 deleted confirmed rows at once and had no auto-vacuum (the file is converted
// by one VACUUM when little is live: SqliteChangeQueue::reclaimSpace()).
inline constexpr char kMigrateFrom3[] = R"sql(
BEGIN IMMEDIATE;
INSERT INTO queue_state VALUES ('confirmed_hi', 0), ('dead_rows', 0);
PRAGMA user_version = 4;
COMMIT;
)sql";

// ---- Deferred deletion (docs/storage.md): the one definition of a live row.
// A confirmed DELTA session does not delete its rows: queue_state.confirmed_hi moves up to
// its last row, and every row at or below it is dead. Every statement that reads the
// queue's rows keeps to the live ones through liveRow(); nothing else spells the
// condition. (coalesce: a file of an older version, opened for inspection, has no
// confirmed_hi and no dead rows.) One exception, for speed: the number of live rows is
// count(*) less queue_state.dead_rows (SqliteChangeQueue::liveRows()), since SQLite
// counts a table without a WHERE without stepping through its rows.
inline constexpr char kConfirmedHiSql[] =
    "coalesce((SELECT value FROM queue_state WHERE key = 'confirmed_hi'), 0)";
// "<row> > <confirmed_hi>", or with a `floor` "<row> > max(<floor>, <confirmed_hi>)": one
// lower bound, so that SQLite seeks straight to the first live row after `floor`. Prefix
// the column with '+' ("+f.row") for a filter SQLite must not drive a join with.
std::string liveRow(absl::string_view row = "row", absl::string_view floor = "");

// Registers asp_crc(id, idx, op, data, version) on `db`, for the migration.
absl::Status registerCrcFunction(sqlite::Db& db);

// ---- The prepared statements' SQL, each with its parameters and columns named beside it.

// A new row, or a row updated in place: the same parameters (the key is the id for an
// insert, the row for an update).
enum ChangeParam : int {
  kKeyParam = 1,
  kIndexParam = 2,
  kOpParam = 3,
  kDataParam = 4,
  kVersionParam = 5,
  kIsNewParam = 6,
  kRowParam = 7,  // insert only: the queue numbers rows itself (next_row_)
  kCrcParam = 8,
};
inline constexpr char kInsertSql[] =
    "INSERT INTO change (id, idx, op, data, version, is_new, row, crc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
inline constexpr char kUpdateSql[] =
    "UPDATE change SET idx = ?2, op = ?3, data = ?4, version = ?5, is_new = ?6, crc = ?8 "
    "WHERE row = ?1";

// The live rows of one id (at most one pending and one in flight). Parameter 1: the id.
enum FindColumn : int { kFindRow = 0, kFindOp = 1, kFindIsNew = 2, kFindIndex = 3 };
std::string findSql();

// The rows after ?1 up to ?2, in order: what a session reads.
enum ReadColumn : int {
  kReadRow = 0,
  kReadId = 1,
  kReadIndex = 2,
  kReadOp = 3,
  kReadData = 4,
  kReadVersion = 5,
  kReadCrc = 6,
};
std::string readAfterSql();

// The live rows up to ?1 in order, with what each weighs in a session (id + index + data
// bytes; length() of a blob reads no overflow page): what a bounded session takes.
enum SizeColumn : int { kSizeRow = 0, kSizeIndex = 1, kSizeBytes = 2 };
std::string rowSizesSql();

// Abort or crash: each frozen change (live, row <= ?1) takes the newest content recorded for
// its id meanwhile (keeping its first-recorded row), and the newer row goes.
std::string mergeUpdateSql();
std::string mergeDeleteSql();

// Removing the dead rows while live ones remain (SqliteChangeQueue::removeDeadRows()): the
// live rows are set aside, the table is cleared (SQLite frees the pages of a table and its
// index without a lookup per row when a DELETE has no WHERE), and they come back.
std::vector<std::string> removeDeadRowsSql();

// A row moved to quarantine: ?1 its row, ?2 why.
inline constexpr char kQuarantineSql[] =
    "INSERT OR REPLACE INTO quarantine (row, id, idx, op, data, version, reason) "
    "SELECT row, CAST(id AS BLOB), CAST(idx AS BLOB), op, data, version, ?2 FROM change "
    "WHERE row = ?1";

}  // namespace queue_internal

struct SqliteChangeQueue::Statements {
  sqlite::Statement begin, commit, rollback;
  sqlite::Statement find, insert, update, erase;
  sqlite::Statement max_row, count_all, read_after, locate, rows_after, row_sizes;
  sqlite::Statement delete_all, merge_update, merge_delete, set_state;
  sqlite::Statement add_index, drop_index, clear_indices, distinct_indices;
  sqlite::Statement quarantine;

  // Every statement with its SQL.
  static std::vector<std::pair<sqlite::Statement Statements::*, std::string>> all();
};

// Restores the queue's in-memory session state (frozen_ and the watermarks) when it goes
// out of scope, unless keep() was called: the transaction that changed it committed.
class SqliteChangeQueue::SessionStateGuard {
 public:
  explicit SessionStateGuard(SqliteChangeQueue* queue)
      : queue_(queue),
        frozen_(queue->frozen_),
        sent_watermark_(queue->sent_watermark_),
        confirmed_hi_(queue->confirmed_hi_),
        dead_rows_(queue->dead_rows_) {}
  ~SessionStateGuard() {
    if (kept_) return;
    queue_->frozen_ = frozen_;
    queue_->sent_watermark_ = sent_watermark_;
    queue_->confirmed_hi_ = confirmed_hi_;
    queue_->dead_rows_ = dead_rows_;
  }
  SessionStateGuard(const SessionStateGuard&) = delete;
  SessionStateGuard& operator=(const SessionStateGuard&) = delete;

  // Keeps the state as it is now when `status` is OK; returns it.
  absl::Status keepIf(absl::Status status) {
    kept_ = status.ok();
    return status;
  }

 private:
  SqliteChangeQueue* const queue_;
  const Frozen frozen_;
  const int64_t sent_watermark_;
  const int64_t confirmed_hi_;
  const int64_t dead_rows_;
  bool kept_ = false;
};

template <typename Body>
absl::Status SqliteChangeQueue::inTransaction(Body body) {
  if (db_ == nullptr || statements_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("queue database '", options_.path, "' is ",
                                                      db_ == nullptr ? "closed" : "read-only"));
  }
  if (absl::Status s = statements_->begin.run(); !s.ok()) return s;
  indices_added_.clear();
  absl::Status status = body();
  if (status.ok()) status = statements_->commit.run();
  // After a failed COMMIT SQLite may already have rolled back; that error is moot.
  if (!status.ok()) (void)statements_->rollback.run();
  // Indices written to queue_index count as known only once that is durable.
  if (status.ok()) known_indices_.insert(indices_added_.begin(), indices_added_.end());
  indices_added_.clear();
  return status;
}

}  // namespace asp

#endif  // ASP_STORAGE_SQLITE_CHANGE_QUEUE_INTERNAL_H_
