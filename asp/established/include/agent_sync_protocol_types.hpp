// LoggerFunc, SyncResult and SyncModuleResult of the established C++ interface, with the
// established names. See docs/porting.md.
#ifndef ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_TYPES_HPP_
#define ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_TYPES_HPP_

#include <functional>
#include <string>

#include "agent_sync_protocol_c_interface_types.h"

using LoggerFunc = std::function<void(modules_log_level_t, const std::string&)>;

// The established result kinds (kept for source compatibility: no call returns them;
// SyncModuleResult::failureReason names ASP's code, docs/api-reference.md lists them).
enum class SyncResult {
  SUCCESS,
  COMMUNICATION_ERROR,
  CHECKSUM_ERROR,
  START_TIMEOUT_ERROR,
  END_TIMEOUT_ERROR,
  PROTOCOL_ERROR,
  NO_GROUPS_ERROR,
};

// The outcome of a session call.
struct SyncModuleResult {
  // The session completed, or there was nothing to send.
  bool success{false};
  // "<code name>: <message>" when it failed (e.g. "manager not ready: ..."), else "".
  std::string failureReason;
  // stop() was called: the failure is an expected shutdown.
  bool stopped{false};
  // The manager did not answer the Start, or answered OFFLINE (it cannot serve this agent
  // yet). With consecutiveFailures it tells a restart hiccup from a lasting outage.
  bool managerNotReady{false};
  // Failed calls in a row, this one included; 0 after a success. A stop leaves it alone.
  unsigned int consecutiveFailures{0};
};

#endif  // ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_TYPES_HPP_
