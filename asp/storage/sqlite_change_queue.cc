#include "asp/storage/sqlite_change_queue.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace asp {
namespace {

// op column values: the wire's net operations.
constexpr int64_t kUpsert = 1;
constexpr int64_t kDelete = 2;

// A group commit takes at most this many changes from the writers waiting.
constexpr size_t kMaxGroupChanges = 8192;

constexpr char kSchema[] = R"sql(
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
constexpr char kRecoverInFlight[] = R"sql(
UPDATE change AS f SET idx = p.idx, op = p.op, data = p.data, version = p.version
  FROM change AS p
  WHERE p.seq IS NULL AND f.id = p.id AND f.seq IS NOT NULL;
DELETE FROM change AS p
  WHERE p.seq IS NULL
    AND EXISTS (SELECT 1 FROM change AS f WHERE f.id = p.id AND f.seq IS NOT NULL);
UPDATE change SET seq = NULL, is_new = 0 WHERE seq IS NOT NULL;
)sql";

absl::Status removeFile(const std::string& path) {
  if (std::remove(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("cannot delete '", path, "': ", std::strerror(errno)));
}

}  // namespace

struct SqliteChangeQueue::Statements {
  sqlite::Statement begin, commit, rollback;
  sqlite::Statement find, insert, update, erase;
  sqlite::Statement in_flight_exists, in_flight_indices, read_in_flight, commit_session;
};

struct SqliteChangeQueue::Writer {
  absl::Span<const Change> changes;
  absl::Status status;
  bool done = false;
};

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

