// TcpConnectionMeter: the bytes one of this process's TCP connections carried, as the
// kernel counts them (TCP_INFO bytes_acked and bytes_received): what TLS, HTTP/2, gRPC
// framing and compression made of the payloads, without IP and TCP headers.
//
// gRPC owns its sockets and offers no public hook to them, so the meter finds the
// connection by its peer: the newest socket of this process (by descriptor number)
// connected to the manager's address and port. A socket that the process also accepted
// on that port (an in-process manager, in the demo) has another peer and is not taken.
// Each read checks the descriptor still joins the same two endpoints, so a descriptor
// reused after gRPC closed the connection is never read; the last counts are kept.
//
// Thread-compatible.
#ifndef ASP_RELAY_TCP_CONNECTION_METER_H_
#define ASP_RELAY_TCP_CONNECTION_METER_H_

#include <sys/socket.h>

#include <optional>
#include <string>

#include "asp/relay/manager_stream.h"

namespace asp::relay {

class TcpConnectionMeter {
 public:
  // The newest connection of this process to `manager` ("host:port", "[v6]:port"), or
  // nullopt when there is none (or the name does not resolve).
  static std::optional<TcpConnectionMeter> find(const std::string& manager);

  // The counts now; the last ones read once the connection is gone.
  WireBytes read();

 private:
  TcpConnectionMeter(int fd, const sockaddr_storage& local, const sockaddr_storage& peer);

  int fd_;
  sockaddr_storage local_;
  sockaddr_storage peer_;
  WireBytes last_;
};

// Splits "host:port" and "[v6 address]:port"; false when the form is not that or the port
// is not 1..65535.
bool splitHostPort(const std::string& address, std::string* host, int* port);

}  // namespace asp::relay

#endif  // ASP_RELAY_TCP_CONNECTION_METER_H_
