// SqliteStateStore: the reference manager's state in one SQLite file, so it survives
// the manager's own restarts. Each confirmed session is applied in one transaction.
// State is kept per (agent, module, index) (schema version 2). A file of another
// schema version is refused (never replaced): version 1 files kept state per (agent,
// index) and cannot say which module a document came from (docs/manager.md). Thread-safe.
#ifndef ASP_MANAGER_SQLITE_STATE_STORE_H_
#define ASP_MANAGER_SQLITE_STATE_STORE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "asp/manager/state_store.h"
#include "asp/sqlite/sqlite_db.h"

namespace asp::manager {

class SqliteStateStore final : public StateStore {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens (creating if needed) `path`.
  static absl::StatusOr<std::unique_ptr<SqliteStateStore>> open(const std::string& path);

  using StateStore::apply;
  absl::Status apply(const ModuleKey& key, const std::vector<std::string>& replaced_indices,
                     OpSource& ops) override;
  absl::StatusOr<IndexState> documents(const ModuleKey& key, const std::string& index) override;
  absl::StatusOr<std::vector<std::string>> indices(const ModuleKey& key) override;
  absl::StatusOr<std::string> checksum(const ModuleKey& key, const std::string& index) override;
  absl::Status putMetadata(const ModuleKey& key, const AgentMetadata& metadata) override;
  absl::StatusOr<AgentMetadata> metadata(const ModuleKey& key) override;
  absl::StatusOr<std::vector<ModuleSummary>> modules() override;

 private:
  explicit SqliteStateStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
  absl::Status applyLocked(const ModuleKey& key, const std::vector<std::string>& replaced_indices,
                           OpSource& ops);

  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_SQLITE_STATE_STORE_H_
