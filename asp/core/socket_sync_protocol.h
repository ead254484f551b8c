// SocketSyncProtocol: an AgentSyncProtocol on the built-in Unix-datagram MQueue, wired:
// the transport's answers go to parseResponseBuffer(), and destruction takes them apart
// in a safe order (answers stopped, then the protocol, then the socket). What most
// C++ modules need in one call:
//
//   auto asp = asp::SocketSyncProtocol::create(options, "/var/ossec/queue/sockets/queue");
//   (*asp)->protocol().persistDifference(...);
//
// `options.transport` is filled in; leave it null. Thread-safety: as AgentSyncProtocol.
#ifndef ASP_CORE_SOCKET_SYNC_PROTOCOL_H_
#define ASP_CORE_SOCKET_SYNC_PROTOCOL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/transport/unix_datagram_transport.h"

namespace asp {

class SocketSyncProtocol {
 public:
  // Errors: those of UnixDatagramTransport::open and AgentSyncProtocol::create.
  static absl::StatusOr<std::unique_ptr<SocketSyncProtocol>> create(
      AgentSyncProtocol::Options options, const std::string& queue_path,
      absl::Duration send_timeout = absl::Seconds(5));
  ~SocketSyncProtocol();

  AgentSyncProtocol& protocol() { return *protocol_; }
  UnixDatagramTransport& transport() { return *transport_; }

 private:
  SocketSyncProtocol() = default;

  std::unique_ptr<UnixDatagramTransport> transport_;
  std::unique_ptr<AgentSyncProtocol> protocol_;
};

}  // namespace asp

#endif  // ASP_CORE_SOCKET_SYNC_PROTOCOL_H_
