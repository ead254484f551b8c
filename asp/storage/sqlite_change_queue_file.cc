// SqliteChangeQueue, the file side: opening (schema, version checks, crash recovery),
// inspection and deletion. Recording and sessions are in sqlite_change_queue.cc.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/storage/id_filter.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/storage/sqlite_change_queue_internal.h"

namespace asp {

using queue_internal::kConfirmedHiSql;
using queue_internal::kDelete;
using queue_internal::kIdFilterBits;
using queue_internal::kIdFilterRebuildRows;
using queue_internal::kNoSession;
using queue_internal::kSchema;
using queue_internal::liveRow;

namespace {

// Brings a file of an older schema to kSchemaVersion, one version at a time, each step
// in its own transaction (a crash between steps leaves a file the next open continues).
absl::Status migrate(sqlite::Db& db, int64_t version) {
  if (version == 1) {
    if (absl::Status s = db.exec(queue_internal::kMigrateFrom1); !s.ok()) {
      (void)db.exec("ROLLBACK");
      return absl::Status(s.code(), absl::StrCat("upgrading schema 1 to 2: ", s.message()));
    }
    version = 2;
  }
  if (version == 2) {
    absl::Status s = queue_internal::registerCrcFunction(db);
    if (s.ok()) s = db.exec(queue_internal::kMigrateFrom2);
    if (!s.ok()) {
      (void)db.exec("ROLLBACK");
      return absl::Status(s.code(), absl::StrCat("upgrading schema 2 to 3: ", s.message()));
    }
    version = 3;
  }
  if (version == 3) {
    if (absl::Status s = db.exec(queue_internal::kMigrateFrom3); !s.ok()) {
      (void)db.exec("ROLLBACK");
      return absl::Status(s.code(), absl::StrCat("upgrading schema 3 to 4: ", s.message()));
    }
  }
  return absl::OkStatus();
}

// Why opening `path` failed, in terms a person can act on: SQLite's own words ("unable
// to open", "disk I/O error") say nothing of a read-only directory or a full disk.
absl::Status explainOpenFailure(const std::string& path, const absl::Status& failure) {
  const std::string dir =
      path.find('/') == std::string::npos
          ? std::string(".")
          : (path.rfind('/') == 0 ? std::string("/") : path.substr(0, path.rfind('/')));
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path, "' is a directory, not a queue file"));
  }
  if (access(path.c_str(), F_OK) == 0 && access(path.c_str(), R_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read queue database '", path, "': ", std::strerror(errno)));
  }
  const std::string shm = path + "-shm";
  if (access(dir.c_str(), F_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("the directory '", dir, "' of queue database '", path, "' does not exist"));
  }
  if (access(dir.c_str(), W_OK) != 0 && access(shm.c_str(), F_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the directory '", dir, "' is not writable (", std::strerror(errno),
                     "): SQLite must ", "create '", shm,
                     "' beside the queue file to read it (WAL mode). Run as the queue's owner, ",
                     "or inspect a copy; the file itself was not touched"));
  }
  struct statvfs fs;
  constexpr uint64_t kRoomBytes = 1 << 20;
  if (statvfs(dir.c_str(), &fs) == 0 &&
      static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < kRoomBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the file system holding '", path, "' is full (",
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize, " bytes free): SQLite needs room for '",
        path, "-wal' and '", shm, "'; the file itself was not touched"));
  }
  return absl::Status(
      failure.code(),
      absl::StrCat("queue database '", path,
                   "' is unreadable or not a database (left untouched): ", failure.message()));
}

// Deletes `path` through the VFS the queue opens its files with (Options::vfs), like every
// other file operation of the queue; a file that does not exist is already deleted.
absl::Status removeFile(const std::string& vfs_name, const std::string& path) {
  sqlite3_vfs* vfs = sqlite3_vfs_find(vfs_name.empty() ? nullptr : vfs_name.c_str());
  if (vfs == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("no SQLite VFS named '", vfs_name, "'"));
  }
  errno = 0;
  const int rc = vfs->xDelete(vfs, path.c_str(), 0);
  if (rc == SQLITE_OK || rc == SQLITE_IOERR_DELETE_NOENT) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot delete '", path, "': ", errno != 0 ? std::strerror(errno) : sqlite3_errstr(rc)));
}

}  // namespace

