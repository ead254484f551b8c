#include "asp/manager/postgres_state_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"

namespace asp::manager {
namespace {

using pg::BinaryCopyWriter;
using pg::Param;

// Taken (per transaction) by a manager that creates or checks the schema, so two
// managers starting on an empty database do not both create it. An arbitrary constant
// ("asp" schema) that other users of the database are unlikely to pick.
constexpr int64_t kSchemaLockKey = 0x6173705f736368;

// Schema version 1. Identifiers and document bytes are bytea: proto3 strings may hold
// U+0000, which PostgreSQL's text cannot, and bytea compares bytewise, the order the
// other stores use. No foreign key from document to module: it would cost a lookup per
// written row, and this store is the tables' only writer.
constexpr char kSchema[] = R"sql(
CREATE SCHEMA IF NOT EXISTS asp;
CREATE TABLE asp.schema_version (version integer NOT NULL);
INSERT INTO asp.schema_version VALUES (1);
CREATE TABLE asp.module (
  id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  agent                   bytea NOT NULL,
  module                  bytea NOT NULL,
  applied_at              timestamptz,
  metadata_mode           text,
  metadata_indices        bytea,
  metadata_global_version bigint,
  UNIQUE (agent, module)
);
CREATE TABLE asp.document (
  module_id bigint NOT NULL,
  idx       bytea NOT NULL,
  id        bytea NOT NULL,
  version   bigint NOT NULL,
  checksum  bytea NOT NULL,
  data      bytea NOT NULL,
  PRIMARY KEY (module_id, idx, id)
);
CREATE INDEX document_checksum ON asp.document (module_id, idx, checksum);
)sql";

// Per connection: a session's net changes go here first (COPY), then one merge each.
constexpr char kStaging[] = R"sql(
SET temp_buffers = '64MB';
SET work_mem = '64MB';
CREATE TEMPORARY TABLE asp_staging (
  seq      bigint NOT NULL,    -- the op's rank in the session
  kind     smallint NOT NULL,  -- Kind below
  idx      bytea NOT NULL,
  id       bytea NOT NULL,
  version  bigint NOT NULL,
  checksum bytea NOT NULL,
  data     bytea NOT NULL
) ON COMMIT DELETE ROWS
)sql";

constexpr char kModuleRow[] =
    "INSERT INTO asp.module (agent, module, applied_at) VALUES ($1, $2, now()) "
    "ON CONFLICT (agent, module) DO UPDATE SET applied_at = EXCLUDED.applied_at RETURNING id";
constexpr char kModuleId[] = "(SELECT id FROM asp.module WHERE agent = $1 AND module = $2)";

constexpr size_t kCopyChunk = 1 << 20;

// asp_staging.kind
enum StagedKind : int16_t { kStagedUpsert = 0, kStagedDelete = 1, kStagedClean = 2 };

int16_t stagedKind(SessionUpdate::Op::Kind kind) {
  switch (kind) {
    case SessionUpdate::Op::Kind::kUpsert:
      return kStagedUpsert;
    case SessionUpdate::Op::Kind::kDelete:
      return kStagedDelete;
    case SessionUpdate::Op::Kind::kClean:
      return kStagedClean;
  }
  return kStagedClean;
}

// Bytes an op holds, for the in-memory budget.
size_t opBytes(const SessionUpdate::Op& op) {
  return sizeof(op) + op.index.size() + op.id.size() + op.data.size();
}

// What a session does, reduced to its net effect: the indices it empties (FULL's
// replaced indices, DataCleans) and, per document, its last upsert or delete after the
// last clean of its index. Applying that in the order cleans, deletes, upserts gives
// the state the ops would give one by one. Views into the update's strings.
struct NetChanges {
  std::vector<absl::string_view> cleaned;
  // Upserts into an index this session empties: no stored document can conflict.
  std::vector<const SessionUpdate::Op*> into_emptied;
  // Everything else, grouped by index (the order of `touched`).
  std::vector<absl::string_view> touched;
  std::vector<std::vector<const SessionUpdate::Op*>> by_index;
};

