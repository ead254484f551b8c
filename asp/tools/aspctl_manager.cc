// aspctl manager agents|documents|checksum: what a reference manager holds, read from its
// store: the SQLite file under --state_dir or the PostgreSQL database --state_uri names
// (several managers share it). Only reads.
#include <unistd.h>

#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asp/base/checksum.h"
#include "asp/base/text.h"
#include "asp/manager/postgres_state_store.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/tools/aspctl_commands.h"
#include "asp/tools/jsonl.h"
#include "nlohmann/json.hpp"

namespace asp::tools::aspctl {
namespace {

// The store the flags name: exactly one of --state_dir and --state_uri.
absl::StatusOr<std::unique_ptr<manager::StateStore>> openManagerStore() {
  const std::string dir = userPath(absl::GetFlag(FLAGS_state_dir));
  const std::string uri = absl::GetFlag(FLAGS_state_uri);
  if (dir.empty() == uri.empty()) {
    return absl::InvalidArgumentError(
        "exactly one of --state_dir (SQLite) and --state_uri (PostgreSQL) is required");
  }
  if (!uri.empty()) {
    auto store = manager::PostgresStateStore::open(uri);
    if (!store.ok()) return store.status();
    return std::unique_ptr<manager::StateStore>(*std::move(store));
  }
  const std::string path = dir + "/state.db";
  if (access(path.c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("no manager state in ", quoteValue(dir), " (",
                                            quoteValue(path), " does not exist)"));
  }
  auto store = manager::SqliteStateStore::open(path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<manager::StateStore>(*std::move(store));
}

// Exit code for a store that cannot be opened: a flag mix-up is a usage error.
int storeError(const absl::Status& status) {
  return error(status.code() == absl::StatusCode::kInvalidArgument ? kUsage : kStorage,
               status.message());
}

// The indices to read of `key`'s module: --index, or every one it holds.
absl::StatusOr<std::set<std::string>> indicesToRead(manager::StateStore& store,
                                                    const manager::ModuleKey& key) {
  std::set<std::string> indices = indexFilter();
  if (!indices.empty()) return indices;
  auto held = store.indices(key);
  if (!held.ok()) return held.status();
  return std::set<std::string>(held->begin(), held->end());
}

std::string lastSync(int64_t unix_seconds) {
  if (unix_seconds == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

}  // namespace

int managerAgents() {
  auto store = openManagerStore();
  if (!store.ok()) return storeError(store.status());
  auto modules = (*store)->modules();
  if (!modules.ok()) return error(kStorage, modules.status().message());
  for (const manager::ModuleSummary& m : *modules) {
    nlohmann::ordered_json line = {{"agent", m.key.agent},
                                   {"module", m.key.module},
                                   {"last_sync", lastSync(m.last_applied_unix)},
                                   {"documents", m.documents}};
    std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return kOk;
}

// Opens the store the flags name and hands `each` every index to read of the flags' agent
// and module, in order; stops at the first exit code that is not kOk and returns it.
int forEachIndexToRead(
    const std::function<int(manager::StateStore& store, const manager::ModuleKey& key,
                            const std::string& index)>& each) {
  auto store = openManagerStore();
  if (!store.ok()) return storeError(store.status());
  const manager::ModuleKey key{absl::GetFlag(FLAGS_agent_id), absl::GetFlag(FLAGS_module)};
  auto indices = indicesToRead(**store, key);
  if (!indices.ok()) return error(kStorage, indices.status().message());
  for (const std::string& index : *indices) {
    if (const int code = each(**store, key, index); code != kOk) return code;
  }
  return kOk;
}

int managerDocuments() {
  return forEachIndexToRead([](manager::StateStore& store, const manager::ModuleKey& key,
                               const std::string& index) {
    auto state = store.documents(key, index);
    if (!state.ok()) return error(kStorage, state.status().message());
    const std::map<std::string, manager::Document> sorted(state->begin(), state->end());
    for (const auto& [id, document] : sorted) {
      absl::StatusOr<std::string> line =
          formatChangeLine(Change{id, index, Operation::kModify, document.data, document.version});
      if (!line.ok()) return error(kStorage, line.status().message());
      std::cout << *line << "\n";
    }
    return int{kOk};
  });
}

// The same lines as `aspctl checksum` over the documents, so an agent's and a manager's
// copies compare with diff.
int managerChecksum() {
  const bool bare = indexFilter().size() == 1;
  return forEachIndexToRead(
      [bare](manager::StateStore& store, const manager::ModuleKey& key, const std::string& index) {
        auto sum = store.checksum(key, index);
        if (!sum.ok()) return error(kStorage, sum.status().message());
        if (bare) {
          std::cout << *sum << "\n";
          return int{kOk};
        }
        auto state = store.documents(key, index);
        if (!state.ok()) return error(kStorage, state.status().message());
        std::cout << *sum << "  " << index << "  " << state->size() << " documents\n";
        return int{kOk};
      });
}

}  // namespace asp::tools::aspctl