absl::Status SqliteChangeQueue::validateAll(absl::Span<const Change> changes) const {
  for (const Change& change : changes) {
    if (absl::Status s = validateChange(change, options_.limits); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SqliteChangeQueue::record(const Change& change) {
  return recordBatch(absl::MakeConstSpan(&change, 1));
}

absl::Status SqliteChangeQueue::recordBatch(absl::Span<const Change> changes) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", options_.path, "' is opened read-only"));
  }
  if (changes.empty()) return absl::OkStatus();
  if (absl::Status s = validateAll(changes); !s.ok()) return s;
  if (async_ != nullptr) return async_->add(std::vector<Change>(changes.begin(), changes.end()));
  return commitShared(changes);
}

absl::Status SqliteChangeQueue::flush() {
  return async_ != nullptr ? async_->flush() : absl::OkStatus();
}

absl::Status SqliteChangeQueue::commitShared(absl::Span<const Change> changes) {
  Writer self{changes, absl::OkStatus(), false};
  std::unique_lock<std::mutex> lock(writers_mu_);
  writers_.push_back(&self);
  writers_cv_.wait(lock, [&] { return self.done || writers_.front() == &self; });
  if (self.done) return self.status;

  // Leader: commit for everyone queued behind us, in their order, and for those who
  // queue up while our transaction is still open.
  size_t group = 0, total = 0;
  auto join = [&](std::vector<absl::Span<const Change>>* parts) {
    std::lock_guard<std::mutex> guard(writers_mu_);
    const size_t before = group;
    for (size_t i = group; i < writers_.size(); ++i) {
      const absl::Span<const Change> more = writers_[i]->changes;
      if (group > 0 && total + more.size() > kMaxGroupChanges) break;
      parts->push_back(more);
      total += more.size();
      ++group;
    }
    return group > before;
  };
  lock.unlock();
  const absl::Status status = applyInTransaction(join);
  lock.lock();
  for (size_t i = 0; i < group; ++i) {
    Writer* writer = writers_.front();
    writers_.pop_front();
    writer->status = status;
    writer->done = true;
  }
  writers_cv_.notify_all();
  return status;
}

absl::Status SqliteChangeQueue::applyInTransaction(const NextParts& next) {
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([&]() -> absl::Status {
    std::vector<absl::Span<const Change>> parts;
    while (next(&parts)) {
      for (absl::Span<const Change> part : parts) {
        for (const Change& change : part) {
          if (absl::Status s = applyOne(change); !s.ok()) return s;
        }
      }
      parts.clear();
    }
    return absl::OkStatus();
  });
}

// The coalescing table of PROTOCOL.md §6. `pending` is the row a session would send
// next; `in_flight` the copy a running session is sending (left unchanged).
absl::Status SqliteChangeQueue::applyOne(const Change& change) {
  struct Row {
    bool present = false;
    int64_t row = 0;
    bool is_delete = false;
    bool is_new = false;
  } pending, in_flight;
  sqlite::Statement& find = statements_->find;
  find.bindText(1, change.id);
  while (true) {
    absl::StatusOr<bool> has_row = find.step();
    if (!has_row.ok()) {
      find.reset();
      return has_row.status();
    }
    if (!*has_row) break;
    Row& row = find.columnInt(3) != 0 ? in_flight : pending;
    row = Row{true, find.columnInt(0), find.columnInt(1) == kDelete, find.columnInt(2) != 0};
  }
  find.reset();

  const bool is_delete = change.operation == Operation::kDelete;
  bool is_new = false;
  sqlite::Statement* write = nullptr;
  if (!pending.present) {
    // Nothing queued. A create is new unless a copy in flight may reach the manager.
    is_new = change.operation == Operation::kCreate && (!in_flight.present || in_flight.is_delete);
    write = &statements_->insert;
  } else if (is_delete && !pending.is_delete && pending.is_new) {
    // Created and deleted before the manager could see it: nothing to send.
    statements_->erase.bindInt(1, pending.row);
    return statements_->erase.run();
  } else {
    is_new = !is_delete && !pending.is_delete && pending.is_new;
    write = &statements_->update;
  }
  if (write == &statements_->insert) {
    write->bindText(1, change.id);
  } else {
    write->bindInt(1, pending.row);
  }
  write->bindText(2, change.index);
  write->bindInt(3, is_delete ? kDelete : kUpsert);
  write->bindBlob(4, change.data);
  write->bindInt(5, static_cast<int64_t>(change.version));
  write->bindInt(6, is_new ? 1 : 0);
  return write->run();
}

absl::StatusOr<SessionInfo> SqliteChangeQueue::beginSession(
    absl::Span<const std::string> only_indices) {
  if (absl::Status s = flush(); !s.ok()) return s;
  std::string filter;
  if (!only_indices.empty()) {
    filter = absl::StrCat(" AND idx IN (",
                          absl::StrJoin(std::vector<std::string>(only_indices.size(), "?"), ", "),
                          ")");
  }
  const std::string mark = absl::StrCat(
      "UPDATE change SET seq = n.rn - 1 FROM (SELECT row AS r, row_number() OVER "
      "(ORDER BY row) AS rn FROM change WHERE seq IS NULL",
      filter, ") AS n WHERE change.row = n.r");
  SessionInfo info;
  std::lock_guard<std::mutex> lock(db_mu_);
  absl::Status status = inTransaction([&]() -> absl::Status {
    absl::StatusOr<bool> row = statements_->in_flight_exists.step();
    const bool busy = row.ok() && statements_->in_flight_exists.columnInt(0) != 0;
    statements_->in_flight_exists.reset();
    if (!row.ok()) return row.status();
    if (busy) {
      return absl::FailedPreconditionError(absl::StrCat(
          "queue database '", options_.path, "' already has a session in flight"));
    }
    absl::StatusOr<sqlite::Statement> update = db_->prepare(mark);
    if (!update.ok()) return update.status();
    for (size_t i = 0; i < only_indices.size(); ++i) {
      update->bindText(static_cast<int>(i + 1), only_indices[i]);
    }
    if (absl::Status s = update->run(); !s.ok()) return s;
    info.size = static_cast<uint64_t>(db_->changes());
    sqlite::Statement& indices = statements_->in_flight_indices;
    absl::StatusOr<bool> next;
    while ((next = indices.step()).ok() && *next) info.indices.push_back(indices.columnText(0));
    indices.reset();
    return next.status();
  });
  if (!status.ok()) return status;
  return info;
}

absl::StatusOr<SessionPage> SqliteChangeQueue::readInFlight(uint64_t first_seq,
                                                            uint64_t last_seq,
                                                            size_t max_bytes) {
  SessionPage page;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (statements_ == nullptr) return absl::FailedPreconditionError("queue database is not writable");
  sqlite::Statement& read = statements_->read_in_flight;
  read.bindInt(1, static_cast<int64_t>(first_seq));
  read.bindInt(2, static_cast<int64_t>(std::min<uint64_t>(last_seq, INT64_MAX)));
  absl::StatusOr<bool> row;
  while (page.data_bytes < max_bytes && (row = read.step()).ok() && *row) {
    SessionChange change;
    change.seq = static_cast<uint64_t>(read.columnInt(0));
    change.id = read.columnText(1);
    change.index = read.columnText(2);
    change.is_delete = read.columnInt(3) == kDelete;
    change.data = read.columnBlob(4);
    change.version = static_cast<uint64_t>(read.columnInt(5));
    page.data_bytes += change.id.size() + change.index.size() + change.data.size();
    page.changes.push_back(std::move(change));
  }
  read.reset();
  if (!row.ok()) return row.status();
  return page;
}

absl::Status SqliteChangeQueue::commitSession() {
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([this] { return statements_->commit_session.run(); });
}

absl::Status SqliteChangeQueue::abortSession() {
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([this] { return db_->exec(kRecoverInFlight); });
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
