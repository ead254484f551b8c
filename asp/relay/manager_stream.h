// The relay's view of one connection to a manager (docs/protocol.md §9): a stream of
// datagrams both ways, and how to open one. The real implementation is gRPC with mutual
// TLS (grpc_manager_connector.h); tests of the relay's own logic use an in-memory one.
#ifndef ASP_RELAY_MANAGER_STREAM_H_
#define ASP_RELAY_MANAGER_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace asp::relay {

// What a connection put on the wire and took from it: TLS records carrying HTTP/2
// frames carrying compressed messages (TCP payload; IP and TCP headers not counted).
struct WireBytes {
  uint64_t sent = 0;
  uint64_t received = 0;
};

// One write()r thread and one read()er thread may use a stream at the same time;
// cancel() may be called from any thread.
class ManagerStream {
 public:
  virtual ~ManagerStream() = default;

  // Sends one datagram; blocks while the network holds it back (flow control). False
  // when the stream is broken.
  virtual bool write(std::string payload) = 0;
  // The manager's next datagram; blocks. False when the stream has ended.
  virtual bool read(std::string* payload) = 0;
  // Ends the stream: write() and read() return false soon after.
  virtual void cancel() = 0;
  // Why the stream ended, once read() has returned false: a sentence naming the manager.
  virtual absl::Status finish() = 0;
  // Bytes on the wire so far (zeros when the implementation cannot tell). Callable from
  // any thread, also after the stream ended (the last counts).
  virtual WireBytes wireBytes() = 0;
};

class ManagerConnector {
 public:
  virtual ~ManagerConnector() = default;

  // A stream to `manager` ("host:port"), the TLS handshake done. Unavailable with a
  // sentence saying why not (refused, handshake refused by either side, no answer within
  // the connect timeout, a name that does not resolve).
  virtual absl::StatusOr<std::unique_ptr<ManagerStream>> connect(const std::string& manager) = 0;

  // Makes a connect() in progress, and every later one, return Cancelled soon (the relay
  // is stopping). Callable from any thread.
  virtual void interrupt() = 0;
};

}  // namespace asp::relay

#endif  // ASP_RELAY_MANAGER_STREAM_H_
