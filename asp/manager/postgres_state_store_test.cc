// What only the PostgreSQL store has to get right: its schema version, a server that
// goes away (stopped, restarted between and during applies: nothing acknowledged is
// lost, nothing unacknowledged half-applied), and several managers on one database
// (sessions of one agent and module serialized, others not held up).
#include "asp/manager/postgres_state_store.h"

#include <postgresql/libpq-fe.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "asp/testing/postgres_cluster.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

using testing::PostgresCluster;
using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;

const ModuleKey kFim{"001", "fim"};

// Runs `sql` on `conn`; the first value of the first row ("" when none), or "error: ...".
std::string query(PGconn* conn, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK) return "";
  if (status != PGRES_TUPLES_OK) return absl::StrCat("error: ", PQerrorMessage(conn));
  return PQntuples(result.get()) > 0 ? PQgetvalue(result.get(), 0, 0) : "";
}

SessionUpdate upserts(const std::string& prefix, int count, const std::string& index = "idx") {
  SessionUpdate update;
  for (int i = 0; i < count; ++i) {
    update.ops.push_back({SessionUpdate::Op::Kind::kUpsert, index, prefix + std::to_string(i),
                          prefix + " data " + std::to_string(i), 1});
  }
  return update;
}

class PostgresStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PostgresCluster*> cluster = PostgresCluster::shared();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *cluster;
    absl::StatusOr<std::string> uri = cluster_->createDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    if (!cluster_->running()) {
      ASSERT_TRUE(cluster_->start().ok()) << cluster_->log();
    }
  }

  std::unique_ptr<PostgresStateStore> open() {
    absl::StatusOr<std::unique_ptr<PostgresStateStore>> store = PostgresStateStore::open(uri_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  Connection connect() {
    Connection conn(PQconnectdb(uri_.c_str()), &PQfinish);
    EXPECT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
    return conn;
  }

  size_t held(PostgresStateStore& store, const ModuleKey& key = kFim) {
    absl::StatusOr<IndexState> documents = store.documents(key, "idx");
    EXPECT_TRUE(documents.ok()) << documents.status();
    return documents.ok() ? documents->size() : 0;
  }

  // Waits until some session of the database waits for a lock (an apply is blocked).
  void waitForALockWait(PGconn* observer) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (query(observer,
                 "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                 "'Lock' AND datname = current_database()") == "0") {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no apply ever waited";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  PostgresCluster* cluster_ = nullptr;
  std::string uri_;
  std::unique_ptr<PostgresStateStore> store_;
};

TEST_F(PostgresStateStoreTest, RefusesASchemaVersionItDoesNotKnowAndLeavesItAlone) {
  Connection conn = connect();
  ASSERT_EQ(query(conn.get(), "UPDATE asp.schema_version SET version = 7"), "");
  absl::Status refused = PostgresStateStore::open(uri_).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("schema version 7"), absl::string_view::npos) << refused;
  EXPECT_NE(refused.message().find("knows version 1"), absl::string_view::npos) << refused;
  EXPECT_EQ(query(conn.get(), "SELECT version FROM asp.schema_version"), "7");
}

TEST_F(PostgresStateStoreTest, ManagersStartingTogetherOnAnEmptyDatabaseShareOneSchema) {
  absl::StatusOr<std::string> empty = cluster_->createDatabase();
  ASSERT_TRUE(empty.ok());
  std::vector<std::future<absl::Status>> starts;
  for (int i = 0; i < 4; ++i) {
    starts.push_back(
        std::async(std::launch::async, [&] { return PostgresStateStore::open(*empty).status(); }));
  }
  for (auto& start : starts) EXPECT_TRUE(start.get().ok());
}

TEST_F(PostgresStateStoreTest, AnUnreachableServerIsAnErrorNamingIt) {
  absl::Status status =
      PostgresStateStore::open("postgresql:///asp?host=/nonexistent-dir&connect_timeout=2")
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("/nonexistent-dir"), absl::string_view::npos) << status;
}

TEST_F(PostgresStateStoreTest, AServerRestartedBetweenAppliesLosesNothingAndIsReconnected) {
  ASSERT_TRUE(store_->apply(kFim, upserts("before-", 50)).ok());
  ASSERT_TRUE(cluster_->restart().ok()) << cluster_->log();
  absl::Status after = store_->apply(kFim, upserts("after-", 50));
  EXPECT_TRUE(after.ok()) << "the first statement found the connection cut: reconnected, "
                             "applied: "
                          << after;
  ASSERT_TRUE(cluster_->restart(PostgresCluster::StopMode::kImmediate).ok()) << cluster_->log();
  EXPECT_EQ(held(*store_), 100u) << "both acknowledged sessions survive a crash of the server";
  EXPECT_TRUE(store_->checksum(kFim, "idx").ok());
}

TEST_F(PostgresStateStoreTest, AStoppedServerIsAnErrorAndTheStoreRecoversWhenItIsBack) {
  ASSERT_TRUE(store_->apply(kFim, upserts("kept-", 10)).ok());
  ASSERT_TRUE(cluster_->stop().ok());
  absl::Status apply = store_->apply(kFim, upserts("lost-", 10));
  EXPECT_EQ(apply.code(), absl::StatusCode::kUnavailable) << apply;
  EXPECT_EQ(store_->checksum(kFim, "idx").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->putMetadata(kFim, {"MODE_GROUP_DELTA", {}, 1}).code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(cluster_->start().ok()) << cluster_->log();
  EXPECT_EQ(held(*store_), 10u) << "only what was acknowledged";
  EXPECT_TRUE(store_->apply(kFim, upserts("again-", 10)).ok());
  EXPECT_EQ(held(*store_), 20u);
}

TEST_F(PostgresStateStoreTest, AServerCrashDuringAnApplyLeavesNoneOfItAndTheNextApplyWorks) {
  ASSERT_TRUE(store_->apply(kFim, upserts("acknowledged-", 20)).ok());
  // Another manager holds this agent and module mid-session: our apply waits on it...
  Connection other = connect();
  ASSERT_EQ(query(other.get(), "BEGIN"), "");
  ASSERT_EQ(query(other.get(), "SELECT id FROM asp.module FOR UPDATE").rfind("error", 0),
            std::string::npos);
  std::future<absl::Status> apply = std::async(std::launch::async, [&] {
    SessionUpdate update = upserts("in-flight-", 5000);
    update.replaced_indices = {"idx"};
    return store_->apply(kFim, std::move(update));
  });
  Connection observer = connect();
  waitForALockWait(observer.get());
  // ... when the server crashes under both.
  ASSERT_TRUE(cluster_->stop(PostgresCluster::StopMode::kImmediate).ok());
  const absl::Status status = apply.get();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  ASSERT_TRUE(cluster_->start().ok()) << cluster_->log();

  absl::StatusOr<IndexState> documents = store_->documents(kFim, "idx");
  ASSERT_TRUE(documents.ok()) << documents.status();
  EXPECT_EQ(documents->size(), 20u) << "the failed FULL left nothing behind, removed nothing";
  EXPECT_EQ(documents->count("acknowledged-0"), 1u);
  EXPECT_TRUE(store_->apply(kFim, upserts("next-", 5)).ok());
  EXPECT_EQ(held(*store_), 25u);
}

TEST_F(PostgresStateStoreTest, SessionsOfOneAgentAndModuleWaitForEachOtherAcrossManagers) {
  std::unique_ptr<PostgresStateStore> second_manager = open();
  ASSERT_TRUE(store_->apply(kFim, upserts("a-", 1)).ok());
  ASSERT_TRUE(second_manager->apply({"001", "sca"}, upserts("s-", 1)).ok());
  Connection first_manager_mid_session = connect();
  ASSERT_EQ(query(first_manager_mid_session.get(), "BEGIN"), "");
  ASSERT_EQ(query(first_manager_mid_session.get(),
                  "SELECT id FROM asp.module WHERE module = 'fim'::bytea FOR UPDATE")
                .rfind("error", 0),
            std::string::npos);

  std::atomic<bool> applied{false};
  std::future<absl::Status> same_module = std::async(std::launch::async, [&] {
    absl::Status s = second_manager->apply(kFim, upserts("b-", 1));
    applied = true;
    return s;
  });
  Connection observer = connect();
  waitForALockWait(observer.get());
  std::unique_ptr<PostgresStateStore> third_manager = open();
  EXPECT_TRUE(third_manager->apply({"001", "sca"}, upserts("t-", 1)).ok())
      << "another module of the same agent is not held up";
  EXPECT_FALSE(applied) << "fim's session waits for the one in progress";

  ASSERT_EQ(query(first_manager_mid_session.get(), "COMMIT"), "");
  EXPECT_TRUE(same_module.get().ok());
  EXPECT_EQ(held(*store_), 2u);
}

TEST_F(PostgresStateStoreTest, FullsFromTwoManagersNeverMix) {
  std::unique_ptr<PostgresStateStore> second_manager = open();
  constexpr int kSessions = 12, kDocuments = 100;
  auto run = [](PostgresStateStore* store, const std::string& name) {
    for (int s = 0; s < kSessions; ++s) {
      SessionUpdate full = upserts(absl::StrCat(name, "-", s, "-"), kDocuments);
      full.replaced_indices = {"idx"};
      if (absl::Status status = store->apply(kFim, std::move(full)); !status.ok()) return status;
    }
    return absl::OkStatus();
  };
  std::future<absl::Status> first = std::async(std::launch::async, run, store_.get(), "one");
  std::future<absl::Status> second =
      std::async(std::launch::async, run, second_manager.get(), "two");
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(second.get().ok());

  absl::StatusOr<IndexState> documents = store_->documents(kFim, "idx");
  ASSERT_TRUE(documents.ok()) << documents.status();
  ASSERT_EQ(documents->size(), static_cast<size_t>(kDocuments)) << "exactly one FULL's documents";
  const std::string session =
      documents->begin()->first.substr(0, documents->begin()->first.rfind('-'));
  for (const auto& [id, document] : *documents) {
    EXPECT_EQ(id.substr(0, id.rfind('-')), session) << "documents of two FULLs mixed";
  }
}

}  // namespace
}  // namespace asp::manager

