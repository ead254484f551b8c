#include "asp/testing/local_agent.h"

#include <vector>

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

absl::Status recordFiles(AgentSyncProtocol& protocol, const std::string& index, int count,
                         int revision, manager::IndexState* expected) {
  for (int i = 0; i < count; ++i) {
    const std::string id = "/srv/file-" + std::to_string(i);
    const std::string data =
        "{\"rev\":" + std::to_string(revision) + ",\"i\":" + std::to_string(i) + "}";
    if (absl::Status s = protocol.persistDifference(id, Operation::kModify, index, data, revision);
        !s.ok()) {
      return s;
    }
    (*expected)[id] = manager::Document{data, static_cast<uint64_t>(revision)};
  }
  return absl::OkStatus();
}

uint64_t pendingChanges(AgentSyncProtocol& protocol) {
  uint64_t n = 0;
  auto counts = protocol.queue().counts();
  for (const IndexCounts& c : counts.value_or(std::vector<IndexCounts>{})) n += c.pending;
  return n;
}

}  // namespace asp::testing
