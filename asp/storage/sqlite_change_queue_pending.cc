// SqliteChangeQueue, reading what is pending without a session (docs/protocol.md §6):
// the changes in first-recorded order, then (on request) the context documents, paged by
// an opaque cursor. Nothing is written, so it also works on a queue opened read-only.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/storage/sqlite_change_queue_internal.h"
#include "asp/storage/sqlite_change_queue_rows.h"

namespace asp {

using namespace queue_internal;  // NOLINT(build/namespaces): ReadColumn, stepPage

namespace {

// The cursor is the last row returned: a change's row below kContextCursorBase, a
// context document's row above it (rows are numbered from 1, far below 2^62).
constexpr uint64_t kContextCursorBase = uint64_t{1} << 62;
constexpr uint64_t kCursorLimit = kContextCursorBase << 1;

// The changes after row ?1, at most ?2 of them: ReadColumn's columns, is_new in crc's place.
constexpr int kPendingIsNew = kReadCrc;
// Rows a confirmed session has left behind (at or below confirmed_hi) are not pending.
std::string readChangesAfterSql() {
  return absl::StrCat("SELECT row, id, idx, op, data, version, is_new FROM change WHERE ",
                      liveRow("row", "?1"), " ORDER BY row LIMIT ?2");
}

absl::Status checkQuery(const PendingQuery& query) {
  if (query.max_items == 0 || query.max_items > kMaxPendingItems) {
    return absl::InvalidArgumentError(absl::StrCat("readPending: max_items ", query.max_items,
                                                   " is not within 1..", kMaxPendingItems));
  }
  if (query.after >= kCursorLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "readPending: cursor ", query.after, " was not returned by readPending (start from 0)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PendingPage> SqliteChangeQueue::readPending(const PendingQuery& query) {
  if (absl::Status s = checkQuery(query); !s.ok()) return s;
  if (absl::Status s = flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) return absl::FailedPreconditionError("queue database is closed");
  PendingPage page;
  page.next_after = query.after;
  bool more = false;
  if (query.after < kContextCursorBase) {
    int64_t last_row = static_cast<int64_t>(query.after);
    absl::Status read = readChangesAfter(last_row, query.max_items, &page.items, &last_row, &more);
    if (!read.ok()) return read;
    page.next_after = static_cast<uint64_t>(last_row);
    // The changes are done: the context documents follow, from the first.
    if (!more && query.with_context) page.next_after = kContextCursorBase;
  }
  if (!more && query.with_context) {
    // With the page full already this reads one document, only to tell whether any follows.
    int64_t last_row = static_cast<int64_t>(page.next_after - kContextCursorBase);
    absl::Status read = readContextsAfter(last_row, query.max_items - page.items.size(),
                                          &page.items, &last_row, &more);
    if (!read.ok()) return read;
    page.next_after = kContextCursorBase + static_cast<uint64_t>(last_row);
  }
  page.done = !more;
  return page;
}

absl::Status SqliteChangeQueue::readChangesAfter(int64_t after_row, size_t room,
                                                 std::vector<PendingItem>* items, int64_t* last_row,
                                                 bool* more) {
  absl::StatusOr<sqlite::Statement> read = db_->prepare(readChangesAfterSql());
  if (!read.ok()) return read.status();
  read->bindInt(1, after_row);
  read->bindInt(2, static_cast<int64_t>(room) + 1);
  return stepPage(*read, room, more, [&](const sqlite::Statement& row) {
    const int64_t number = row.columnInt(kReadRow);
    PendingItem item;
    item.id = row.columnText(kReadId);
    item.index = row.columnText(kReadIndex);
    const bool is_delete = row.columnInt(kReadOp) == kDelete;
    const bool is_new = stillNew(number, row.columnInt(kPendingIsNew) != 0);
    item.operation = is_delete ? Operation::kDelete
                     : is_new  ? Operation::kCreate
                               : Operation::kModify;
    item.data = row.columnBlob(kReadData);
    item.version = static_cast<uint64_t>(row.columnInt(kReadVersion));
    item.in_flight = inFlight(number, item.index);
    items->push_back(std::move(item));
    *last_row = number;
  });
}

}  // namespace asp
