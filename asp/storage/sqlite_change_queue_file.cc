// SqliteChangeQueue, the file side: opening (schema, version checks, crash recovery),
// inspection and deletion. Recording and sessions are in sqlite_change_queue.cc.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/storage/sqlite_change_queue_internal.h"

namespace asp {

using queue_internal::kDelete;
using queue_internal::kRecoverInFlight;
using queue_internal::kSchema;

namespace {

absl::Status removeFile(const std::string& path) {
  if (std::remove(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("cannot delete '", path, "': ", std::strerror(errno)));
}

}  // namespace

SqliteChangeQueue::SqliteChangeQueue(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> SqliteChangeQueue::open(Options options) {
  if (options.path.empty()) return absl::InvalidArgumentError("queue database path is empty");
  if (options.limits.frame_budget_bytes > wire::kMaxDatagramBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame budget ", options.limits.frame_budget_bytes,
                     " bytes exceeds the datagram limit of ", wire::kMaxDatagramBytes));
  }
  std::unique_ptr<SqliteChangeQueue> queue(new SqliteChangeQueue(std::move(options)));
  {
    std::lock_guard<std::mutex> lock(queue->db_mu_);
    if (absl::Status s = queue->openFile(); !s.ok()) return s;
  }
  if (queue->options_.asynchronous) {
    SqliteChangeQueue* q = queue.get();
    queue->async_ = std::make_unique<AsyncCommitter>(
        [q](const std::vector<absl::Span<const Change>>& parts) {
          bool given = false;
          return q->applyInTransaction([&](std::vector<absl::Span<const Change>>* out) {
            if (given) return false;
            *out = parts;
            return given = true;
          });
        },
        queue->options_.async);
  }
  return queue;
}

SqliteChangeQueue::~SqliteChangeQueue() {
  async_.reset();  // drains the buffer
  std::lock_guard<std::mutex> lock(db_mu_);
  (void)closeFile();
}

absl::Status SqliteChangeQueue::openFile() {
  const std::string& path = options_.path;
  const int mode = options_.read_only ? SQLITE_OPEN_READONLY
                                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  absl::StatusOr<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::open(path, mode | SQLITE_OPEN_NOMUTEX, options_.vfs);
  if (!db.ok()) return db.status();
  if (!options_.read_only && sqlite3_db_readonly((*db)->handle(), "main") == 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", path, "' can only be opened read-only"));
  }
  if (absl::Status s = (*db)->exec("PRAGMA busy_timeout = 5000"); !s.ok()) return s;
  absl::StatusOr<int64_t> version = (*db)->queryInt("PRAGMA user_version");
  if (!version.ok()) {
    return absl::Status(version.status().code(),
                        absl::StrCat("queue database '", path,
                                     "' is unreadable or not a database (left untouched): ",
                                     version.status().message()));
  }
  if (*version > kSchemaVersion || *version < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "queue database '", path, "' has schema version ", *version,
        "; this build understands version ", kSchemaVersion, " (file left untouched)"));
  }
  if (options_.read_only) {
    if (*version != kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", path, "' is not an ASP change queue (schema version ", *version, ")"));
    }
    db_ = *std::move(db);
    return absl::OkStatus();
  }
  if (*version == 0) {
    absl::StatusOr<int64_t> objects = (*db)->queryInt("SELECT count(*) FROM sqlite_master");
    if (!objects.ok()) return objects.status();
    if (*objects > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", path, "' is an SQLite database but not an ASP change queue ",
                       "(no schema version; file left untouched)"));
    }
  }
  const bool in_memory = path == kInMemoryPath;
  absl::StatusOr<std::string> journal = (*db)->queryText("PRAGMA journal_mode = WAL");
  if (!journal.ok()) return journal.status();
  if (*journal != "wal" && !in_memory) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", path, "' cannot use WAL mode (got '", *journal, "')"));
  }
  const char* synchronous = options_.durability == Durability::kPowerLoss
                                ? "PRAGMA synchronous = FULL"
                                : "PRAGMA synchronous = NORMAL";
  if (absl::Status s = (*db)->exec(synchronous); !s.ok()) return s;
  if (*version == 0) {
    if (absl::Status s = (*db)->exec(kSchema); !s.ok()) return s;
  }

  auto statements = std::make_unique<Statements>();
  const std::pair<sqlite::Statement*, const char*> sql[] = {
      {&statements->begin, "BEGIN IMMEDIATE"},
      {&statements->commit, "COMMIT"},
      {&statements->rollback, "ROLLBACK"},
      {&statements->find, "SELECT row, op, is_new, seq IS NOT NULL FROM change WHERE id = ?1"},
      {&statements->insert,
       "INSERT INTO change (id, idx, op, data, version, is_new) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&statements->update,
       "UPDATE change SET idx = ?2, op = ?3, data = ?4, version = ?5, is_new = ?6 WHERE row = ?1"},
      {&statements->erase, "DELETE FROM change WHERE row = ?1"},
      {&statements->in_flight_exists,
       "SELECT EXISTS (SELECT 1 FROM change WHERE seq IS NOT NULL)"},
      {&statements->in_flight_indices,
       "SELECT DISTINCT idx FROM change WHERE seq IS NOT NULL ORDER BY idx"},
      {&statements->read_in_flight,
       "SELECT seq, id, idx, op, data, version FROM change WHERE seq BETWEEN ?1 AND ?2 "
       "ORDER BY seq"},
      {&statements->commit_session, "DELETE FROM change WHERE seq IS NOT NULL"},
  };
  for (const auto& [statement, text] : sql) {
    absl::StatusOr<sqlite::Statement> prepared = (*db)->prepare(text);
    if (!prepared.ok()) return prepared.status();
    *statement = *std::move(prepared);
  }
  db_ = *std::move(db);
  statements_ = std::move(statements);
  return inTransaction([this] { return db_->exec(kRecoverInFlight); });
}