NetChanges reduce(const std::vector<std::string>& replaced_indices,
                  const std::vector<SessionUpdate::Op>& ops) {
  NetChanges net;
  absl::flat_hash_set<absl::string_view> cleaned;
  // index -> id -> op
  absl::flat_hash_map<absl::string_view,
                      absl::flat_hash_map<absl::string_view, const SessionUpdate::Op*>>
      last;
  auto clean = [&](absl::string_view index) {
    last.erase(index);
    if (cleaned.insert(index).second) net.cleaned.push_back(index);
  };
  for (const std::string& index : replaced_indices) clean(index);
  for (const SessionUpdate::Op& op : ops) {
    if (op.kind == SessionUpdate::Op::Kind::kClean) {
      clean(op.index);
    } else {
      last[op.index][op.id] = &op;
    }
  }
  for (const auto& [index, documents] : last) {
    if (cleaned.contains(index)) {
      for (const auto& [id, op] : documents) {
        // A delete there is already done by the clean.
        if (op->kind == SessionUpdate::Op::Kind::kUpsert) net.into_emptied.push_back(op);
      }
      continue;
    }
    net.touched.push_back(index);
    net.by_index.emplace_back();
    for (const auto& [id, op] : documents) net.by_index.back().push_back(op);
  }
  return net;
}

