#include "asp/manager/sqlite_state_store.h"

#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"

namespace asp::manager {
namespace {

constexpr char kSchema[] = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE document (
  agent    TEXT NOT NULL,
  module   TEXT NOT NULL,
  idx      TEXT NOT NULL,
  id       TEXT NOT NULL,
  data     BLOB NOT NULL,
  version  INTEGER NOT NULL,
  checksum TEXT NOT NULL,  -- sha1 of data, kept for cheap index checksums
  PRIMARY KEY (agent, module, idx, id)
) WITHOUT ROWID;
CREATE TABLE metadata (
  agent          TEXT NOT NULL,
  module         TEXT NOT NULL,
  mode           TEXT NOT NULL,
  indices        BLOB NOT NULL,  -- each name as <decimal length>:<bytes>
  global_version INTEGER NOT NULL,
  PRIMARY KEY (agent, module)
);
PRAGMA user_version = 2;
COMMIT;
)sql";

// When each module's last data session was applied (the status page, `aspctl manager
// agents`). Added to version 2 without a new version: a manager that does not know the
// table ignores it, and one that does creates it when missing (docs/manager.md).
constexpr char kAppliedTable[] = R"sql(
CREATE TABLE IF NOT EXISTS module_applied (
  agent      TEXT NOT NULL,
  module     TEXT NOT NULL,
  applied_at INTEGER NOT NULL,  -- seconds since the Unix epoch
  PRIMARY KEY (agent, module)
) WITHOUT ROWID
)sql";

// Version 1 kept state per (agent, index); see docs/manager.md.
constexpr int kPerAgentSchemaVersion = 1;

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
  absl::StatusOr<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX);
  if (!db.ok()) return db.status();
  absl::StatusOr<int64_t> version = (*db)->queryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version == kPerAgentSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("manager state '", path,
                     "' has schema version 1 (state per agent and index); this "
                     "manager keeps state per agent, module and index (version ",
                     kSchemaVersion,
                     ") and cannot tell which module a version 1 document came from. Move the file "
                     "aside: agents send their state again after their next integrity check"));
  }
  if (*version != 0 && *version != kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "manager state '", path, "' has schema version ", *version, "; expected ", kSchemaVersion));
  }
  if (absl::Status s = (*db)->exec("PRAGMA busy_timeout = 5000"); !s.ok()) return s;
  if (absl::StatusOr<std::string> mode = (*db)->queryText("PRAGMA journal_mode = WAL");
      !mode.ok()) {
    return mode.status();
  }
  if (absl::Status s = (*db)->exec("PRAGMA synchronous = NORMAL"); !s.ok()) return s;
  if (*version == 0) {
    if (absl::Status s = (*db)->exec(kSchema); !s.ok()) return s;
  }
  if (absl::Status s = (*db)->exec(kAppliedTable); !s.ok()) return s;
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(*std::move(db)));
}

absl::Status SqliteStateStore::applyLocked(const ModuleKey& key,
                                           const std::vector<std::string>& replaced_indices,
                                           OpSource& ops) {
  // One prepared statement per kind for the whole session: preparing one per op costs
  // more than the write itself.
  absl::StatusOr<sqlite::Statement> upsert =
      db_->prepare("INSERT OR REPLACE INTO document VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!upsert.ok()) return upsert.status();
  absl::StatusOr<sqlite::Statement> remove = db_->prepare(
      "DELETE FROM document WHERE agent = ?1 AND module = ?2 AND idx = ?3 AND id = ?4");
  if (!remove.ok()) return remove.status();
  absl::StatusOr<sqlite::Statement> clean =
      db_->prepare("DELETE FROM document WHERE agent = ?1 AND module = ?2 AND idx = ?3");
  if (!clean.ok()) return clean.status();
  for (sqlite::Statement* s : {&*upsert, &*remove, &*clean}) {
    s->bindText(1, key.agent);
    s->bindText(2, key.module);
  }
  for (const std::string& index : replaced_indices) {
    clean->bindText(3, index);
    if (absl::Status s = clean->run(); !s.ok()) return s;
  }
  std::string checksum;
  SessionUpdate::Op op;
  while (true) {
    absl::StatusOr<bool> more = ops.next(&op);
    if (!more.ok()) return more.status();
    if (!*more) break;
    absl::Status status;
    switch (op.kind) {
      case SessionUpdate::Op::Kind::kUpsert:
        checksum = documentChecksum(op.data);
        upsert->bindText(3, op.index);
        upsert->bindText(4, op.id);
        upsert->bindBlob(5, op.data);
        upsert->bindInt(6, static_cast<int64_t>(op.version));
        upsert->bindText(7, checksum);
        status = upsert->run();
        break;
      case SessionUpdate::Op::Kind::kDelete:
        remove->bindText(3, op.index);
        remove->bindText(4, op.id);
        status = remove->run();
        break;
      case SessionUpdate::Op::Kind::kClean:
        clean->bindText(3, op.index);
        status = clean->run();
        break;
    }
    if (!status.ok()) return status;
  }
  return run(*db_,
             "INSERT OR REPLACE INTO module_applied VALUES "
             "(?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))",
             [&](sqlite::Statement& s) {
               s.bindText(1, key.agent);
               s.bindText(2, key.module);
             });
}

absl::Status SqliteStateStore::apply(const ModuleKey& key,
                                     const std::vector<std::string>& replaced_indices,
                                     OpSource& ops) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = db_->exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status status = applyLocked(key, replaced_indices, ops);
  if (status.ok()) status = db_->exec("COMMIT");
  if (!status.ok()) (void)db_->exec("ROLLBACK");
  return status;
}

