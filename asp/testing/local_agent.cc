#include "asp/testing/local_agent.h"

namespace asp::testing {

AgentSyncProtocol::Options localAgentOptions(const std::string& module,
                                             const std::string& database_path,
                                             const std::string& agent_id, absl::Duration timeout) {
  AgentSyncProtocol::Options o;
  o.module = module;
  o.database_path = database_path;
  o.session.timeout = timeout;
  o.session.retries = 5;
  o.session.backoff.initial = absl::Milliseconds(50);
  o.session.sync_end_delay = absl::ZeroDuration();
  o.agent_info = [agent_id] {
    AgentInfo info;
    info.id = agent_id;
    info.groups = {"default"};  // group sessions wait for groups
    return info;
  };
  return o;
}

}  // namespace asp::testing