std::string rawSha1(absl::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

// Hands out the ops to COPY one at a time; false when done.
using NextOp = std::function<absl::StatusOr<const SessionUpdate::Op*>()>;

// Streams the ops `next` hands out as binary COPY rows (`write_row`), in chunks: the
// whole session never sits in one buffer.
absl::Status copyRows(
    pg::Connection& conn, const std::string& copy_sql, const NextOp& next,
    const std::function<void(const SessionUpdate::Op&, std::string*)>& write_row) {
  return conn.copyIn(
      copy_sql, [&](const std::function<absl::Status(absl::string_view)>& sink) -> absl::Status {
        std::string buffer;
        buffer.reserve(kCopyChunk + 4096);
        BinaryCopyWriter::header(&buffer);
        while (true) {
          absl::StatusOr<const SessionUpdate::Op*> op = next();
          if (!op.ok()) return op.status();
          if (*op == nullptr) break;
          write_row(**op, &buffer);
          if (buffer.size() >= kCopyChunk) {
            if (absl::Status s = sink(buffer); !s.ok()) return s;
            buffer.clear();
          }
        }
        BinaryCopyWriter::trailer(&buffer);
        return sink(buffer);
      });
}

NextOp over(const std::vector<const SessionUpdate::Op*>& ops) {
  return [&ops, i = size_t{0}]() mutable -> absl::StatusOr<const SessionUpdate::Op*> {
    return i < ops.size() ? ops[i++] : nullptr;
  };
}

// One asp_staging row, numbered `seq`.
void writeStagedRow(int64_t seq, const SessionUpdate::Op& op, std::string* out) {
  const bool upsert = op.kind == SessionUpdate::Op::Kind::kUpsert;
  BinaryCopyWriter::tupleStart(7, out);
  BinaryCopyWriter::int8Field(seq, out);
  BinaryCopyWriter::int2Field(stagedKind(op.kind), out);
  BinaryCopyWriter::field(op.index, out);
  BinaryCopyWriter::field(op.id, out);
  BinaryCopyWriter::int8Field(static_cast<int64_t>(op.version), out);
  BinaryCopyWriter::field(upsert ? rawSha1(op.data) : std::string(), out);
  BinaryCopyWriter::field(upsert ? absl::string_view(op.data) : absl::string_view(), out);
}

constexpr char kCopyStaging[] =
    "COPY asp_staging (seq, kind, idx, id, version, checksum, data) FROM STDIN (FORMAT binary)";

// Upserts that cannot conflict go straight into asp.document: one COPY, no merge.
absl::Status copyIntoDocuments(pg::Connection& conn, int64_t module_id,
                               const std::vector<const SessionUpdate::Op*>& ops) {
  return copyRows(
      conn,
      "COPY asp.document (module_id, idx, id, version, checksum, data) FROM STDIN (FORMAT binary)",
      over(ops), [module_id](const SessionUpdate::Op& op, std::string* out) {
        BinaryCopyWriter::tupleStart(6, out);
        BinaryCopyWriter::int8Field(module_id, out);
        BinaryCopyWriter::field(op.index, out);
        BinaryCopyWriter::field(op.id, out);
        BinaryCopyWriter::int8Field(static_cast<int64_t>(op.version), out);
        BinaryCopyWriter::field(rawSha1(op.data), out);
        BinaryCopyWriter::field(op.data, out);
      });
}

// The staged upserts merged into asp.document: each key must appear once ($1: module id).
constexpr char kUpsertStaged[] =
    "INSERT INTO asp.document (module_id, idx, id, version, checksum, data) "
    "SELECT $1, idx, id, version, checksum, data FROM asp_staging WHERE kind = 0 "
    "ON CONFLICT (module_id, idx, id) DO UPDATE SET version = EXCLUDED.version, "
    "checksum = EXCLUDED.checksum, data = EXCLUDED.data";

// The rest through the staging table, then one DELETE and one INSERT ... ON CONFLICT.
absl::Status mergeThroughStaging(pg::Connection& conn, const std::string& module_id,
                                 const std::vector<const SessionUpdate::Op*>& ops) {
  size_t deletes = 0;
  for (const SessionUpdate::Op* op : ops) deletes += op->kind == SessionUpdate::Op::Kind::kDelete;
  int64_t seq = 0;
  absl::Status copied = copyRows(
      conn, kCopyStaging, over(ops),
      [&seq](const SessionUpdate::Op& op, std::string* out) { writeStagedRow(seq++, op, out); });
  if (!copied.ok()) return copied;
  if (deletes > 0) {
    absl::StatusOr<pg::Result> deleted = conn.exec(
        "DELETE FROM asp.document d USING asp_staging s WHERE s.kind = 1 AND d.module_id = $1 "
        "AND d.idx = s.idx AND d.id = s.id",
        {{module_id}});
    if (!deleted.ok()) return deleted.status();
  }
  if (deletes < ops.size()) {
    absl::StatusOr<pg::Result> upserted = conn.exec(kUpsertStaged, {{module_id}});
    if (!upserted.ok()) return upserted.status();
  }
  return absl::OkStatus();
}

// Finds or creates the module's row and locks it until COMMIT: sessions of one agent
// and module wait for each other, in every manager process. Its id (binary int8).
absl::StatusOr<std::string> lockModule(pg::Connection& conn, const ModuleKey& key) {
  absl::StatusOr<pg::Result> row = conn.exec(kModuleRow, {{key.agent}, {key.module}}, true);
  if (!row.ok()) return row.status();
  return std::string(row->value(0, 0));
}

absl::Status applyNet(pg::Connection& conn, const ModuleKey& key, const NetChanges& net) {
  absl::StatusOr<std::string> locked = lockModule(conn, key);
  if (!locked.ok()) return locked.status();
  const std::string& module_id = *locked;
  for (absl::string_view index : net.cleaned) {
    absl::StatusOr<pg::Result> cleaned = conn.exec(
        "DELETE FROM asp.document WHERE module_id = $1 AND idx = $2", {{module_id}, {index}});
    if (!cleaned.ok()) return cleaned.status();
  }
  // An index the module holds nothing of yet (a first sync) cannot conflict either: its
  // upserts join the direct COPY and its deletes have nothing to do. The module's row
  // lock keeps it so until COMMIT.
  std::vector<const SessionUpdate::Op*> direct = net.into_emptied;
  std::vector<const SessionUpdate::Op*> staged;
  for (size_t i = 0; i < net.touched.size(); ++i) {
    absl::StatusOr<pg::Result> holds =
        conn.exec("SELECT EXISTS (SELECT 1 FROM asp.document WHERE module_id = $1 AND idx = $2)",
                  {{module_id}, {net.touched[i]}});
    if (!holds.ok()) return holds.status();
    const bool empty = holds->value(0, 0) == "f";
    for (const SessionUpdate::Op* op : net.by_index[i]) {
      if (!empty) {
        staged.push_back(op);
      } else if (op->kind == SessionUpdate::Op::Kind::kUpsert) {
        direct.push_back(op);
      }
    }
  }
  // In key order: rows then reach the primary key's B-tree page after page, not at
  // random (reduce() hands them out in hash order).
  auto by_key = [](const SessionUpdate::Op* a, const SessionUpdate::Op* b) {
    return std::tie(a->index, a->id) < std::tie(b->index, b->id);
  };
  std::sort(direct.begin(), direct.end(), by_key);
  std::sort(staged.begin(), staged.end(), by_key);
  if (!direct.empty()) {
    if (absl::Status s = copyIntoDocuments(conn, pg::readInt8(module_id), direct); !s.ok())
      return s;
  }
  if (!staged.empty()) return mergeThroughStaging(conn, module_id, staged);
  return absl::OkStatus();
}

// A session larger than the memory budget: every op goes to asp_staging as it comes (the
// ones already read first), numbered in seq order, and SQL reduces them to their net
// effect: a document's last op counts unless its index was cleaned after it.
constexpr char kMergeStaged[] = R"sql(
WITH cleans AS (
  SELECT idx, max(seq) AS seq FROM asp_staging WHERE kind = 2 GROUP BY idx
), last AS (
  SELECT DISTINCT ON (idx, id) seq, kind, idx, id, version, checksum, data
  FROM asp_staging WHERE kind <> 2 ORDER BY idx, id, seq DESC
), net AS (
  SELECT l.* FROM last l LEFT JOIN cleans c ON c.idx = l.idx WHERE c.seq IS NULL OR l.seq > c.seq
), gone AS (
  DELETE FROM asp.document d USING net n
  WHERE n.kind = 1 AND d.module_id = $1 AND d.idx = n.idx AND d.id = n.id
)
INSERT INTO asp.document (module_id, idx, id, version, checksum, data)
SELECT $1, idx, id, version, checksum, data FROM net WHERE kind = 0
ON CONFLICT (module_id, idx, id) DO UPDATE SET version = EXCLUDED.version,
  checksum = EXCLUDED.checksum, data = EXCLUDED.data
)sql";

