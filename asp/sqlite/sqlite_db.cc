#include "asp/sqlite/sqlite_db.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace asp::sqlite {

absl::StatusCode statusCodeFor(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_FULL:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::bindInt(int i, int64_t value) { sqlite3_bind_int64(stmt_, i, value); }

void Statement::bindText(int i, absl::string_view value) {
  sqlite3_bind_text(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
}

void Statement::bindBlob(int i, absl::string_view value) {
  // A zero-length blob, not NULL: the column is NOT NULL.
  sqlite3_bind_blob(stmt_, i, value.empty() ? "" : value.data(), static_cast<int>(value.size()),
                    SQLITE_STATIC);
}

absl::StatusOr<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  absl::Status status = db_->error(sqlite3_sql(stmt_), rc);
  sqlite3_reset(stmt_);
  return status;
}

absl::Status Statement::run() {
  absl::StatusOr<bool> row;
  do {
    row = step();
  } while (row.ok() && *row);
  reset();
  return row.status();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  // Bindings stay: every caller binds every parameter before each step, and keeping
  // them is cheaper than clearing (this is the recording hot path).
}

int64_t Statement::columnInt(int i) const { return sqlite3_column_int64(stmt_, i); }

bool Statement::columnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

std::string Statement::columnText(int i) const { return std::string(columnTextView(i)); }

std::string Statement::columnBlob(int i) const { return std::string(columnBlobView(i)); }

absl::string_view Statement::columnTextView(int i) const {
  const unsigned char* text = sqlite3_column_text(stmt_, i);
  const int bytes = sqlite3_column_bytes(stmt_, i);
  if (text == nullptr) return absl::string_view();
  return absl::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes));
}

absl::string_view Statement::columnBlobView(int i) const {
  const void* blob = sqlite3_column_blob(stmt_, i);
  const int bytes = sqlite3_column_bytes(stmt_, i);
  if (blob == nullptr) return absl::string_view();
  return absl::string_view(static_cast<const char*>(blob), static_cast<size_t>(bytes));
}

absl::StatusOr<std::unique_ptr<Db>> Db::open(const std::string& path, int flags,
                                             const std::string& vfs) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::Status(statusCodeFor(rc),
                        absl::StrCat("cannot open database '", path, "': ", message));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Db>(new Db(db, path));
}

Db::~Db() { sqlite3_close_v2(db_); }

absl::Status Db::exec(absl::string_view sql) {
  std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(sql, rc);
  return absl::OkStatus();
}

absl::StatusOr<Statement> Db::prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(sql, rc);
  return Statement(stmt, this);
}

absl::StatusOr<Statement> Db::firstRow(absl::string_view sql) {
  absl::StatusOr<Statement> stmt = prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->step();
  if (!row.ok()) return row.status();
  if (!*row)
    return absl::InternalError(absl::StrCat("'", sql, "' returned no row on '", path_, "'"));
  return stmt;
}

absl::StatusOr<int64_t> Db::queryInt(absl::string_view sql) {
  absl::StatusOr<Statement> stmt = firstRow(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->columnInt(0);
}

absl::StatusOr<std::string> Db::queryText(absl::string_view sql) {
  absl::StatusOr<Statement> stmt = firstRow(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->columnText(0);
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }

absl::Status Db::error(absl::string_view action, int rc) const {
  return absl::Status(statusCodeFor(rc),
                      absl::StrCat("database '", path_, "': ", action, ": ", sqlite3_errmsg(db_),
                                   " (sqlite code ", rc, ")"));
}

}  // namespace asp::sqlite
