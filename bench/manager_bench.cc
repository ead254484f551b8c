// //bench:manager_bench: the manager's state stores applying sessions, against plain
// writes of the same rows into the same tables (store level: no sockets, no protocol).
//
//   ./bazelw run -c opt //bench:manager_bench [-- --changes=N]
//
// Each round applies one DELTA session of N new documents (200 bytes of data each, 8
// indices) in one call of StateStore::apply(), and measures changes per second, wall
// clock, against a plain program writing the same rows:
//   1. PostgresStateStore::apply, a first sync (the agent's indices hold nothing: the
//      rows are COPYed straight in) vs a plain binary COPY of the same rows (SHA-1s
//      computed, as the rows must carry them) into the same asp.document table, one
//      transaction                                                                >= 0.5
//   2. the same into indices that already hold documents of the agent (the rows go
//      through the staging table and the INSERT ... ON CONFLICT merge)             >= 0.5
//   3. the same as 2 for a session over the store's memory budget (set to 0 here): the
//      ops stream into the staging table and SQL reduces them                     >= 0.5
//   4. SqliteStateStore::apply vs the same rows INSERTed by one prepared statement in
//      one transaction into the same table of the same file                      >= 0.5
// The PostgreSQL server is a throwaway cluster this program starts (as the tests do:
// Debian's binaries, Unix socket, fsync off), so both sides pay the same commit cost and
// the ratio is the price of the store's own work: reducing the session to its net
// changes, the staging table, the merge, the (agent, module) row lock. Rounds alternate
// baseline and store, so drift on a shared machine spreads over both; the summary takes
// medians. The exit status does not depend on the verdicts (docs/performance.md).
#include <openssl/sha.h>
#include <sqlite3.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "asp/base/checksum.h"
#include "asp/manager/postgres_connection.h"
#include "asp/manager/postgres_state_store.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/testing/postgres_cluster.h"
#include "bench/comparison_reporter.h"
#include "bench/storage_bench_support.h"
#include "bench/sync_bench_support.h"
#include "benchmark/benchmark.h"