// A streamed session of upserts alone whose keys do not repeat (the agent's queue sends
// one change per id per session, docs/protocol.md §6) needs no reduction: one INSERT ...
// ON CONFLICT from the staging table. PostgreSQL refuses that command when a key repeats
// (cardinality violation); then the savepoint undoes it and false says to reduce first.
absl::StatusOr<bool> tryPlainMerge(pg::Connection& conn, const std::string& module_id) {
  absl::StatusOr<pg::Result> savepoint = conn.exec("SAVEPOINT plain_merge");
  if (!savepoint.ok()) return savepoint.status();
  absl::StatusOr<pg::Result> merged = conn.exec(kUpsertStaged, {{module_id}});
  if (merged.ok()) {
    absl::StatusOr<pg::Result> released = conn.exec("RELEASE SAVEPOINT plain_merge");
    if (!released.ok()) return released.status();
    return true;
  }
  if (merged.status().code() != absl::StatusCode::kAlreadyExists) return merged.status();
  absl::StatusOr<pg::Result> undone = conn.exec("ROLLBACK TO SAVEPOINT plain_merge");
  if (!undone.ok()) return undone.status();
  return false;
}

absl::Status applyStreamed(pg::Connection& conn, const ModuleKey& key,
                           const std::vector<std::string>& replaced_indices,
                           const std::vector<SessionUpdate::Op>& read, OpSource& rest) {
  absl::StatusOr<std::string> module_id = lockModule(conn, key);
  if (!module_id.ok()) return module_id.status();
  for (const std::string& index : replaced_indices) {
    absl::StatusOr<pg::Result> cleaned = conn.exec(
        "DELETE FROM asp.document WHERE module_id = $1 AND idx = $2", {{*module_id}, {index}});
    if (!cleaned.ok()) return cleaned.status();
  }
  size_t next_read = 0;
  SessionUpdate::Op op;
  NextOp next = [&]() -> absl::StatusOr<const SessionUpdate::Op*> {
    if (next_read < read.size()) return &read[next_read++];
    absl::StatusOr<bool> more = rest.next(&op);
    if (!more.ok()) return more.status();
    return *more ? &op : nullptr;
  };
  int64_t seq = 0;
  bool only_upserts = true;
  absl::Status copied =
      copyRows(conn, kCopyStaging, next, [&](const SessionUpdate::Op& staged, std::string* out) {
        only_upserts &= staged.kind == SessionUpdate::Op::Kind::kUpsert;
        writeStagedRow(seq++, staged, out);
      });
  if (!copied.ok()) return copied;
  if (only_upserts) {
    absl::StatusOr<bool> merged = tryPlainMerge(conn, *module_id);
    if (!merged.ok() || *merged) return merged.status();
  }
  absl::StatusOr<pg::Result> cleaned = conn.exec(
      "DELETE FROM asp.document d USING (SELECT DISTINCT idx FROM asp_staging WHERE kind = 2) c "
      "WHERE d.module_id = $1 AND d.idx = c.idx",
      {{*module_id}});
  if (!cleaned.ok()) return cleaned.status();
  return conn.exec(kMergeStaged, {{*module_id}}).status();
}

