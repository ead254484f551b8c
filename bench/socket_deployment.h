// SocketDeployment: an agent wired to the reference manager over a real Unix datagram
// socket, all in this process, for //bench:transport_bench.
//
// The manager is asp::manager::ManagerServer (its own thread) over a fresh
// InMemoryStateStore; the agent is AgentSyncProtocol on a queue file, sending through
// a TimingTransport around a UnixDatagramTransport whose receiver thread feeds the
// answers to parseResponseBuffer() and notes when the last one arrived. The agent is
// benchAgentInfo() (id "001"), module kModule, sync_end_delay 0, the system clock.
//
// Not thread-safe: one thread drives it (the manager and the transport run their own).
#ifndef BENCH_SOCKET_DEPLOYMENT_H_
#define BENCH_SOCKET_DEPLOYMENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/state_store.h"
#include "asp/testing/timing_transport.h"
#include "asp/transport/unix_datagram_transport.h"
#include "bench/sync_bench_support.h"

namespace asp::bench {

class SocketDeployment {
 public:
  // Starts a manager at `socket_path`, holding up to `manager_budget_bytes` of received
  // session data in memory (ManagerCore::Options::max_buffered_bytes; beyond it a
  // session spills to disk), and opens the agent's queue at `queue_path`.
  static absl::StatusOr<std::unique_ptr<SocketDeployment>> start(
      const std::string& socket_path, const std::string& queue_path,
      size_t manager_budget_bytes = manager::ManagerCore::Options().max_buffered_bytes);
  // Disconnects the answers first, then closes the agent, then stops the manager.
  ~SocketDeployment();
  SocketDeployment(const SocketDeployment&) = delete;
  SocketDeployment& operator=(const SocketDeployment&) = delete;

  AgentSyncProtocol& protocol() { return *protocol_; }
  testing::TimingTransport& timing() { return *timing_; }
  manager::ManagerServer& server() { return *server_; }
  manager::InMemoryStateStore& store() { return store_; }
  UnixDatagramTransport::Counters socketCounters() const { return socket_->counters(); }
  // When the latest answer reached parseResponseBuffer().
  SteadyClock::time_point lastAnswerAt() const {
    return SteadyClock::time_point(std::chrono::nanoseconds(answered_ns_.load()));
  }

  // OK if the manager holds, for this agent, exactly the `changes` documents
  // fillQueueFile() recorded: the count over every index, and ten documents compared
  // field by field (first, last, middle, and a spread in between).
  absl::Status verifyBacklogDelivered(uint64_t changes);

 private:
  SocketDeployment() = default;

  manager::InMemoryStateStore store_;
  std::unique_ptr<manager::ManagerServer> server_;
  std::unique_ptr<UnixDatagramTransport> socket_;
  std::unique_ptr<testing::TimingTransport> timing_;
  std::unique_ptr<AgentSyncProtocol> protocol_;
  std::atomic<int64_t> answered_ns_{0};
};

}  // namespace asp::bench

#endif  // BENCH_SOCKET_DEPLOYMENT_H_
