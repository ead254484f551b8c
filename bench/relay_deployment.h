// RelayDeployment: agents wired to the reference manager across the relay binding, all
// in this process, for //bench:relay_bench (docs/protocol.md §9):
//
//   AgentSyncProtocol -> UnixDatagramTransport -> asp::relay::Relay (its queue socket)
//     -> gRPC, mutual TLS 1.3, gzip, loopback TCP -> asp::manager::RelayEndpoint
//     -> ManagerCore -> InMemoryStateStore
//
// Certificates come from a throwaway CA made at start(). The manager side can also run
// without a relay in this process (startManagerOnly()), for a relay in another process.
//
// Not thread-safe: one thread drives it (the relay, the endpoint and the transports
// run their own).
#ifndef BENCH_RELAY_DEPLOYMENT_H_
#define BENCH_RELAY_DEPLOYMENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/manager/manager_core.h"
#include "asp/manager/relay_endpoint.h"
#include "asp/manager/state_store.h"
#include "asp/relay/relay.h"
#include "asp/tls/tls_files.h"
#include "asp/transport/unix_datagram_transport.h"

namespace asp::bench {

// The TLS material of one manager and one relay (agent "001"), from a throwaway CA.
struct BenchCertificates {
  tls::TlsMaterial manager;
  tls::TlsMaterial relay;
};
absl::StatusOr<BenchCertificates> makeBenchCertificates();

// The manager's side: core, store and endpoint on 127.0.0.1 (a free port).
class BenchManager {
 public:
  static absl::StatusOr<std::unique_ptr<BenchManager>> start(const tls::TlsMaterial& tls);
  ~BenchManager();
  int port() const { return endpoint_->port(); }
  manager::InMemoryStateStore& store() { return store_; }
  manager::ManagerCore& core() { return *core_; }

 private:
  BenchManager() = default;
  manager::InMemoryStateStore store_;
  std::unique_ptr<manager::ManagerCore> core_;
  std::unique_ptr<manager::RelayEndpoint> endpoint_;
};

// A relay owning `socket_path`, to the manager at 127.0.0.1:`port`; returns once its
// stream is open.
absl::StatusOr<std::unique_ptr<relay::Relay>> startBenchRelay(const tls::TlsMaterial& tls,
                                                              const std::string& socket_path,
                                                              int port);

// A module synchronizing through the queue socket at `socket_path`.
class BenchAgent {
 public:
  static absl::StatusOr<std::unique_ptr<BenchAgent>> open(const std::string& module,
                                                          const std::string& queue_path,
                                                          const std::string& socket_path);
  ~BenchAgent();
  AgentSyncProtocol& protocol() { return *protocol_; }

 private:
  BenchAgent() = default;
  std::unique_ptr<UnixDatagramTransport> socket_;
  std::unique_ptr<AgentSyncProtocol> protocol_;
};

// OK when `store` holds, for agent "001" and `module`, exactly the FIM documents
// fimChange(first .. first + count - 1): the count, and ten compared field by field.
absl::Status verifyFimDelivered(manager::InMemoryStateStore& store, const std::string& module,
                                uint64_t first, uint64_t count);

}  // namespace asp::bench

#endif  // BENCH_RELAY_DEPLOYMENT_H_