namespace queue_internal {

absl::Status registerCrcFunction(sqlite::Db& db) {
  auto crc = [](sqlite3_context* context, int, sqlite3_value** values) {
    auto text = [&](int i) {
      return absl::string_view(static_cast<const char*>(sqlite3_value_blob(values[i])),
                               static_cast<size_t>(sqlite3_value_bytes(values[i])));
    };
    sqlite3_result_int64(context,
                         changeCrc(text(0), text(1), sqlite3_value_int64(values[2]), text(3),
                                   static_cast<uint64_t>(sqlite3_value_int64(values[4]))));
  };
  const int rc =
      sqlite3_create_function_v2(db.handle(), "asp_crc", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                 nullptr, crc, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : db.error("registering asp_crc()", rc);
}

}  // namespace queue_internal

const char* SqliteChangeQueue::schemaSql() { return kSchema; }

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
  GroupCommit::Options group;
  group.wait_for_writers = queue->options_.durability == Durability::kPowerLoss;
  group.clock = queue->options_.clock;
  SqliteChangeQueue* self = queue.get();
  queue->group_commit_ = std::make_unique<GroupCommit>(
      group, [self](const GroupCommit::NextParts& next) { return self->applyInTransaction(next); });
  if (queue->options_.asynchronous) {
    SqliteChangeQueue* q = queue.get();
    queue->async_ = std::make_unique<AsyncCommitter>(
        [q](const std::vector<absl::Span<const Change>>& parts) {
          bool given = false;
          return q->applyInTransaction([&](GroupCommit::Parts* out) {
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
  {
    // What the reclaimer was asked is done first: a closed file is left compact.
    std::lock_guard<std::mutex> lock(reclaim_mu_);
    reclaim_stop_ = true;
    reclaim_cv_.notify_all();
  }
  if (reclaimer_.joinable()) reclaimer_.join();
  std::lock_guard<std::mutex> lock(db_mu_);
  (void)closeFile();
}

std::vector<std::pair<sqlite::Statement SqliteChangeQueue::Statements::*, std::string>>
SqliteChangeQueue::Statements::all() {
  using S = Statements;
  const std::string live = liveRow();
  return {
      {&S::begin, "BEGIN IMMEDIATE"},
      {&S::commit, "COMMIT"},
      {&S::rollback, "ROLLBACK"},
      {&S::find, queue_internal::findSql()},
      {&S::insert, queue_internal::kInsertSql},
      {&S::update, queue_internal::kUpdateSql},
      {&S::erase, "DELETE FROM change WHERE row = ?1"},
      {&S::max_row, "SELECT coalesce(max(row), 0) FROM change"},
      // Every row, dead ones too (liveRows() subtracts them): fast without a WHERE.
      {&S::count_all, "SELECT count(*) FROM change"},
      {&S::read_after, queue_internal::readAfterSql()},
      {&S::row_sizes, queue_internal::rowSizesSql()},
      {&S::locate, absl::StrCat("SELECT row FROM change WHERE ", live,
                                " AND row <= ?1 ORDER BY row LIMIT 1 OFFSET ?2")},
      {&S::rows_after, "SELECT EXISTS (SELECT 1 FROM change WHERE row > ?1)"},
      {&S::delete_all, "DELETE FROM change"},
      {&S::merge_update, queue_internal::mergeUpdateSql()},
      {&S::merge_delete, queue_internal::mergeDeleteSql()},
      {&S::set_state, "INSERT OR REPLACE INTO queue_state VALUES (?1, ?2)"},
      {&S::add_index, "INSERT OR IGNORE INTO queue_index VALUES (?1)"},
      {&S::drop_index, "DELETE FROM queue_index WHERE idx = ?1"},
      {&S::clear_indices, "DELETE FROM queue_index"},
      // Streams each index the first time the scan meets it (no sort): the caller stops
      // as soon as it has seen every index it expects.
      {&S::distinct_indices, absl::StrCat("SELECT DISTINCT idx FROM change WHERE ", live)},
      {&S::quarantine, queue_internal::kQuarantineSql},
  };
}

// Opening, as named steps: the file, its version, the connection's settings, the schema
// (created or migrated), the statements, then what the queue keeps in memory.
absl::Status SqliteChangeQueue::openFile() {
  absl::StatusOr<std::unique_ptr<sqlite::Db>> db = openDatabase();
  if (!db.ok()) return db.status();
  absl::StatusOr<int64_t> version = checkVersion(**db);
  if (!version.ok()) return version.status();
  if (options_.read_only) {
    db_ = *std::move(db);
    return loadState();
  }
  if (absl::Status s = configureConnection(**db); !s.ok()) return s;
  if (absl::Status s = createOrMigrate(**db, *version); !s.ok()) return s;
  if (absl::Status s = createContextTable(**db); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Statements>> statements = prepareStatements(**db);
  if (!statements.ok()) return statements.status();
  db_ = *std::move(db);
  statements_ = *std::move(statements);
  if (absl::Status s = loadState(); !s.ok()) return s;
  if (absl::Status s = loadKnownIndices(); !s.ok()) return s;
  if (absl::Status s = recoverCrashedSession(); !s.ok()) return s;
  if (absl::Status s = loadIds(); !s.ok()) return s;
  reclaimSpace();  // a crash may have come between a commit and giving its space back
  // ... or between a commit and removing its rows.
  if (dead_rows_ > 0) requestReclaim(/*drain_ended=*/false);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<sqlite::Db>> SqliteChangeQueue::openDatabase() const {
  const std::string& path = options_.path;
  const int mode =
      options_.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  absl::StatusOr<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::open(path, mode | SQLITE_OPEN_NOMUTEX, options_.vfs);
  if (!db.ok()) {
    if (options_.read_only && access(path.c_str(), F_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("queue database '", path, "' does not exist"));
    }
    return explainOpenFailure(path, db.status());
  }
  if (!options_.read_only && sqlite3_db_readonly((*db)->handle(), "main") == 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", path, "' can only be opened read-only"));
  }
  if (absl::Status s = (*db)->exec(queue_internal::kBusyTimeoutSql); !s.ok()) return s;
  return db;
}

// The file's schema version: one this build understands, and a queue's (or an empty
// file, for a writer to create one in). Anything else is refused, the file untouched.
absl::StatusOr<int64_t> SqliteChangeQueue::checkVersion(sqlite::Db& db) const {
  const std::string& path = options_.path;
  absl::StatusOr<int64_t> version = db.queryInt("PRAGMA user_version");
  if (!version.ok()) return explainOpenFailure(path, version.status());
  if (*version > kSchemaVersion || *version < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "queue database '", path, "' has schema version ", *version,
        "; this build understands version ", kSchemaVersion, " (file left untouched)"));
  }
  if (*version >= 1) return version;
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path, "' is not an ASP change queue (schema version ", *version, ")"));
  }
  absl::StatusOr<int64_t> objects = db.queryInt("SELECT count(*) FROM sqlite_master");
  if (!objects.ok()) return objects.status();
  if (*objects > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path, "' is an SQLite database but not an ASP change queue ",
                     "(no schema version; file left untouched)"));
  }
  return version;
}

