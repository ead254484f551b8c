// PostgresStateStore: the manager's state on a PostgreSQL server that several manager
// processes share (docs/protocol.md §9 "Managers scale out"). docs/manager.md describes the
// schema and why it is shaped so.
//
//  - The schema (PostgreSQL schema `asp`) is created by the first manager that opens an
//    empty database and carries a version (asp.schema_version); a version this code does
//    not know is refused with an error naming it, never altered.
//  - apply() runs one transaction: it locks the (agent, module) row (so sessions of one
//    agent and module are serialized across processes) and reduces the session to its
//    net changes. Upserts into indices that hold nothing of the module (a first sync, a
//    FULL) are COPYed straight into asp.document; the rest are COPYed into a temporary
//    staging table and merged with one DELETE and one INSERT ... ON CONFLICT. A session
//    larger than Options::memory_budget_bytes is not held whole: its ops stream into the
//    staging table as the OpSource hands them out and SQL reduces them. apply() returns
//    OK only after COMMIT succeeded.
//  - Each document keeps the SHA-1 of its data (binary, 20 bytes), indexed with its
//    index, so checksum() is one ordered read streamed into the §5.1 digest.
//  - Options::statement_timeout bounds every statement (SET statement_timeout on each
//    connection): a server stuck on a lock or overloaded fails a call instead of hanging
//    it.
//  - A broken connection (server restarted, network cut) is an error status; the next
//    call connects again. A call whose very first statement finds the connection broken
//    reconnects and runs once more at once: nothing of it had reached the server.
//
// Thread-safe: one connection, calls serialized.
#ifndef ASP_MANAGER_POSTGRES_STATE_STORE_H_
#define ASP_MANAGER_POSTGRES_STATE_STORE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asp/manager/postgres_connection.h"
#include "asp/manager/state_store.h"

namespace asp::manager {

class PostgresStateStore final : public StateStore {
 public:
  static constexpr int kSchemaVersion = 1;

  struct Options {
    // A session whose ops take more memory than this is not read whole: it streams into
    // the staging table and is reduced there (slower, bounded memory).
    size_t memory_budget_bytes = 64 << 20;
    // Longest any one statement may run on the server, waits for another manager's lock
    // included; a statement past it is cancelled and its call fails (the session is
    // answered ERROR and sent again later) instead of holding the manager's sessions.
    // Zero: no limit (the server's setting).
    absl::Duration statement_timeout = absl::ZeroDuration();
  };

  // Connects to `uri` (e.g. postgresql:///asp?host=/run/postgresql) and creates or checks
  // the schema. FailedPrecondition for a schema version it does not know; Unavailable
  // when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<PostgresStateStore>> open(const std::string& uri,
                                                                  Options options);
  static absl::StatusOr<std::unique_ptr<PostgresStateStore>> open(const std::string& uri) {
    return open(uri, Options());
  }

  using StateStore::apply;
  absl::Status apply(const ModuleKey& key, const std::vector<std::string>& replaced_indices,
                     OpSource& ops) override;
  absl::StatusOr<IndexState> documents(const ModuleKey& key, const std::string& index) override;
  absl::StatusOr<std::vector<std::string>> indices(const ModuleKey& key) override;
  absl::StatusOr<std::string> checksum(const ModuleKey& key, const std::string& index) override;
  absl::Status putMetadata(const ModuleKey& key, const AgentMetadata& metadata) override;
  absl::StatusOr<AgentMetadata> metadata(const ModuleKey& key) override;
  absl::StatusOr<std::vector<ModuleSummary>> modules() override;
  // "database 'asp' on /run/postgresql" (never a password), for messages.
  const std::string& description() const { return description_; }

 private:
  PostgresStateStore(std::string uri, Options options) : uri_(std::move(uri)), options_(options) {}

  // A usable connection: the current one, or a new one (with its staging table).
  absl::StatusOr<pg::Connection*> connection();
  // Runs `work` in a transaction (BEGIN ... COMMIT; ROLLBACK on failure). A BEGIN that
  // finds the connection broken is retried once on a new connection.
  absl::Status transaction(const std::function<absl::Status(pg::Connection&)>& work);
  // Runs a read; retried once on a new connection when the connection was broken.
  absl::Status read(const std::function<absl::Status(pg::Connection&)>& work);

  const std::string uri_;
  const Options options_;
  std::string description_;
  std::mutex mu_;
  std::unique_ptr<pg::Connection> conn_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_POSTGRES_STATE_STORE_H_