absl::Status SqliteChangeQueue::closeFile() {
  statements_.reset();
  db_.reset();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IndexCounts>> SqliteChangeQueue::counts() {
  if (absl::Status s = flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) return absl::FailedPreconditionError("queue database is closed");
  absl::StatusOr<sqlite::Statement> query = db_->prepare(
      "SELECT idx, sum(seq IS NULL), sum(seq IS NOT NULL) FROM change GROUP BY idx ORDER BY idx");
  if (!query.ok()) return query.status();
  std::vector<IndexCounts> counts;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    counts.push_back(IndexCounts{query->columnText(0), static_cast<uint64_t>(query->columnInt(1)),
                                 static_cast<uint64_t>(query->columnInt(2))});
  }
  if (!row.ok()) return row.status();
  return counts;
}

absl::Status SqliteChangeQueue::forEachChange(
    const std::string& index, const std::function<void(const StoredChange&)>& visit) {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) return absl::FailedPreconditionError("queue database is closed");
  absl::StatusOr<sqlite::Statement> query = db_->prepare(
      "SELECT id, idx, op, data, version, is_new, seq FROM change "
      "WHERE ?1 = '' OR idx = ?1 ORDER BY row");
  if (!query.ok()) return query.status();
  query->bindText(1, index);
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    StoredChange change;
    change.id = query->columnText(0);
    change.index = query->columnText(1);
    change.is_delete = query->columnInt(2) == kDelete;
    change.data = query->columnBlob(3);
    change.version = static_cast<uint64_t>(query->columnInt(4));
    change.is_new = query->columnInt(5) != 0;
    change.in_flight = !query->columnIsNull(6);
    change.seq = change.in_flight ? static_cast<uint64_t>(query->columnInt(6)) : 0;
    visit(change);
  }
  return row.status();
}

absl::Status SqliteChangeQueue::deleteDatabase() {
  if (options_.read_only) return absl::FailedPreconditionError("queue opened read-only");
  if (absl::Status s = flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(db_mu_);
  (void)closeFile();
  if (options_.path != kInMemoryPath) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      if (absl::Status s = removeFile(options_.path + suffix); !s.ok()) return s;
    }
  }
  return openFile();
}

}  // namespace asp