absl::Status checkOrCreateSchema(pg::Connection& conn) {
  absl::StatusOr<pg::Result> lock =
      conn.exec("SELECT pg_advisory_xact_lock($1)", {{pg::int8(kSchemaLockKey)}});
  if (!lock.ok()) return lock.status();
  absl::StatusOr<pg::Result> exists =
      conn.exec("SELECT to_regclass('asp.schema_version') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (exists->value(0, 0) != "t") {
    absl::StatusOr<pg::Result> created = conn.exec(kSchema);
    return created.status();
  }
  absl::StatusOr<pg::Result> versions = conn.exec("SELECT version FROM asp.schema_version");
  if (!versions.ok()) return versions.status();
  if (versions->rows() != 1) {
    return absl::DataLossError(absl::StrCat("the PostgreSQL state store on ", conn.describe(),
                                            " has ", versions->rows(),
                                            " rows in asp.schema_version; expected 1"));
  }
  const std::string version(versions->value(0, 0));
  if (version != std::to_string(PostgresStateStore::kSchemaVersion)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the PostgreSQL state store on ", conn.describe(), " has schema version ",
                     version, "; this manager knows version ", PostgresStateStore::kSchemaVersion,
                     " only and leaves it untouched"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStateStore>> PostgresStateStore::open(const std::string& uri,
                                                                             Options options) {
  std::unique_ptr<PostgresStateStore> store(new PostgresStateStore(uri, options));
  absl::Status schema = store->transaction(checkOrCreateSchema);
  if (!schema.ok()) return schema;
  store->description_ = store->conn_->describe();
  return store;
}

absl::StatusOr<pg::Connection*> PostgresStateStore::connection() {
  if (conn_ != nullptr && !conn_->broken()) return conn_.get();
  conn_.reset();
  absl::StatusOr<std::unique_ptr<pg::Connection>> conn = pg::Connection::connect(uri_);
  if (!conn.ok()) return conn.status();
  if (absl::StatusOr<pg::Result> staging = (*conn)->exec(kStaging); !staging.ok()) {
    return staging.status();
  }
  if (options_.statement_timeout > absl::ZeroDuration()) {
    // Whole milliseconds, at least one: PostgreSQL reads 0 as "no limit".
    const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.statement_timeout));
    absl::StatusOr<pg::Result> set = (*conn)->exec(absl::StrCat("SET statement_timeout = ", ms));
    if (!set.ok()) return set.status();
  }
  conn_ = *std::move(conn);
  return conn_.get();
}

