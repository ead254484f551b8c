// DemoCrossing: asp_demo's way across hosts (docs/protocol.md §9), on loopback: a throwaway
// CA and certificates (written under <dir>/certs, to look at), the manager's relay
// endpoint feeding the demo manager's core over mutual TLS, and a relay owning the queue
// socket the module sends to. All in the demo's process; the TLS and the TCP are real.
#ifndef ASP_TOOLS_DEMO_CROSSING_H_
#define ASP_TOOLS_DEMO_CROSSING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "asp/manager/manager_core.h"
#include "asp/manager/relay_endpoint.h"
#include "asp/relay/relay.h"

namespace asp::tools {

class DemoCrossing {
 public:
  // Certificates for agent `agent`, the endpoint on 127.0.0.1 (a free port) feeding
  // `core` (through `filter`, the demo's faults; may be null), and a relay owning
  // `queue_path`, connected before this returns.
  static absl::StatusOr<std::unique_ptr<DemoCrossing>> start(const std::string& dir,
                                                             const std::string& agent,
                                                             const std::string& queue_path,
                                                             manager::ManagerCore* core,
                                                             manager::InboundFilter* filter);
  ~DemoCrossing();

  // TCP payload bytes the relay's connection has sent so far (the kernel's count).
  uint64_t wireBytesSent() const;
  // One line per part, for the demo's header.
  std::string description() const;

 private:
  DemoCrossing() = default;
  std::string certs_;
  std::unique_ptr<manager::RelayEndpoint> endpoint_;
  std::unique_ptr<relay::Relay> relay_;
};

}  // namespace asp::tools

#endif  // ASP_TOOLS_DEMO_CROSSING_H_
