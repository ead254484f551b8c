// Internals shared by SqliteChangeQueue's pending reads and context documents
// (sqlite_change_queue_pending.cc, sqlite_change_queue_context.cc). Not part of the API.
#ifndef ASP_STORAGE_SQLITE_CHANGE_QUEUE_ROWS_H_
#define ASP_STORAGE_SQLITE_CHANGE_QUEUE_ROWS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "asp/sqlite/sqlite_db.h"

namespace asp {
namespace queue_internal {

// Steps `read` (a query with LIMIT room + 1), calling `take` for each of the first `room`
// rows; *more when a further row exists.
template <typename Take>
absl::Status stepPage(sqlite::Statement& read, size_t room, bool* more, Take take) {
  *more = false;
  absl::StatusOr<bool> row;
  for (size_t taken = 0; (row = read.step()).ok() && *row; ++taken) {
    if (taken == room) {
      *more = true;
      break;
    }
    take(read);
  }
  return row.status();
}

}  // namespace queue_internal
}  // namespace asp

#endif  // ASP_STORAGE_SQLITE_CHANGE_QUEUE_ROWS_H_
