// Thin RAII wrappers over the SQLite C API that turn result codes into absl::Status
// messages naming the database file, the action and SQLite's own explanation.
//
// Not thread-safe: the owner serializes access (SqliteChangeQueue holds a mutex).
// Statement binds do not copy (SQLITE_STATIC): a bound value must outlive the step
// that uses it. reset() keeps the bindings; callers bind every parameter each time.
#ifndef ASP_SQLITE_SQLITE_DB_H_
#define ASP_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asp::sqlite {

// Maps an SQLite result code to a status code: FULL -> ResourceExhausted,
// CORRUPT/NOTADB -> DataLoss, CANTOPEN/PERM/READONLY/AUTH -> FailedPrecondition,
// BUSY/LOCKED/IOERR -> Unavailable, anything else -> Internal.
absl::StatusCode statusCodeFor(int sqlite_code);

class Db;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1, as in SQLite.
  void bindInt(int i, int64_t value);
  void bindText(int i, absl::string_view value);
  void bindBlob(int i, absl::string_view value);

  // Advances: true when a row is available, false when done.
  absl::StatusOr<bool> step();
  // Steps to completion, ignoring rows, then resets.
  absl::Status run();
  // Resets the statement for another step (bindings are kept).
  void reset();

  int64_t columnInt(int i) const;
  bool columnIsNull(int i) const;
  std::string columnText(int i) const;
  std::string columnBlob(int i) const;
  // The same bytes without a copy: valid until the next step() or reset() (read each
  // column through one accessor only: SQLite may convert it for another).
  absl::string_view columnTextView(int i) const;
  absl::string_view columnBlobView(int i) const;

 private:
  friend class Db;
  Statement(sqlite3_stmt* stmt, Db* db) : stmt_(stmt), db_(db) {}

  sqlite3_stmt* stmt_ = nullptr;
  Db* db_ = nullptr;
};

class Db {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` through the VFS named `vfs` (empty: the
  // default). The error names the file.
  static absl::StatusOr<std::unique_ptr<Db>> open(const std::string& path, int flags,
                                                  const std::string& vfs = "");
  ~Db();

  absl::Status exec(absl::string_view sql);
  absl::StatusOr<Statement> prepare(absl::string_view sql);
  // Runs a query that returns one integer (e.g. a PRAGMA or count).
  absl::StatusOr<int64_t> queryInt(absl::string_view sql);
  absl::StatusOr<std::string> queryText(absl::string_view sql);

  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t changes() const;

  // A status for a failed `action`, with the file name and SQLite's message.
  absl::Status error(absl::string_view action, int rc) const;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  // Prepares `sql` and steps to its first row; an error if it returns none.
  absl::StatusOr<Statement> firstRow(absl::string_view sql);

  sqlite3* db_;
  std::string path_;
};

}  // namespace asp::sqlite

#endif  // ASP_SQLITE_SQLITE_DB_H_
