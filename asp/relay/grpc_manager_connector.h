// GrpcManagerConnector: the relay binding's client side (docs/protocol.md §9): one gRPC
// Exchange stream per connection, over HTTP/2 with mutual TLS, messages gzip-compressed.
//
// Each connect() makes a fresh channel (one TCP connection, never shared with an older
// one), waits up to `connect_timeout` for it to be ready (TCP + TLS handshake), and opens
// the stream. Keepalive pings every `keepalive_time` notice a path that died silently.
// Failures are sentences a person can act on: "connection refused (no manager listens
// there)", "the manager's certificate does not verify against the CA in '<file>'", "the
// manager closed the connection during the TLS handshake: it refuses our certificate
// '<file>' (...)", "no connection within 10s".
//
// Thread-safe: connect() from one thread at a time; see ManagerStream for streams.
#ifndef ASP_RELAY_GRPC_MANAGER_CONNECTOR_H_
#define ASP_RELAY_GRPC_MANAGER_CONNECTOR_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "asp/relay/manager_stream.h"
#include "asp/tls/tls_files.h"

namespace grpc {
class ChannelCredentials;
}

namespace asp::relay {

class GrpcManagerConnector final : public ManagerConnector {
 public:
  struct Options {
    tls::TlsMaterial tls;     // our client certificate and key; the CA of managers
    std::string server_name;  // the name the manager's certificate must carry; "": the host dialled
    absl::Duration connect_timeout = absl::Seconds(10);
    absl::Duration keepalive_time = absl::Seconds(20);
    absl::Duration keepalive_timeout = absl::Seconds(10);
    // Wire bytes from the kernel (TcpConnectionMeter): right for a process with one
    // relay (asp_relay). Off where several relays share a process (tests/fleet): the
    // meter finds its connection by the manager's address and would take another's.
    bool measure_wire_bytes = true;
  };

  explicit GrpcManagerConnector(Options options);
  ~GrpcManagerConnector() override;

  absl::StatusOr<std::unique_ptr<ManagerStream>> connect(const std::string& manager) override;
  void interrupt() override;

 private:
  const Options options_;
  std::atomic<bool> interrupted_{false};
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
};

// The sentence for a connection that failed with gRPC's `message` (for a manager at
// `manager`, with the certificate and CA files of `tls`).
std::string describeConnectFailure(const std::string& manager, const std::string& message,
                                   const tls::TlsFilePaths& tls);

}  // namespace asp::relay

#endif  // ASP_RELAY_GRPC_MANAGER_CONNECTOR_H_