namespace asp::manager {
namespace {

// A manager whose statement waits too long (here on another manager's lock, as on a stuck
// server) fails that session instead of hanging, changes nothing, and works again after.
TEST_F(PostgresStateStoreTest, AStatementPastTheTimeoutFailsTheApplyInsteadOfHangingIt) {
  PostgresStateStore::Options options;
  options.statement_timeout = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<PostgresStateStore>> bounded =
      PostgresStateStore::open(uri_, options);
  ASSERT_TRUE(bounded.ok()) << bounded.status();
  ASSERT_TRUE(store_->apply(kFim, upserts("a-", 1)).ok());
  Connection holder = connect();
  ASSERT_EQ(query(holder.get(), "BEGIN"), "");
  ASSERT_EQ(query(holder.get(), "SELECT id FROM asp.module WHERE module = 'fim'::bytea FOR UPDATE")
                .rfind("error", 0),
            std::string::npos);

  const auto started = std::chrono::steady_clock::now();
  absl::Status stuck = (*bounded)->apply(kFim, upserts("b-", 1));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(stuck.ok());
  EXPECT_NE(stuck.message().find("statement timeout"), absl::string_view::npos) << stuck;
  EXPECT_LT(waited, std::chrono::seconds(5));

  ASSERT_EQ(query(holder.get(), "COMMIT"), "");
  EXPECT_EQ(held(*store_), 1u) << "nothing of the failed session was applied";
  EXPECT_TRUE((*bounded)->apply(kFim, upserts("b-", 1)).ok()) << "the same store works again";
  EXPECT_EQ(held(*store_), 2u);
}

}  // namespace
}  // namespace asp::manager
