// asp_relay: carries an agent host's MQueue to managers on other machines
// (docs/protocol.md §9; docs/deployment.md).
//
//   asp_relay --socket=/var/ossec/queue/sockets/queue --managers=m1.example:7443,m2.example:7443
//             --cert=/etc/asp/relay.pem --key=/etc/asp/relay.key --ca=/etc/asp/ca.pem
//   asp_relay --config=/etc/asp/relay.conf      (the same keys, "key = value"; flags win)
//
// Owns the queue socket path modules send to (mode 0660, --socket_group), keeps one
// gRPC stream with mutual TLS to the first manager that answers, reconnects with backoff,
// and stops cleanly on SIGINT or SIGTERM, printing its counters. Exit codes: 0 stopped by
// a signal; 2 bad flags, config file or certificate files; 3 the socket path cannot be
// taken (in use, not a socket, bad group).
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "asp/relay/grpc_manager_connector.h"
#include "asp/relay/relay.h"
#include "asp/relay/relay_config.h"
#include "asp/relay/tcp_connection_meter.h"
#include "asp/tls/grpc_log.h"
#include "asp/tls/tls_files.h"
#include "asp/tools/cli.h"

ABSL_FLAG(std::string, config, "", "A file of 'key = value' lines, keys being these flags' names.");
ABSL_FLAG(std::string, socket, "", "The MQueue socket path modules send to (required).");
ABSL_FLAG(std::string, socket_group, "",
          "Group allowed to send to the socket (mode 0660); empty: ours.");
ABSL_FLAG(std::string, managers, "",
          "Managers as host:port, comma-separated, preferred first (required).");
ABSL_FLAG(std::string, cert, "",
          "This host's client certificate (PEM); its common name is the agent id.");
ABSL_FLAG(std::string, key, "", "Its private key (PEM).");
ABSL_FLAG(std::string, ca, "",
          "The CA certificate (PEM) managers' certificates must be signed by.");
ABSL_FLAG(std::string, server_name, "",
          "Name the managers' certificates must carry; empty: the host dialled.");
ABSL_FLAG(int64_t, max_buffered_kib, 1024,
          "Outbound buffer (KiB); full, modules' sends wait. >= 64.");
ABSL_FLAG(int64_t, max_modules, 1024, "Modules whose answer address is remembered.");
ABSL_FLAG(asp::tools::DurationFlag, connect_timeout, asp::tools::DurationFlag{absl::Seconds(10)},
          "TCP + TLS handshake limit per attempt.");
ABSL_FLAG(asp::tools::DurationFlag, keepalive, asp::tools::DurationFlag{absl::Seconds(20)},
          "Ping the manager this often to notice a dead path.");
ABSL_FLAG(asp::tools::DurationFlag, backoff_initial,
          asp::tools::DurationFlag{absl::Milliseconds(500)}, "Pause after the first failed round.");
ABSL_FLAG(asp::tools::DurationFlag, backoff_max, asp::tools::DurationFlag{absl::Seconds(30)},
          "Longest pause between rounds (before jitter).");

namespace {

constexpr int kBadConfiguration = 2;
constexpr int kSocketUnavailable = 3;

std::string help() {
  return absl::StrCat(
      "asp_relay: carries this host's MQueue to ASP managers over mutual TLS (docs/protocol.md "
      "§9).\n\n"
      "  asp_relay --socket=PATH --managers=HOST:PORT[,HOST:PORT...] --cert=PEM --key=PEM "
      "--ca=PEM\n"
      "  asp_relay --config=FILE      (the same keys, \"key = value\"; flags win)\n\n"
      "Stops cleanly on SIGINT or SIGTERM and prints its counters. Certificates and their use:\n"
      "docs/deployment.md.\n\nFlags:\n",
      asp::tools::describeFlags({"config", "socket", "socket_group", "managers", "cert", "key",
                                 "ca", "server_name", "max_buffered_kib", "max_modules",
                                 "connect_timeout", "keepalive", "backoff_initial", "backoff_max"},
                                {"socket", "managers", "cert", "key", "ca"}),
      "\n",
      asp::tools::describeExitCodes(
          {{0, "stopped cleanly by SIGINT or SIGTERM (also: --help)"},
           {kBadConfiguration, "bad flags, config file or certificate files"},
           {kSocketUnavailable,
            "the socket path cannot be taken (in use, not a socket, bad group)"}}));
}

int fail(int code, const std::string& message) {
  std::cerr << "asp_relay: " << message << std::endl;
  return code;
}

void logLine(absl::string_view line) { std::cerr << "asp_relay: " << line << std::endl; }

// Applies the config file's entries to the flags; the command line, parsed after, wins.
absl::Status applyConfigFile(const std::string& path) {
  absl::StatusOr<std::vector<asp::relay::ConfigEntry>> entries = asp::relay::readConfigFile(path);
  if (!entries.ok()) return entries.status();
  for (const asp::relay::ConfigEntry& entry : *entries) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(entry.key);
    if (flag == nullptr || entry.key == "config") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", entry.line, ": unknown key '", entry.key, "'"));
    }
    std::string error;
    if (!flag->ParseFrom(entry.value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", entry.line, ": ", entry.key, ": ", error));
    }
  }
  return absl::OkStatus();
}

