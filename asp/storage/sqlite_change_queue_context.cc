// SqliteChangeQueue, context documents (docs/protocol.md §7, docs/storage.md): a table of
// their own, keyed by (index, id), that no session commits or aborts. A DELTA with a VD
// option sends them after its values; the module drops them with clearContexts().
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/base/text.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/storage/sqlite_change_queue_internal.h"
#include "asp/storage/sqlite_change_queue_rows.h"

namespace asp {

using namespace queue_internal;  // NOLINT(build/namespaces): ReadColumn, stepPage

namespace {

// Created at open in files of any schema version (it is only ever added, never changed,
// and a build that does not know it leaves it alone), so it needs no version of its own.
// `row` is the order each document was first stored: a replacement keeps it.
constexpr char kCreateContextSql[] = R"sql(
CREATE TABLE IF NOT EXISTS context (
  row     INTEGER PRIMARY KEY,
  id      TEXT    NOT NULL,
  idx     TEXT    NOT NULL,
  op      INTEGER NOT NULL,  -- Operation as recorded (0 create, 1 modify, 2 delete)
  data    BLOB    NOT NULL,
  version INTEGER NOT NULL,
  crc     INTEGER NOT NULL,  -- changeCrc(id, idx, op, data, version), checked when sent
  UNIQUE (idx, id)
)
)sql";

// Stores or replaces one document: ?1 id, ?2 idx, ?3 op, ?4 data, ?5 version, ?6 crc.
constexpr char kUpsertContextSql[] =
    "INSERT INTO context (id, idx, op, data, version, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (idx, id) DO UPDATE SET op = excluded.op, data = excluded.data, "
    "version = excluded.version, crc = excluded.crc";

constexpr char kClearContextsSql[] = "DELETE FROM context";

// What a session's documents weigh: the last row, the count, id + index + data bytes.
constexpr char kContextSetSql[] =
    "SELECT coalesce(max(row), 0), count(*), coalesce(sum(length(CAST(id AS BLOB)) + "
    "length(CAST(idx AS BLOB)) + length(data)), 0) FROM context";

// The documents up to row ?1, from rank ?2 on (a few: OFFSET is fine at that size); the
// columns are ReadColumn's, as for changes.
constexpr char kReadContextsByRankSql[] =
    "SELECT row, id, idx, op, data, version, crc FROM context WHERE row <= ?1 ORDER BY row "
    "LIMIT -1 OFFSET ?2";
// The documents after row ?1, at most ?2 of them.
constexpr char kReadContextsAfterSql[] =
    "SELECT row, id, idx, op, data, version, crc FROM context WHERE row > ?1 ORDER BY row "
    "LIMIT ?2";

constexpr char kHasContextTableSql[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'context'";

Change contextOf(const sqlite::Statement& row) {
  return Change{row.columnText(kReadId), row.columnText(kReadIndex),
                static_cast<Operation>(row.columnInt(kReadOp)), row.columnBlob(kReadData),
                static_cast<uint64_t>(row.columnInt(kReadVersion))};
}

uint32_t crcOf(const Change& document) {
  return changeCrc(document.id, document.index, static_cast<int64_t>(document.operation),
                   document.data, document.version);
}

}  // namespace

absl::Status SqliteChangeQueue::createContextTable(sqlite::Db& db) {
  return db.exec(kCreateContextSql);
}

absl::Status SqliteChangeQueue::recordContext(const Change& document) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", options_.path, "' is opened read-only"));
  }
  if (absl::Status s = validateChange(document, options_.limits); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("context document: ", s.message()));
  }
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([&]() -> absl::Status {
    absl::StatusOr<sqlite::Statement> upsert = db_->prepare(kUpsertContextSql);
    if (!upsert.ok()) return upsert.status();
    upsert->bindText(1, document.id);
    upsert->bindText(2, document.index);
    upsert->bindInt(3, static_cast<int64_t>(document.operation));
    upsert->bindBlob(4, document.data);
    upsert->bindInt(5, static_cast<int64_t>(document.version));
    upsert->bindInt(6, crcOf(document));
    return upsert->run();
  });
}

absl::Status SqliteChangeQueue::clearContexts() {
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", options_.path, "' is opened read-only"));
  }
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([&] { return db_->exec(kClearContextsSql); });
}

absl::StatusOr<SqliteChangeQueue::ContextSet> SqliteChangeQueue::contextSet() {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) return absl::FailedPreconditionError("queue database is closed");
  absl::StatusOr<sqlite::Statement> query = db_->prepare(kContextSetSql);
  if (!query.ok()) return query.status();
  absl::StatusOr<bool> row = query->step();
  if (!row.ok()) return row.status();
  ContextSet set;
  set.last_row = query->columnInt(0);
  set.count = static_cast<uint64_t>(query->columnInt(1));
  set.bytes = static_cast<uint64_t>(query->columnInt(2));
  return set;
}

absl::StatusOr<SessionPage> SqliteChangeQueue::readContexts(const ContextSet& set, uint64_t first,
                                                            uint64_t last, size_t max_bytes) {
  SessionPage page;
  if (first >= set.count || first > last) return page;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) return absl::FailedPreconditionError("queue database is closed");
  absl::StatusOr<sqlite::Statement> read = db_->prepare(kReadContextsByRankSql);
  if (!read.ok()) return read.status();
  read->bindInt(1, set.last_row);
  read->bindInt(2, static_cast<int64_t>(first));
  absl::StatusOr<bool> row;
  for (uint64_t rank = first; rank <= last && page.data_bytes < max_bytes; ++rank) {
    if (row = read->step(); !row.ok() || !*row) break;
    Change document = contextOf(*read);
    if (static_cast<int64_t>(crcOf(document)) != read->columnInt(kReadCrc)) {
      return absl::DataLossError(absl::StrCat(
          "queue database '", options_.path, "': context document id ", quoteValue(document.id),
          " in index ", quoteValue(document.index), " is damaged on disk (checksum mismatch); ",
          "record it again or call clearContexts()"));
    }
    SessionChange change;
    change.seq = rank;
    change.id = std::move(document.id);
    change.index = std::move(document.index);
    change.data = std::move(document.data);
    change.version = document.version;
    page.data_bytes += change.id.size() + change.index.size() + change.data.size();
    page.changes.push_back(std::move(change));
  }
  if (!row.ok()) return row.status();
  return page;
}

absl::Status SqliteChangeQueue::readContextsAfter(int64_t after_row, size_t room,
                                                  std::vector<PendingItem>* items,
                                                  int64_t* last_row, bool* more) {
  // A file opened for inspection may predate the table (nothing creates it read-only).
  absl::StatusOr<int64_t> has_table = db_->queryInt(kHasContextTableSql);
  if (!has_table.ok()) return has_table.status();
  *more = false;
  if (*has_table == 0) return absl::OkStatus();
  absl::StatusOr<sqlite::Statement> read = db_->prepare(kReadContextsAfterSql);
  if (!read.ok()) return read.status();
  read->bindInt(1, after_row);
  read->bindInt(2, static_cast<int64_t>(room) + 1);
  return stepPage(*read, room, more, [&](const sqlite::Statement& row) {
    Change document = contextOf(row);
    items->push_back(PendingItem{std::move(document.id), std::move(document.index),
                                 document.operation, std::move(document.data), document.version,
                                 /*is_context=*/true, /*in_flight=*/false});
    *last_row = row.columnInt(kReadRow);
  });
}

}  // namespace asp
