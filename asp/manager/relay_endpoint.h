// RelayEndpoint: the manager's side of the relay binding (docs/protocol.md §9), beside its
// local socket (ManagerServer). A gRPC server with mutual TLS that takes the Relay
// service's Exchange streams, hands every agent datagram to the same ManagerCore the
// local socket feeds, and writes each answer back on the stream it came from.
//
// Identity: the subject common name of the client certificate, which TLS has verified
// against the trusted CA (no certificate, another CA, expired: the handshake fails and
// gRPC's log line says so; see asp/tls/grpc_log.h). A Start whose agent.id is not that
// name is answered StartAck{ERROR} without reaching the core, counted, and logged once
// per stream: an agent can write only its own state. (Other messages name a session,
// whose id is unguessable and which only its Start's agent learns.)
//
// Limits per identity: `max_streams_per_identity` streams at once (one more cancels the
// identity's oldest, see identity_streams.h), and bytes in flight: each stream's HTTP/2
// flow-control window is `max_in_flight_bytes_per_identity / max_streams_per_identity`
// (BDP probing off, so it never grows), and one message is at most a datagram, so what a
// sender can make the manager hold for an identity is bounded by configuration whatever
// it sends. A payload that is not a well-formed agent datagram is dropped and counted.
// Sessions per agent are ManagerCore's own limit. Responses are gzip-compressed.
//
// Tests make it drop or duplicate datagrams through Options::filter, as ManagerServer
// (answer delays are honoured on the Unix socket only).
//
// Thread-safe. Each stream runs on one of gRPC's threads (a synchronous server; at most
// `max_streams` at once).
#ifndef ASP_MANAGER_RELAY_ENDPOINT_H_
#define ASP_MANAGER_RELAY_ENDPOINT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "asp/manager/inbound_filter.h"
#include "asp/manager/manager_core.h"
#include "asp/tls/tls_files.h"

namespace asp::manager {

class RelayEndpoint {
 public:
  struct Options {
    std::string listen_address;  // "host:port"; port 0 picks a free one (see port())
    tls::TlsMaterial tls;        // the server's certificate and key; the client CA
    size_t max_streams = 1024;   // all identities together
    size_t max_streams_per_identity = 2;
    size_t max_in_flight_bytes_per_identity = size_t{4} << 20;
    // What happens to each message on its way in (tests' faults); null: nothing.
    // Not owned; must outlive the endpoint.
    InboundFilter* filter = nullptr;
    std::function<void(absl::string_view)> log;  // a line per event an operator must see
  };

  struct Counters {
    uint64_t streams = 0;          // accepted
    uint64_t streams_evicted = 0;  // cancelled for a newer stream of the same identity
    uint64_t datagrams = 0;
    uint64_t bad_datagrams = 0;        // not "s:<module>:<message>", or too large
    uint64_t identity_mismatches = 0;  // Starts for another agent: StartAck{ERROR}
    uint64_t answers = 0;
  };

  // Listens and serves until stop(). InvalidArgument for options out of range;
  // Unavailable naming the address when it cannot listen (in use, not local, bad host).
  static absl::StatusOr<std::unique_ptr<RelayEndpoint>> start(Options options, ManagerCore* core);
  ~RelayEndpoint();

  // The port it listens on (the one picked when the address said 0).
  int port() const;
  // Stops accepting, ends the open streams (within a second) and waits for them.
  void stop();
  Counters counters() const;

 private:
  class Service;
  struct Server;
  RelayEndpoint();

  std::unique_ptr<Service> service_;
  std::unique_ptr<Server> server_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_RELAY_ENDPOINT_H_
