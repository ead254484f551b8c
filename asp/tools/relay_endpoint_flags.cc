#include "asp/tools/relay_endpoint_flags.h"

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "asp/tls/grpc_log.h"
#include "asp/tls/tls_files.h"

ABSL_FLAG(std::string, relay_listen, "",
          "Also listen for relays (docs/protocol.md §9) on HOST:PORT with mutual TLS "
          "(port 0: any free port, printed at startup); empty: the local socket only.");
ABSL_FLAG(std::string, relay_cert, "", "The manager's TLS certificate (PEM) for --relay_listen.");
ABSL_FLAG(std::string, relay_key, "", "Its private key (PEM).");
ABSL_FLAG(std::string, relay_client_ca, "",
          "The CA certificate (PEM) relays' client certificates must be signed by; a client "
          "certificate's subject common name is the only agent id its relay may sync.");
ABSL_FLAG(int64_t, relay_max_streams, 1024, "Relay streams open at once, all agents together.");
ABSL_FLAG(int64_t, relay_max_streams_per_agent, 2,
          "Relay streams one agent may hold; one more closes its oldest.");
ABSL_FLAG(int64_t, relay_max_in_flight_kib_per_agent, 4096,
          "Bytes (KiB) one agent's relay streams may have in flight to this manager.");

namespace asp::tools {

absl::StatusOr<std::unique_ptr<manager::RelayEndpoint>> startRelayEndpointFromFlags(
    manager::ManagerCore* core, manager::InboundFilter* filter) {
  const std::string listen = absl::GetFlag(FLAGS_relay_listen);
  if (listen.empty()) return std::unique_ptr<manager::RelayEndpoint>();
  if (absl::GetFlag(FLAGS_relay_max_streams) < 1 ||
      absl::GetFlag(FLAGS_relay_max_streams_per_agent) < 1 ||
      absl::GetFlag(FLAGS_relay_max_in_flight_kib_per_agent) < 1) {
    return absl::InvalidArgumentError(
        "--relay_max_streams, --relay_max_streams_per_agent and "
        "--relay_max_in_flight_kib_per_agent must be >= 1");
  }
  absl::StatusOr<tls::TlsMaterial> material =
      tls::loadTlsMaterial({absl::GetFlag(FLAGS_relay_cert), absl::GetFlag(FLAGS_relay_key),
                            absl::GetFlag(FLAGS_relay_client_ca)});
  if (!material.ok()) {
    return absl::Status(material.status().code(),
                        absl::StrCat("--relay_listen: ", material.status().message()));
  }
  if (std::string problem = tls::validityProblem(*material); !problem.empty()) {
    std::cerr << "asp_manager: warning: " << problem << "; relays will refuse it" << std::endl;
  }
  tls::routeGrpcLog([](absl::string_view line) {
    std::cerr << "asp_manager: relay endpoint: " << line << std::endl;
  });
  manager::RelayEndpoint::Options options;
  options.listen_address = listen;
  options.tls = *std::move(material);
  options.max_streams = static_cast<size_t>(absl::GetFlag(FLAGS_relay_max_streams));
  options.max_streams_per_identity =
      static_cast<size_t>(absl::GetFlag(FLAGS_relay_max_streams_per_agent));
  options.max_in_flight_bytes_per_identity =
      static_cast<size_t>(absl::GetFlag(FLAGS_relay_max_in_flight_kib_per_agent)) << 10;
  options.filter = filter;
  options.log = [](absl::string_view line) {
    std::cerr << "asp_manager: relay endpoint: " << line << std::endl;
  };
  return manager::RelayEndpoint::start(std::move(options), core);
}

std::string relayEndpointSummary(const manager::RelayEndpoint& endpoint) {
  const manager::RelayEndpoint::Counters c = endpoint.counters();
  return absl::StrCat("relay endpoint: streams ", c.streams, ", datagrams ", c.datagrams,
                      ", identity mismatches ", c.identity_mismatches, ", bad datagrams ",
                      c.bad_datagrams, ", answers ", c.answers);
}

}  // namespace asp::tools
