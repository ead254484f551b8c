// Options for an agent that talks to a real reference manager over a local socket in a
// test. Answers come within milliseconds, so short waits and quick retries keep a
// failing test fast: `timeout` per wait, 5 resends, 50 ms initial backoff, no End delay.
#ifndef ASP_TESTING_LOCAL_AGENT_H_
#define ASP_TESTING_LOCAL_AGENT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/manager/state_store.h"

namespace asp::testing {

AgentSyncProtocol::Options localAgentOptions(const std::string& module,
                                             const std::string& database_path,
                                             const std::string& agent_id,
                                             absl::Duration timeout = absl::Seconds(2));

// What a file-integrity module records in end-to-end tests: `count` modified files
// "/srv/file-<i>" of `index` at `revision`, each persisted through `protocol` and noted
// in *expected, the state the manager must end up holding.
absl::Status recordFiles(AgentSyncProtocol& protocol, const std::string& index, int count,
                         int revision, manager::IndexState* expected);

// The changes pending in `protocol`'s queue, over every index (0 if it cannot tell).
uint64_t pendingChanges(AgentSyncProtocol& protocol);

}  // namespace asp::testing

#endif  // ASP_TESTING_LOCAL_AGENT_H_