namespace asp::bench {
namespace {

constexpr int kRounds = 5;
constexpr uint64_t kDefaultChanges = 100000;
constexpr double kTargetRatio = 0.5;

constexpr char kPostgresPlain[] = "1_postgres_first_sync/plain_copy";
constexpr char kPostgresStore[] = "1_postgres_first_sync/store_apply";
constexpr char kPostgresSeededPlain[] = "2_postgres_into_held_indices/plain_copy";
constexpr char kPostgresSeededStore[] = "2_postgres_into_held_indices/store_apply";
constexpr char kPostgresStreamedPlain[] = "3_postgres_streamed/plain_copy";
constexpr char kPostgresStreamedStore[] = "3_postgres_streamed/store_apply";
constexpr char kSqlitePlain[] = "4_sqlite/plain_inserts_in_1_txn";
constexpr char kSqliteStore[] = "4_sqlite/store_apply";

struct Context {
  uint64_t changes = 0;
  std::string postgres_uri;
  manager::PostgresStateStore* postgres = nullptr;
  manager::PostgresStateStore* postgres_streaming = nullptr;  // memory budget 0
  std::string sqlite_path;
  manager::SqliteStateStore* sqlite = nullptr;
};

// The session of `changes` new documents of agent `agent`: the rows both sides write.
manager::SessionUpdate session(uint64_t changes) {
  manager::SessionUpdate update;
  update.ops.reserve(changes);
  Change change;
  for (uint64_t n = 0; n < changes; ++n) {
    fillChange("doc-", n, &change);
    update.ops.push_back({manager::SessionUpdate::Op::Kind::kUpsert, change.index, change.id,
                          change.data, change.version});
  }
  return update;
}

std::string rawSha1(absl::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

// A fresh agent per benchmark run: every session writes new documents.
std::string agentOf(const char* side, const benchmark::State& state) {
  static int runs = 0;
  return absl::StrCat(side, "-round-", state.range(0), "-", ++runs);
}

void finish(benchmark::State& state, const Context& context, SteadyClock::time_point start) {
  state.SetIterationTime(secondsBetween(start, SteadyClock::now()));
  state.SetItemsProcessed(static_cast<int64_t>(context.changes));
}

// ---- 1: PostgreSQL ----

void postgresPlainCopy(benchmark::State& state, Context* context) {
  absl::StatusOr<std::unique_ptr<manager::pg::Connection>> conn =
      manager::pg::Connection::connect(context->postgres_uri);
  if (!conn.ok()) return state.SkipWithError(std::string(conn.status().message()).c_str());
  absl::StatusOr<manager::pg::Result> module =
      (*conn)->exec("INSERT INTO asp.module (agent, module) VALUES ($1, 'fim') RETURNING id",
                    {{agentOf("plain", state)}}, true);
  if (!module.ok()) return state.SkipWithError(std::string(module.status().message()).c_str());
  const int64_t module_id = manager::pg::readInt8(module->value(0, 0));
  const manager::SessionUpdate update = session(context->changes);
  for (auto _ : state) {
    const auto start = SteadyClock::now();
    absl::Status status = (*conn)->exec("BEGIN").status();
    if (status.ok()) {
      status = (*conn)->copyIn(
          "COPY asp.document (module_id, idx, id, version, checksum, data) FROM STDIN "
          "(FORMAT binary)",
          [&](const std::function<absl::Status(absl::string_view)>& sink) -> absl::Status {
            using W = manager::pg::BinaryCopyWriter;
            std::string buffer;
            W::header(&buffer);
            for (const manager::SessionUpdate::Op& op : update.ops) {
              W::tupleStart(6, &buffer);
              W::int8Field(module_id, &buffer);
              W::field(op.index, &buffer);
              W::field(op.id, &buffer);
              W::int8Field(static_cast<int64_t>(op.version), &buffer);
              W::field(rawSha1(op.data), &buffer);
              W::field(op.data, &buffer);
              if (buffer.size() >= (1 << 20)) {
                if (absl::Status s = sink(buffer); !s.ok()) return s;
                buffer.clear();
              }
            }
            W::trailer(&buffer);
            return sink(buffer);
          });
    }
    if (status.ok()) status = (*conn)->exec("COMMIT").status();
    if (!status.ok()) return state.SkipWithError(std::string(status.message()).c_str());
    finish(state, *context, start);
  }
}

// `seeded`: the agent's indices already hold a document each, so the session merges
// through the staging table; otherwise it is a first sync, COPYed straight in.
void postgresStoreApply(benchmark::State& state, Context* context, bool seeded, bool streaming) {
  manager::PostgresStateStore* store = streaming ? context->postgres_streaming : context->postgres;
  const manager::ModuleKey key{agentOf(seeded ? "store-seeded" : "store", state), "fim"};
  if (seeded) {
    manager::SessionUpdate seed = session(8);
    for (manager::SessionUpdate::Op& op : seed.ops) op.id = "seed-" + op.id;
    if (absl::Status s = store->apply(key, std::move(seed)); !s.ok()) {
      return state.SkipWithError(std::string(s.message()).c_str());
    }
  }
  for (auto _ : state) {
    manager::SessionUpdate update = session(context->changes);
    const auto start = SteadyClock::now();
    absl::Status status = store->apply(key, std::move(update));
    if (!status.ok()) return state.SkipWithError(std::string(status.message()).c_str());
    finish(state, *context, start);
  }
}

// ---- 2: SQLite ----

// One SQLite call's failure as text.
std::string sqliteError(sqlite3* db, const char* action) {
  return absl::StrCat(action, ": ", sqlite3_errmsg(db));
}

void sqlitePlainInserts(benchmark::State& state, Context* context) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(context->sqlite_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) !=
      SQLITE_OK) {
    const std::string error = sqliteError(db, "open");
    sqlite3_close(db);
    return state.SkipWithError(error.c_str());
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> closer(db, &sqlite3_close);
  // The store's own pragmas: WAL is kept by the file, synchronous is per connection.
  if (sqlite3_exec(db, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return state.SkipWithError(sqliteError(db, "pragma").c_str());
  }
  const std::string agent = agentOf("plain", state);
  const manager::SessionUpdate update = session(context->changes);
  for (auto _ : state) {
    const auto start = SteadyClock::now();
    sqlite3_stmt* insert = nullptr;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO document VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
                           &insert, nullptr) != SQLITE_OK) {
      return state.SkipWithError(sqliteError(db, "begin").c_str());
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> finalizer(insert, &sqlite3_finalize);
    std::string checksum;
    for (const manager::SessionUpdate::Op& op : update.ops) {
      checksum = sha1Hex(op.data);
      sqlite3_bind_text(insert, 1, agent.data(), static_cast<int>(agent.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert, 2, "fim", 3, SQLITE_STATIC);
      sqlite3_bind_text(insert, 3, op.index.data(), static_cast<int>(op.index.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(insert, 4, op.id.data(), static_cast<int>(op.id.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert, 5, op.data.data(), static_cast<int>(op.data.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert, 6, static_cast<int64_t>(op.version));
      sqlite3_bind_text(insert, 7, checksum.data(), static_cast<int>(checksum.size()),
                        SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE)
        return state.SkipWithError(sqliteError(db, "insert").c_str());
      sqlite3_reset(insert);
    }
    finalizer.reset();
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return state.SkipWithError(sqliteError(db, "commit").c_str());
    }
    finish(state, *context, start);
  }
}

void sqliteStoreApply(benchmark::State& state, Context* context) {
  const manager::ModuleKey key{agentOf("store", state), "fim"};
  for (auto _ : state) {
    manager::SessionUpdate update = session(context->changes);
    const auto start = SteadyClock::now();
    absl::Status status = context->sqlite->apply(key, std::move(update));
    if (!status.ok()) return state.SkipWithError(std::string(status.message()).c_str());
    finish(state, *context, start);
  }
}

// ---- main ----

int run(int argc, char** argv) {
  Context context;
  context.changes = takeUintFlag("--changes=", kDefaultChanges, &argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  absl::StatusOr<std::unique_ptr<testing::PostgresCluster>> cluster =
      testing::PostgresCluster::create();
  if (!cluster.ok()) {
    std::cerr << "cannot start a PostgreSQL cluster: " << cluster.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::string> uri = (*cluster)->createDatabase();
  absl::StatusOr<std::unique_ptr<manager::PostgresStateStore>> postgres =
      uri.ok() ? manager::PostgresStateStore::open(*uri)
               : absl::StatusOr<std::unique_ptr<manager::PostgresStateStore>>(uri.status());
  absl::StatusOr<std::unique_ptr<ScratchDir>> scratch = ScratchDir::create("asp-manager-bench");
  if (!postgres.ok() || !scratch.ok()) {
    std::cerr << postgres.status() << " " << scratch.status() << "\n";
    return 1;
  }
  manager::PostgresStateStore::Options streaming;
  streaming.memory_budget_bytes = 0;
  absl::StatusOr<std::unique_ptr<manager::PostgresStateStore>> postgres_streaming =
      manager::PostgresStateStore::open(*uri, streaming);
  if (!postgres_streaming.ok()) {
    std::cerr << postgres_streaming.status() << "\n";
    return 1;
  }
  context.postgres_uri = *uri;
  context.postgres = postgres->get();
  context.postgres_streaming = postgres_streaming->get();
  context.sqlite_path = (*scratch)->newDbPath("manager-state");
  absl::StatusOr<std::unique_ptr<manager::SqliteStateStore>> sqlite =
      manager::SqliteStateStore::open(context.sqlite_path);
  if (!sqlite.ok()) {
    std::cerr << sqlite.status() << "\n";
    return 1;
  }
  context.sqlite = sqlite->get();
  std::cout << "PostgreSQL " << (*postgres)->description() << "; SQLite " << context.sqlite_path
            << "; " << context.changes << " changes per session" << std::endl;

  for (int round = 1; round <= kRounds; ++round) {
    registerSessionRound(kPostgresPlain, round, postgresPlainCopy, &context);
    registerSessionRound(kPostgresStore, round, postgresStoreApply, &context, false, false);
  }
  for (int round = 1; round <= kRounds; ++round) {
    registerSessionRound(kPostgresSeededPlain, round, postgresPlainCopy, &context);
    registerSessionRound(kPostgresSeededStore, round, postgresStoreApply, &context, true, false);
  }
  for (int round = 1; round <= kRounds; ++round) {
    registerSessionRound(kPostgresStreamedPlain, round, postgresPlainCopy, &context);
    registerSessionRound(kPostgresStreamedStore, round, postgresStoreApply, &context, true, true);
  }
  for (int round = 1; round <= kRounds; ++round) {
    registerSessionRound(kSqlitePlain, round, sqlitePlainInserts, &context);
    registerSessionRound(kSqliteStore, round, sqliteStoreApply, &context);
  }
  const std::vector<Comparison> comparisons = {
      {"1 PostgreSQL first sync vs plain COPY", kPostgresStore, kPostgresPlain, kTargetRatio},
      {"2 PostgreSQL into held indices vs plain COPY", kPostgresSeededStore, kPostgresSeededPlain,
       kTargetRatio},
      {"3 PostgreSQL streamed (over budget) vs COPY", kPostgresStreamedStore,
       kPostgresStreamedPlain, kTargetRatio},
      {"4 SQLite apply vs INSERTs in 1 txn", kSqliteStore, kSqlitePlain, kTargetRatio},
  };
  ComparisonReporter reporter(comparisons);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::cout << absl::StrFormat(
      "\n==== Summary: a DELTA session of %d new documents applied by the manager's store vs "
      "plain writes of the same rows into the same table ====\n",
      context.changes);
  std::cout << absl::StrFormat("%-48s %12s %12s %7s %14s %9s  %s\n",
                               "measure (medians over rounds)", "store", "plain", "ratio",
                               "[min .. max]", "target", "result");
  for (const Comparison& comparison : comparisons) {
    printSessionComparison(std::cout, comparison, reporter.outcome(comparison), 48);
  }
  return 0;
}

}  // namespace
}  // namespace asp::bench

int main(int argc, char** argv) { return asp::bench::run(argc, argv); }
