// SqliteStateStore: the reference manager's state in one SQLite file, so it survives
// the manager's own restarts. Each confirmed session is applied in one transaction.
// A file of an unknown schema version is refused (never replaced). Thread-safe.
#ifndef ASP_MANAGER_SQLITE_STATE_STORE_H_
#define ASP_MANAGER_SQLITE_STATE_STORE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "asp/manager/state_store.h"
#include "asp/storage/sqlite_db.h"

namespace asp::manager {

class SqliteStateStore final : public StateStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens (creating if needed) `path`.
  static absl::StatusOr<std::unique_ptr<SqliteStateStore>> open(const std::string& path);

  using StateStore::apply;
  absl::Status apply(const std::string& agent, const std::vector<std::string>& replaced_indices,
                     OpSource& ops) override;
  absl::StatusOr<IndexState> documents(const std::string& agent,
                                       const std::string& index) override;
  absl::StatusOr<std::vector<std::string>> indices(const std::string& agent) override;
  absl::StatusOr<std::string> checksum(const std::string& agent, const std::string& index) override;
  absl::Status putMetadata(const std::string& agent, const AgentMetadata& metadata) override;
  absl::StatusOr<AgentMetadata> metadata(const std::string& agent) override;

  // Test and demo hook: overwrite (or remove) one document, as damage would.
  absl::Status tamper(const std::string& agent, const std::string& index, const std::string& id,
                      const Document& document, bool remove = false);

 private:
  explicit SqliteStateStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
  absl::Status applyOp(const std::string& agent, const SessionUpdate::Op& op);

  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_SQLITE_STATE_STORE_H_