absl::Status checkManagers(const std::vector<std::string>& managers) {
  if (managers.empty())
    return absl::InvalidArgumentError("--managers is required (host:port, comma-separated)");
  for (const std::string& manager : managers) {
    std::string host;
    int port = 0;
    if (!asp::relay::splitHostPort(manager, &host, &port)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--managers: '", manager, "' is not host:port (an IPv6 address goes in brackets)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<asp::relay::Relay::Options> relayOptions() {
  asp::relay::Relay::Options options;
  options.socket.path = absl::GetFlag(FLAGS_socket);
  options.socket.group = absl::GetFlag(FLAGS_socket_group);
  options.managers = asp::relay::splitList(absl::GetFlag(FLAGS_managers));
  if (options.socket.path.empty()) return absl::InvalidArgumentError("--socket is required");
  if (absl::Status s = checkManagers(options.managers); !s.ok()) return s;
  if (absl::GetFlag(FLAGS_max_buffered_kib) < 64 || absl::GetFlag(FLAGS_max_modules) < 1) {
    return absl::InvalidArgumentError("--max_buffered_kib must be >= 64 and --max_modules >= 1");
  }
  options.max_buffered_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_buffered_kib)) << 10;
  options.max_modules = static_cast<size_t>(absl::GetFlag(FLAGS_max_modules));
  options.backoff = asp::relay::defaultRelayBackoff();
  options.backoff.initial = absl::GetFlag(FLAGS_backoff_initial).value;
  options.backoff.cap = absl::GetFlag(FLAGS_backoff_max).value;
  if (absl::Status s = asp::validateBackoff(options.backoff); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backoff_initial / --backoff_max: ", s.message()));
  }
  options.log = &logLine;
  return options;
}

std::string summary(const asp::relay::Relay::Counters& c) {
  return absl::StrCat("datagrams in ", c.datagrams_in, ", forwarded ", c.datagrams_forwarded,
                      ", lost ", c.datagrams_lost, ", bad ", c.bad_datagrams, "; answers ",
                      c.answers, ", delivered ", c.answers_delivered, ", unroutable ",
                      c.answers_unroutable, ", lost ", c.answers_lost, "; connects ", c.connects,
                      ", failures ", c.connect_failures, "; payload bytes ", c.bytes_forwarded,
                      ", wire bytes sent ", c.wire.sent, ", received ", c.wire.received);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Carries this host's MQueue to ASP managers over mutual TLS.\n"
      "  asp_relay --socket=PATH --managers=HOST:PORT[,HOST:PORT...] --cert=PEM --key=PEM "
      "--ca=PEM\n"
      "  asp_relay --config=FILE");
  if (asp::tools::asksForHelp(argc, argv)) {
    std::cout << help();
    return 0;
  }
  if (std::optional<std::string> config =
          asp::relay::configFileArgument(std::vector<std::string>(argv, argv + argc))) {
    if (absl::Status s = applyConfigFile(*config); !s.ok())
      return fail(kBadConfiguration, std::string(s.message()));
  }
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<asp::relay::Relay::Options> options = relayOptions();
  if (!options.ok()) return fail(kBadConfiguration, std::string(options.status().message()));

  absl::StatusOr<asp::tls::TlsMaterial> material = asp::tls::loadTlsMaterial(
      {absl::GetFlag(FLAGS_cert), absl::GetFlag(FLAGS_key), absl::GetFlag(FLAGS_ca)});
  if (!material.ok()) return fail(kBadConfiguration, std::string(material.status().message()));
  if (std::string problem = asp::tls::validityProblem(*material); !problem.empty()) {
    logLine(absl::StrCat("warning: ", problem, "; managers will refuse it"));
  }
  const std::string agent = material->common_name;
  asp::tls::routeGrpcLog(&logLine);

  // Signals are taken synchronously by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  asp::relay::GrpcManagerConnector::Options link;
  link.tls = *std::move(material);
  link.server_name = absl::GetFlag(FLAGS_server_name);
  link.connect_timeout = absl::GetFlag(FLAGS_connect_timeout).value;
  link.keepalive_time = absl::GetFlag(FLAGS_keepalive).value;
  const std::string managers = absl::StrJoin(options->managers, ", ");
  auto relay =
      asp::relay::Relay::start(*options, std::make_unique<asp::relay::GrpcManagerConnector>(link));
  if (!relay.ok()) return fail(kSocketUnavailable, std::string(relay.status().message()));
  std::cout << "asp_relay: relaying " << options->socket.path << " to " << managers << " as agent '"
            << agent << "'" << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*relay)->stop();
  std::cout << "asp_relay: stopped by signal " << signal_number << "; "
            << summary((*relay)->counters()) << std::endl;
  return 0;
}