absl::StatusOr<IndexState> SqliteStateStore::documents(const ModuleKey& key,
                                                       const std::string& index) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query = db_->prepare(
      "SELECT id, data, version FROM document WHERE agent = ?1 AND module = ?2 AND idx = ?3");
  if (!query.ok()) return query.status();
  query->bindText(1, key.agent);
  query->bindText(2, key.module);
  query->bindText(3, index);
  IndexState state;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    state[query->columnText(0)] =
        Document{query->columnBlob(1), static_cast<uint64_t>(query->columnInt(2))};
  }
  if (!row.ok()) return row.status();
  return state;
}

absl::StatusOr<std::vector<std::string>> SqliteStateStore::indices(const ModuleKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query = db_->prepare(
      "SELECT DISTINCT idx FROM document WHERE agent = ?1 AND module = ?2 ORDER BY idx");
  if (!query.ok()) return query.status();
  query->bindText(1, key.agent);
  query->bindText(2, key.module);
  std::vector<std::string> names;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) names.push_back(query->columnText(0));
  if (!row.ok()) return row.status();
  return names;
}

absl::StatusOr<std::string> SqliteStateStore::checksum(const ModuleKey& key,
                                                       const std::string& index) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT checksum FROM document WHERE agent = ?1 AND module = ?2 AND idx = ?3");
  if (!query.ok()) return query.status();
  query->bindText(1, key.agent);
  query->bindText(2, key.module);
  query->bindText(3, index);
  IndexChecksum checksum;
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) checksum.addDocumentChecksum(query->columnText(0));
  if (!row.ok()) return row.status();
  return checksum.finish();
}

absl::Status SqliteStateStore::putMetadata(const ModuleKey& key, const AgentMetadata& metadata) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string indices = encodeNames(metadata.indices);
  return run(*db_, "INSERT OR REPLACE INTO metadata VALUES (?1, ?2, ?3, ?4, ?5)",
             [&](sqlite::Statement& s) {
               s.bindText(1, key.agent);
               s.bindText(2, key.module);
               s.bindText(3, metadata.mode);
               s.bindBlob(4, indices);
               s.bindInt(5, static_cast<int64_t>(metadata.global_version));
             });
}

absl::StatusOr<AgentMetadata> SqliteStateStore::metadata(const ModuleKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<sqlite::Statement> query = db_->prepare(
      "SELECT mode, indices, global_version FROM metadata WHERE agent = ?1 AND module = ?2");
  if (!query.ok()) return query.status();
  query->bindText(1, key.agent);
  query->bindText(2, key.module);
  absl::StatusOr<bool> row = query->step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return absl::NotFoundError(
        absl::StrCat("no metadata for agent '", key.agent, "', module '", key.module, "'"));
  }
  AgentMetadata metadata;
  metadata.mode = query->columnText(0);
  absl::StatusOr<std::vector<std::string>> indices = decodeNames(query->columnBlob(1));
  if (!indices.ok()) {
    return absl::DataLossError(absl::StrCat("metadata of agent '", key.agent, "', module '",
                                            key.module, "': ", indices.status().message()));
  }
  metadata.indices = *std::move(indices);
  metadata.global_version = static_cast<uint64_t>(query->columnInt(2));
  return metadata;
}

absl::StatusOr<std::vector<ModuleSummary>> SqliteStateStore::modules() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<ModuleKey, ModuleSummary> found;
  // Each query's rows start with (agent, module); `row` reads the rest.
  auto each =
      [&](const char* sql,
          const std::function<void(sqlite::Statement&, ModuleSummary&)>& row) -> absl::Status {
    absl::StatusOr<sqlite::Statement> query = db_->prepare(sql);
    if (!query.ok()) return query.status();
    absl::StatusOr<bool> step;
    while ((step = query->step()).ok() && *step) {
      ModuleKey key{query->columnText(0), query->columnText(1)};
      ModuleSummary& summary = found[key];
      summary.key = std::move(key);
      row(*query, summary);
    }
    return step.status();
  };
  absl::Status status =
      each("SELECT agent, module, idx, count(*) FROM document GROUP BY agent, module, idx",
           [](sqlite::Statement& q, ModuleSummary& m) {
             m.documents[q.columnText(2)] = static_cast<uint64_t>(q.columnInt(3));
           });
  if (status.ok()) {
    status =
        each("SELECT agent, module, applied_at FROM module_applied",
             [](sqlite::Statement& q, ModuleSummary& m) { m.last_applied_unix = q.columnInt(2); });
  }
  if (status.ok()) {
    status = each("SELECT agent, module FROM metadata", [](sqlite::Statement&, ModuleSummary&) {});
  }
  if (!status.ok()) return status;
  std::vector<ModuleSummary> sorted;
  for (auto& [key, summary] : found) sorted.push_back(std::move(summary));
  return sorted;
}

}  // namespace asp::manager