absl::Status SqliteChangeQueue::configureConnection(sqlite::Db& db) const {
  const std::string& path = options_.path;
  absl::StatusOr<std::string> journal = db.queryText("PRAGMA journal_mode = WAL");
  if (!journal.ok()) return journal.status();
  if (*journal != "wal" && path != kInMemoryPath) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", path, "' cannot use WAL mode (got '", *journal, "')"));
  }
  const char* synchronous = options_.durability == Durability::kPowerLoss
                                ? "PRAGMA synchronous = FULL"
                                : "PRAGMA synchronous = NORMAL";
  if (absl::Status s = db.exec(synchronous); !s.ok()) return s;
  // Freed pages need not be zeroed (Debian's default): the data a deleted change held is
  // what the module itself holds anyway, and zeroing doubles the cost of a commit.
  return db.exec("PRAGMA secure_delete = FAST");
}

absl::Status SqliteChangeQueue::createOrMigrate(sqlite::Db& db, int64_t version) const {
  if (version == 0) return db.exec(kSchema);
  if (absl::Status s = migrate(db, version); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("queue database '", options_.path, "': ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SqliteChangeQueue::Statements>> SqliteChangeQueue::prepareStatements(
    sqlite::Db& db) {
  auto statements = std::make_unique<Statements>();
  for (const auto& [member, text] : Statements::all()) {
    absl::StatusOr<sqlite::Statement> prepared = db.prepare(text);
    if (!prepared.ok()) return prepared.status();
    (*statements).*member = *std::move(prepared);
  }
  return statements;
}

// The indices queue_index lists: what beginSession() reports without scanning the table.
absl::Status SqliteChangeQueue::loadKnownIndices() {
  known_indices_.clear();
  absl::StatusOr<sqlite::Statement> known = db_->prepare("SELECT idx FROM queue_index");
  if (!known.ok()) return known.status();
  absl::StatusOr<bool> has_row;
  while ((has_row = known->step()).ok() && *has_row) known_indices_.insert(known->columnText(0));
  return has_row.status();
}

// A session left in flight by a crash: everything in it is pending again.
absl::Status SqliteChangeQueue::recoverCrashedSession() {
  if (!frozen_.active) return absl::OkStatus();
  return inTransaction([this] { return unfreeze(); });
}

// The id filter is complete when it holds every id in the table: at once for an empty
// table, after one pass over change_by_id for a table within the filter's designed
// load (0.1 s per 500,000 ids), else not until a commit empties the table.
absl::Status SqliteChangeQueue::loadIds() {
  ids_ = std::make_unique<IdFilter>(kIdFilterBits);
  ids_complete_ = false;
  absl::StatusOr<int64_t> rows = liveRows();
  if (!rows.ok()) return rows.status();
  if (*rows > kIdFilterRebuildRows) return absl::OkStatus();
  absl::StatusOr<sqlite::Statement> ids =
      db_->prepare(absl::StrCat("SELECT id FROM change WHERE ", liveRow()));
  if (!ids.ok()) return ids.status();
  absl::StatusOr<bool> row;
  while ((row = ids->step()).ok() && *row) ids_->add(ids->columnText(0));
  if (!row.ok()) return row.status();
  ids_complete_ = true;
  return absl::OkStatus();
}

absl::Status SqliteChangeQueue::loadState() {
  absl::StatusOr<int64_t> hi =
      db_->queryInt("SELECT value FROM queue_state WHERE key = 'frozen_hi'");
  if (!hi.ok()) return hi.status();
  absl::StatusOr<int64_t> watermark =
      db_->queryInt("SELECT value FROM queue_state WHERE key = 'sent_watermark'");
  if (!watermark.ok()) return watermark.status();
  // A file of an older version (opened for inspection) has neither: no row is dead.
  absl::StatusOr<int64_t> confirmed = db_->queryInt(absl::StrCat("SELECT ", kConfirmedHiSql));
  if (!confirmed.ok()) return confirmed.status();
  absl::StatusOr<int64_t> dead =
      db_->queryInt("SELECT coalesce((SELECT value FROM queue_state WHERE key = 'dead_rows'), 0)");
  if (!dead.ok()) return dead.status();
  absl::StatusOr<int64_t> last = db_->queryInt("SELECT coalesce(max(row), 0) FROM change");
  if (!last.ok()) return last.status();
  absl::StatusOr<int64_t> vacuum = db_->queryInt("PRAGMA auto_vacuum");
  if (!vacuum.ok()) return vacuum.status();
  frozen_ = Frozen{};
  frozen_.active = *hi != kNoSession;
  frozen_.hi = std::max<int64_t>(0, *hi);
  sent_watermark_ = *watermark;
  confirmed_hi_ = *confirmed;
  dead_rows_ = *dead;
  auto_vacuum_ = *vacuum == 1;
  next_row_ = std::max({*last, frozen_.hi, sent_watermark_, confirmed_hi_}) + 1;
  absl::StatusOr<sqlite::Statement> only = db_->prepare("SELECT idx FROM frozen_index");
  if (!only.ok()) return only.status();
  absl::StatusOr<bool> row;
  while ((row = only->step()).ok() && *row) frozen_.only.insert(only->columnText(0));
  return row.status();
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
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare(absl::StrCat("SELECT idx, count(*), sum(row <= ?1) FROM change WHERE ",
                                liveRow(), " GROUP BY idx ORDER BY idx"));
  if (!query.ok()) return query.status();
  query->bindInt(1, frozen_.active ? frozen_.hi : 0);
  std::vector<IndexCounts> counts;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    IndexCounts c{query->columnText(0), static_cast<uint64_t>(query->columnInt(1)), 0};
    if (frozen_.only.empty() || frozen_.only.contains(c.index)) {
      c.in_flight = static_cast<uint64_t>(query->columnInt(2));
      c.pending -= c.in_flight;
    }
    counts.push_back(std::move(c));
  }
  if (!row.ok()) return row.status();
  return counts;
}

absl::Status SqliteChangeQueue::forEachChange(
    const std::string& index, const std::function<void(const StoredChange&)>& visit) {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) return absl::FailedPreconditionError("queue database is closed");
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare(absl::StrCat("SELECT row, id, idx, op, data, version, is_new FROM change WHERE ",
                                liveRow(), " ORDER BY row"));
  if (!query.ok()) return query.status();
  uint64_t next_seq = 0;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    StoredChange change;
    const int64_t number = query->columnInt(0);
    change.index = query->columnText(2);
    change.in_flight = inFlight(number, change.index);
    if (change.in_flight) change.seq = next_seq++;  // seqs count every index
    if (!index.empty() && change.index != index) continue;
    change.id = query->columnText(1);
    change.is_delete = query->columnInt(3) == kDelete;
    change.data = query->columnBlob(4);
    change.version = static_cast<uint64_t>(query->columnInt(5));
    change.is_new = stillNew(number, query->columnInt(6) != 0);
    visit(change);
  }
  return row.status();
}

