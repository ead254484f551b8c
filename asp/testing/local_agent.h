// Options for an agent that talks to a real reference manager over a local socket in a
// test. Answers come within milliseconds, so short waits and quick retries keep a
// failing test fast: `timeout` per wait, 5 resends, 50 ms initial backoff, no End delay.
#ifndef ASP_TESTING_LOCAL_AGENT_H_
#define ASP_TESTING_LOCAL_AGENT_H_

#include <string>

#include "absl/time/time.h"
#include "asp/core/agent_sync_protocol.h"

namespace asp::testing {

AgentSyncProtocol::Options localAgentOptions(const std::string& module,
                                             const std::string& database_path,
                                             const std::string& agent_id,
                                             absl::Duration timeout = absl::Seconds(2));

}  // namespace asp::testing

#endif  // ASP_TESTING_LOCAL_AGENT_H_
