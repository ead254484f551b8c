// The C interface's access to an established AgentSyncProtocol instance. Internal to
// //asp/established.
#ifndef ASP_ESTABLISHED_ACCESS_H_
#define ASP_ESTABLISHED_ACCESS_H_

#include <string>

#include "agent_sync_protocol.hpp"

struct AgentSyncProtocolAccess {
  // Logs `reason` at LOG_ERROR to the instance's logger and keeps it for lastError().
  static void fail(const AgentSyncProtocol& protocol, const std::string& reason);
};

#endif  // ASP_ESTABLISHED_ACCESS_H_
