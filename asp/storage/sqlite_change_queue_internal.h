// Internals shared by the two halves of SqliteChangeQueue (sqlite_change_queue.cc:
// recording and sessions; sqlite_change_queue_file.cc: opening, inspecting, deleting).
// Not part of the API.
#ifndef ASP_STORAGE_SQLITE_CHANGE_QUEUE_INTERNAL_H_
#define ASP_STORAGE_SQLITE_CHANGE_QUEUE_INTERNAL_H_

#include "absl/strings/str_cat.h"
#include "asp/storage/sqlite_change_queue.h"

namespace asp {
namespace queue_internal {

// op column values: the wire's net operations.
inline constexpr int64_t kUpsert = 1;
inline constexpr int64_t kDelete = 2;

inline constexpr char kSchema[] = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE change (
  row     INTEGER PRIMARY KEY,           -- first-recorded order
  id      TEXT    NOT NULL,
  idx     TEXT    NOT NULL,
  op      INTEGER NOT NULL CHECK (op IN (1, 2)),
  data    BLOB    NOT NULL,
  version INTEGER NOT NULL,
  is_new  INTEGER NOT NULL,              -- created since the last confirmed sync, never sent
  seq     INTEGER                        -- NULL: pending; else in flight with this seq
);
CREATE INDEX change_by_id ON change(id);
CREATE UNIQUE INDEX change_in_flight ON change(seq) WHERE seq IS NOT NULL;
PRAGMA user_version = 1;
COMMIT;
)sql";

// Failure, stop or crash: each in-flight change takes the newest content recorded for
// its id meanwhile, is pending again and no longer new (it may have been applied).
inline constexpr char kRecoverInFlight[] = R"sql(
UPDATE change AS f SET idx = p.idx, op = p.op, data = p.data, version = p.version
  FROM change AS p
  WHERE p.seq IS NULL AND f.id = p.id AND f.seq IS NOT NULL;
DELETE FROM change AS p
  WHERE p.seq IS NULL
    AND EXISTS (SELECT 1 FROM change AS f WHERE f.id = p.id AND f.seq IS NOT NULL);
UPDATE change SET seq = NULL, is_new = 0 WHERE seq IS NOT NULL;
)sql";

}  // namespace queue_internal

struct SqliteChangeQueue::Statements {
  sqlite::Statement begin, commit, rollback;
  sqlite::Statement find, insert, update, erase;
  sqlite::Statement in_flight_exists, in_flight_indices, read_in_flight, commit_session;
};

template <typename Body>
absl::Status SqliteChangeQueue::inTransaction(Body body) {
  if (db_ == nullptr || statements_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "queue database '", options_.path, "' is ", db_ == nullptr ? "closed" : "read-only"));
  }
  if (absl::Status s = statements_->begin.run(); !s.ok()) return s;
  absl::Status status = body();
  if (status.ok()) status = statements_->commit.run();
  // After a failed COMMIT SQLite may already have rolled back; that error is moot.
  if (!status.ok()) (void)statements_->rollback.run();
  return status;
}

}  // namespace asp

#endif  // ASP_STORAGE_SQLITE_CHANGE_QUEUE_INTERNAL_H_