absl::Status PostgresStateStore::transaction(
    const std::function<absl::Status(pg::Connection&)>& work) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<pg::Connection*> conn = connection();
    if (!conn.ok()) return conn.status();
    absl::StatusOr<pg::Result> begin = (*conn)->exec("BEGIN");
    if (!begin.ok()) {
      conn_.reset();
      // A connection the server closed while idle (a restart between sessions) fails
      // here, before anything of this transaction reached the server: go again once.
      if (begin.status().code() == absl::StatusCode::kUnavailable && attempt == 0) continue;
      return begin.status();
    }
    absl::Status status = work(**conn);
    if (status.ok()) {
      absl::StatusOr<pg::Result> commit = (*conn)->exec("COMMIT");
      status = commit.status();
    }
    if (status.code() == absl::StatusCode::kUnavailable) {
      conn_.reset();  // the next call connects again
    } else if (!status.ok()) {
      (void)(*conn)->exec("ROLLBACK");
    }
    return status;
  }
}

absl::Status PostgresStateStore::read(const std::function<absl::Status(pg::Connection&)>& work) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<pg::Connection*> conn = connection();
    if (!conn.ok()) return conn.status();
    absl::Status status = work(**conn);
    if (status.code() == absl::StatusCode::kUnavailable) {
      conn_.reset();
      if (attempt == 0) continue;  // reads repeat safely
    }
    return status;
  }
}

absl::Status PostgresStateStore::apply(const ModuleKey& key,
                                       const std::vector<std::string>& replaced_indices,
                                       OpSource& ops) {
  // Up to the budget, the session is read whole and reduced here (a first sync then goes
  // straight into asp.document); past it, it streams into the staging table.
  std::vector<SessionUpdate::Op> read;
  size_t bytes = 0;
  bool larger_than_budget = false;
  SessionUpdate::Op op;
  while (!larger_than_budget) {
    absl::StatusOr<bool> more = ops.next(&op);
    if (!more.ok()) return more.status();
    if (!*more) break;
    bytes += opBytes(op);
    read.push_back(std::move(op));
    larger_than_budget = bytes > options_.memory_budget_bytes;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (larger_than_budget) {
    return transaction([&](pg::Connection& conn) {
      return applyStreamed(conn, key, replaced_indices, read, ops);
    });
  }
  const NetChanges net = reduce(replaced_indices, read);
  return transaction([&](pg::Connection& conn) { return applyNet(conn, key, net); });
}

absl::StatusOr<IndexState> PostgresStateStore::documents(const ModuleKey& key,
                                                         const std::string& index) {
  std::lock_guard<std::mutex> lock(mu_);
  IndexState state;
  absl::Status status = read([&](pg::Connection& conn) {
    state.clear();
    return conn.stream(
        absl::StrCat("SELECT id, data, version FROM asp.document WHERE module_id = ", kModuleId,
                     " AND idx = $3"),
        {{key.agent}, {key.module}, {index}}, [&](const pg::Result& row) {
          state[std::string(row.value(0, 0))] = Document{
              std::string(row.value(0, 1)), static_cast<uint64_t>(pg::readInt8(row.value(0, 2)))};
          return absl::OkStatus();
        });
  });
  if (!status.ok()) return status;
  return state;
}

absl::StatusOr<std::vector<std::string>> PostgresStateStore::indices(const ModuleKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  absl::Status status = read([&](pg::Connection& conn) {
    names.clear();
    return conn.stream(absl::StrCat("SELECT DISTINCT idx FROM asp.document WHERE module_id = ",
                                    kModuleId, " ORDER BY idx"),
                       {{key.agent}, {key.module}}, [&](const pg::Result& row) {
                         names.emplace_back(row.value(0, 0));
                         return absl::OkStatus();
                       });
  });
  if (!status.ok()) return status;
  return names;
}

absl::StatusOr<std::string> PostgresStateStore::checksum(const ModuleKey& key,
                                                         const std::string& index) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<OrderedIndexChecksum> checksum;
  absl::Status status = read([&](pg::Connection& conn) {
    checksum = std::make_unique<OrderedIndexChecksum>();
    // bytea orders bytewise, and raw digests order as their lowercase hex does.
    return conn.stream(absl::StrCat("SELECT checksum FROM asp.document WHERE module_id = ",
                                    kModuleId, " AND idx = $3 ORDER BY checksum"),
                       {{key.agent}, {key.module}, {index}}, [&](const pg::Result& row) {
                         return checksum->add(absl::BytesToHexString(row.value(0, 0)));
                       });
  });
  if (!status.ok()) return status;
  return checksum->finish();
}