absl::StatusOr<std::vector<SqliteChangeQueue::QuarantinedChange>> SqliteChangeQueue::quarantined() {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) return absl::FailedPreconditionError("queue database is closed");
  std::vector<QuarantinedChange> found;
  absl::StatusOr<int64_t> has_table = db_->queryInt(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'quarantine'");
  if (!has_table.ok()) return has_table.status();
  if (*has_table == 0) return found;  // a version 2 file, opened for inspection
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT id, idx, reason FROM quarantine ORDER BY row");
  if (!query.ok()) return query.status();
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    found.push_back({query->columnBlob(0), query->columnBlob(1), query->columnText(2)});
  }
  if (!row.ok()) return row.status();
  return found;
}

absl::Status SqliteChangeQueue::deleteDatabase() {
  if (options_.read_only) return absl::FailedPreconditionError("queue opened read-only");
  if (absl::Status s = flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(db_mu_);
  (void)closeFile();
  frozen_ = Frozen{};
  sent_watermark_ = 0;
  confirmed_hi_ = 0;
  dead_rows_ = 0;
  damaged_.clear();
  if (options_.path != kInMemoryPath) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      absl::Status removed = removeFile(options_.vfs, options_.path + suffix);
      if (removed.ok()) continue;
      // Nothing is lost and the queue stays usable: it opens the file it could not delete
      // again, every change still in it.
      absl::Status reopened = openFile();
      return absl::FailedPreconditionError(
          reopened.ok() ? absl::StrCat(removed.message(), "; the queue keeps its changes")
                        : absl::StrCat(removed.message(),
                                       "; opening it again failed too: ", reopened.message()));
    }
  }
  return openFile();
}

}  // namespace asp
