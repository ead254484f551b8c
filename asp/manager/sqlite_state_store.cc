#include "asp/manager/sqlite_state_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "asp/base/checksum.h"

namespace asp::manager {
namespace {

constexpr char kSchema[] = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE document (
  agent    TEXT NOT NULL,
  idx      TEXT NOT NULL,
  id       TEXT NOT NULL,
  data     BLOB NOT NULL,
  version  INTEGER NOT NULL,
  checksum TEXT NOT NULL,  -- sha1 of data, kept for cheap index checksums
  PRIMARY KEY (agent, idx, id)
) WITHOUT ROWID;
CREATE TABLE metadata (
  agent          TEXT PRIMARY KEY,
  mode           TEXT NOT NULL,
  indices        TEXT NOT NULL,
  global_version INTEGER NOT NULL
);
PRAGMA user_version = 1;
COMMIT;
)sql";

// Runs `statement` with text/blob/int binds given as a list of lambdas' worth of work.
absl::Status run(sqlite::Db& db, const std::string& sql,
                 const std::function<void(sqlite::Statement&)>& bind) {
  absl::StatusOr<sqlite::Statement> statement = db.prepare(sql);
  if (!statement.ok()) return statement.status();
  bind(*statement);
  return statement->run();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<sqlite::Db>> db = sqlite::Db::open(
      path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX);
  if (!db.ok()) return db.status();
  absl::StatusOr<int64_t> version = (*db)->queryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version != 0 && *version != kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("manager state '", path,
                                                      "' has schema version ", *version,
                                                      "; expected ", kSchemaVersion));
  }
  if (absl::Status s = (*db)->exec("PRAGMA busy_timeout = 5000"); !s.ok()) return s;
  if (absl::StatusOr<std::string> mode = (*db)->queryText("PRAGMA journal_mode = WAL"); !mode.ok()) {
    return mode.status();
  }
  if (absl::Status s = (*db)->exec("PRAGMA synchronous = NORMAL"); !s.ok()) return s;
  if (*version == 0) {
    if (absl::Status s = (*db)->exec(kSchema); !s.ok()) return s;
  }
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(*std::move(db)));
}

absl::Status SqliteStateStore::applyOp(const std::string& agent, const SessionUpdate::Op& op) {
  switch (op.kind) {
    case SessionUpdate::Op::Kind::kUpsert: {
      const std::string checksum = documentChecksum(op.data);
      return run(*db_, "INSERT OR REPLACE INTO document VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 [&](sqlite::Statement& s) {
                   s.bindText(1, agent);
                   s.bindText(2, op.index);
                   s.bindText(3, op.id);
                   s.bindBlob(4, op.data);
                   s.bindInt(5, static_cast<int64_t>(op.version));
                   s.bindText(6, checksum);
                 });
    }
    case SessionUpdate::Op::Kind::kDelete:
      return run(*db_, "DELETE FROM document WHERE agent = ?1 AND idx = ?2 AND id = ?3",
                 [&](sqlite::Statement& s) {
                   s.bindText(1, agent);
                   s.bindText(2, op.index);
                   s.bindText(3, op.id);
                 });
    case SessionUpdate::Op::Kind::kClean:
      return run(*db_, "DELETE FROM document WHERE agent = ?1 AND idx = ?2",
                 [&](sqlite::Statement& s) {
                   s.bindText(1, agent);
                   s.bindText(2, op.index);
                 });
  }
  return absl::InternalError("unknown operation");
}

absl::Status SqliteStateStore::apply(const std::string& agent,
                                     const std::vector<std::string>& replaced_indices,
                                     OpSource& ops) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = db_->exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status status;
  for (const std::string& index : replaced_indices) {
    SessionUpdate::Op clean;
    clean.kind = SessionUpdate::Op::Kind::kClean;
    clean.index = index;
    if (status = applyOp(agent, clean); !status.ok()) break;
  }
  SessionUpdate::Op op;
  while (status.ok()) {
    absl::StatusOr<bool> more = ops.next(&op);
    if (!more.ok()) status = more.status();
    if (!status.ok() || !*more) break;
    status = applyOp(agent, op);
  }
  if (status.ok()) status = db_->exec("COMMIT");
  if (!status.ok()) (void)db_->exec("ROLLBACK");
  return status;
}

absl::StatusOr<IndexState> SqliteStateStore::documents(const std::string& agent,
                                                       const std::string& index) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT id, data, version FROM document WHERE agent = ?1 AND idx = ?2");
  if (!query.ok()) return query.status();
  query->bindText(1, agent);
  query->bindText(2, index);
  IndexState state;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    state[query->columnText(0)] =
        Document{query->columnBlob(1), static_cast<uint64_t>(query->columnInt(2))};
  }
  if (!row.ok()) return row.status();
  return state;
}

absl::StatusOr<std::vector<std::string>> SqliteStateStore::indices(const std::string& agent) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT DISTINCT idx FROM document WHERE agent = ?1 ORDER BY idx");
  if (!query.ok()) return query.status();
  query->bindText(1, agent);
  std::vector<std::string> names;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) names.push_back(query->columnText(0));
  if (!row.ok()) return row.status();
  return names;
}

absl::StatusOr<std::string> SqliteStateStore::checksum(const std::string& agent,
                                                       const std::string& index) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT checksum FROM document WHERE agent = ?1 AND idx = ?2");
  if (!query.ok()) return query.status();
  query->bindText(1, agent);
  query->bindText(2, index);
  IndexChecksum checksum;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) checksum.addDocumentChecksum(query->columnText(0));
  if (!row.ok()) return row.status();
  return checksum.finish();
}

absl::Status SqliteStateStore::putMetadata(const std::string& agent,
                                           const AgentMetadata& metadata) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string indices = absl::StrJoin(metadata.indices, "\n");
  return run(*db_, "INSERT OR REPLACE INTO metadata VALUES (?1, ?2, ?3, ?4)",
             [&](sqlite::Statement& s) {
               s.bindText(1, agent);
               s.bindText(2, metadata.mode);
               s.bindText(3, indices);
               s.bindInt(4, static_cast<int64_t>(metadata.global_version));
             });
}

absl::StatusOr<AgentMetadata> SqliteStateStore::metadata(const std::string& agent) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT mode, indices, global_version FROM metadata WHERE agent = ?1");
  if (!query.ok()) return query.status();
  query->bindText(1, agent);
  absl::StatusOr<bool> row = query->step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("no metadata for agent '", agent, "'"));
  AgentMetadata metadata;
  metadata.mode = query->columnText(0);
  const std::string indices = query->columnText(1);
  if (!indices.empty()) metadata.indices = absl::StrSplit(indices, '\n');
  metadata.global_version = static_cast<uint64_t>(query->columnInt(2));
  return metadata;
}

absl::Status SqliteStateStore::tamper(const std::string& agent, const std::string& index,
                                      const std::string& id, const Document& document,
                                      bool remove) {
  SessionUpdate update;
  SessionUpdate::Op op;
  op.kind = remove ? SessionUpdate::Op::Kind::kDelete : SessionUpdate::Op::Kind::kUpsert;
  op.index = index;
  op.id = id;
  op.data = document.data;
  op.version = document.version;
  update.ops.push_back(op);
  return apply(agent, std::move(update));
}

}  // namespace asp::manager