absl::Status PostgresStateStore::putMetadata(const ModuleKey& key, const AgentMetadata& metadata) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string indices = encodeNames(metadata.indices);
  const std::string version = pg::int8(static_cast<int64_t>(metadata.global_version));
  return transaction([&](pg::Connection& conn) {
    return conn
        .exec(
            "INSERT INTO asp.module (agent, module, metadata_mode, metadata_indices, "
            "metadata_global_version) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent, module) "
            "DO UPDATE SET metadata_mode = EXCLUDED.metadata_mode, metadata_indices = "
            "EXCLUDED.metadata_indices, metadata_global_version = "
            "EXCLUDED.metadata_global_version",
            {{key.agent}, {key.module}, {metadata.mode}, {indices}, {version}})
        .status();
  });
}

absl::StatusOr<std::vector<ModuleSummary>> PostgresStateStore::modules() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModuleSummary> found;
  absl::Status status = read([&](pg::Connection& conn) {
    found.clear();
    // One row per (module, index); a module without documents has one row, idx NULL.
    return conn.stream(
        "SELECT m.agent, m.module, COALESCE(extract(epoch FROM m.applied_at)::bigint, 0), "
        "d.idx, count(d.id) FROM asp.module m LEFT JOIN asp.document d ON d.module_id = m.id "
        "GROUP BY m.id, d.idx ORDER BY m.agent, m.module, d.idx",
        {}, [&](const pg::Result& row) {
          ModuleKey key{std::string(row.value(0, 0)), std::string(row.value(0, 1))};
          if (found.empty() || !(found.back().key == key)) {
            found.push_back({std::move(key), pg::readInt8(row.value(0, 2)), {}});
          }
          if (!row.isNull(0, 3)) {
            found.back().documents[std::string(row.value(0, 3))] =
                static_cast<uint64_t>(pg::readInt8(row.value(0, 4)));
          }
          return absl::OkStatus();
        });
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<AgentMetadata> PostgresStateStore::metadata(const ModuleKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<AgentMetadata> found;
  absl::Status status = read([&](pg::Connection& conn) -> absl::Status {
    absl::StatusOr<pg::Result> row = conn.exec(
        "SELECT metadata_mode, metadata_indices, metadata_global_version FROM asp.module "
        "WHERE agent = $1 AND module = $2 AND metadata_mode IS NOT NULL",
        {{key.agent}, {key.module}}, true);
    if (!row.ok()) return row.status();
    if (row->rows() == 0) return absl::OkStatus();
    absl::StatusOr<std::vector<std::string>> indices = decodeNames(row->value(0, 1));
    if (!indices.ok()) {
      return absl::DataLossError(absl::StrCat("metadata of agent '", key.agent, "', module '",
                                              key.module, "': ", indices.status().message()));
    }
    found = AgentMetadata{std::string(row->value(0, 0)), *std::move(indices),
                          static_cast<uint64_t>(pg::readInt8(row->value(0, 2)))};
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!found.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no metadata for agent '", key.agent, "', module '", key.module, "'"));
  }
  return *std::move(found);
}

}  // namespace asp::manager
