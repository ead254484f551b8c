// Drift on the manager's side, for tests: documents put into or removed from a state
// store directly, as if the manager's copy had changed under the agent (the store's own
// apply(), one op each; the stores have no back door).
#ifndef ASP_TESTING_STATE_DRIFT_H_
#define ASP_TESTING_STATE_DRIFT_H_

#include <string>

#include "absl/status/status.h"
#include "asp/manager/state_store.h"

namespace asp::testing {

// Overwrites (or creates) one document of `key`'s `index`.
inline absl::Status putDocument(manager::StateStore& store, const manager::ModuleKey& key,
                                const std::string& index, const std::string& id,
                                const manager::Document& document) {
  manager::SessionUpdate update;
  update.ops.push_back(
      {manager::SessionUpdate::Op::Kind::kUpsert, index, id, document.data, document.version});
  return store.apply(key, std::move(update));
}

// Removes one document of `key`'s `index`.
inline absl::Status removeDocument(manager::StateStore& store, const manager::ModuleKey& key,
                                   const std::string& index, const std::string& id) {
  manager::SessionUpdate update;
  update.ops.push_back({manager::SessionUpdate::Op::Kind::kDelete, index, id, "", 0});
  return store.apply(key, std::move(update));
}

}  // namespace asp::testing

#endif  // ASP_TESTING_STATE_DRIFT_H_
