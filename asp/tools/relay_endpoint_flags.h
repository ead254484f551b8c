// The asp_manager flags of the relay binding's network endpoint (docs/protocol.md §9), kept
// out of asp_manager.cc: --relay_listen, --relay_cert, --relay_key, --relay_client_ca
// and the per-agent limits. See docs/deployment.md.
#ifndef ASP_TOOLS_RELAY_ENDPOINT_FLAGS_H_
#define ASP_TOOLS_RELAY_ENDPOINT_FLAGS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "asp/manager/manager_core.h"
#include "asp/manager/relay_endpoint.h"

namespace asp::tools {

// Starts the endpoint the flags describe, feeding `core`; nullptr when --relay_listen is
// empty (local socket only). Errors name the flag or file at fault. Routes gRPC's log
// lines (handshake refusals among them) to stderr as "asp_manager: relay endpoint: ...".
// `filter` (tests' faults; may be null) applies to what arrives through the endpoint.
absl::StatusOr<std::unique_ptr<manager::RelayEndpoint>> startRelayEndpointFromFlags(
    manager::ManagerCore* core, manager::InboundFilter* filter);

// "relay endpoint: streams 3, datagrams 120, ..." for the manager's closing line.
std::string relayEndpointSummary(const manager::RelayEndpoint& endpoint);

}  // namespace asp::tools

#endif  // ASP_TOOLS_RELAY_ENDPOINT_FLAGS_H_
