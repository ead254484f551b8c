// asp_manager: the reference manager (PROTOCOL.md §7) as a process.
//
//   asp_manager --socket=/tmp/asp/queue --state_dir=/tmp/asp/state
//
// Listens on a Unix datagram socket, serves any number of agents and modules, keeps
// each agent's state per module and index in <state_dir>/state.db (or on a PostgreSQL
// server several managers share with --state_uri, or in memory with --memory_state),
// and stops cleanly on SIGINT or SIGTERM, printing its counters.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/postgres_state_store.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/tools/relay_endpoint_flags.h"

ABSL_FLAG(std::string, socket, "", "Path of the datagram socket to listen on (required).");
ABSL_FLAG(std::string, socket_group, "",
          "Group allowed to send to the socket (mode 0660); empty: the manager's own group.");
ABSL_FLAG(std::string, state_dir, "", "Directory for state.db (required unless --memory_state).");
ABSL_FLAG(bool, memory_state, false, "Keep the state in memory only (benchmarks).");
ABSL_FLAG(std::string, state_uri, "",
          "Keep the state on PostgreSQL instead of in state_dir: a libpq connection URI, "
          "e.g. postgresql:///asp?host=/run/postgresql.");
ABSL_FLAG(int64_t, max_sessions, 1024, "Sessions open at once; more are answered OFFLINE.");
ABSL_FLAG(uint64_t, max_session_size, 10000000, "Largest Start size accepted; larger: OFFLINE.");
ABSL_FLAG(int64_t, max_sessions_per_agent, 16, "Sessions one agent id may hold at once.");
ABSL_FLAG(int64_t, max_buffered_mib, 256,
          "Received session data held in memory (MiB), all sessions together; beyond it, on disk.");
ABSL_FLAG(absl::Duration, session_idle_timeout, absl::Minutes(5), "Idle sessions are dropped.");
ABSL_FLAG(double, drop_rate, 0, "Fault injection: drop this fraction of data datagrams.");
ABSL_FLAG(double, duplicate_rate, 0, "Fault injection: handle this fraction of datagrams twice.");
ABSL_FLAG(absl::Duration, answer_delay, absl::ZeroDuration(), "Fault injection: delay answers.");
ABSL_FLAG(uint64_t, seed, 0, "Seed for session ids and fault injection (0: random).");

namespace {

int fail(const std::string& message) {
  std::cerr << "asp_manager: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The ASP reference manager.\n"
      "  asp_manager --socket=PATH --state_dir=DIR [--drop_rate=R] [--duplicate_rate=R] ...");
  absl::ParseCommandLine(argc, argv);
  const std::string socket = absl::GetFlag(FLAGS_socket);
  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (socket.empty()) return fail("--socket is required");
  const std::string state_uri = absl::GetFlag(FLAGS_state_uri);
  const int stores = static_cast<int>(!state_dir.empty()) + static_cast<int>(!state_uri.empty()) +
                     static_cast<int>(absl::GetFlag(FLAGS_memory_state));
  if (stores != 1) {
    return fail("exactly one of --state_dir, --state_uri and --memory_state is required");
  }
  if (absl::GetFlag(FLAGS_max_sessions) < 1) return fail("--max_sessions must be >= 1");
  if (absl::GetFlag(FLAGS_max_sessions_per_agent) < 1) {
    return fail("--max_sessions_per_agent must be >= 1");
  }
  if (absl::GetFlag(FLAGS_max_buffered_mib) < 0) return fail("--max_buffered_mib must be >= 0");

  std::unique_ptr<asp::manager::StateStore> store;
  std::string state = "memory";
  if (absl::GetFlag(FLAGS_memory_state)) {
    store = std::make_unique<asp::manager::InMemoryStateStore>();
  } else if (!state_uri.empty()) {
    auto postgres = asp::manager::PostgresStateStore::open(state_uri);
    if (!postgres.ok()) return fail(std::string(postgres.status().message()));
    state = "PostgreSQL " + (*postgres)->description();
    store = *std::move(postgres);
  } else {
    std::error_code error;
    std::filesystem::create_directories(state_dir, error);
    if (error) return fail(absl::StrCat("cannot create --state_dir '", state_dir, "': ", error.message()));
    auto sqlite = asp::manager::SqliteStateStore::open(state_dir + "/state.db");
    if (!sqlite.ok()) return fail(std::string(sqlite.status().message()));
    store = *std::move(sqlite);
    state = state_dir + "/state.db";
  }

  // Signals are taken synchronously by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  asp::manager::ManagerServer::Options options;
  options.socket_path = socket;
  options.socket_group = absl::GetFlag(FLAGS_socket_group);
  options.core.max_sessions = static_cast<size_t>(absl::GetFlag(FLAGS_max_sessions));
  options.core.max_session_size = absl::GetFlag(FLAGS_max_session_size);
  options.core.max_sessions_per_agent =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_sessions_per_agent));
  options.core.max_buffered_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_buffered_mib)) << 20;
  options.core.log = [](absl::string_view line) { std::cerr << "asp_manager: " << line << std::endl; };
  options.core.idle_timeout = absl::GetFlag(FLAGS_session_idle_timeout);
  options.core.seed = absl::GetFlag(FLAGS_seed);
  options.drop_rate = absl::GetFlag(FLAGS_drop_rate);
  options.duplicate_rate = absl::GetFlag(FLAGS_duplicate_rate);
  options.answer_delay = absl::GetFlag(FLAGS_answer_delay);
  options.seed = absl::GetFlag(FLAGS_seed);
  auto server = asp::manager::ManagerServer::start(options, store.get());
  if (!server.ok()) return fail(std::string(server.status().message()));
  std::cout << "asp_manager: listening on " << socket << " (state: " << state << ")" << std::endl;
  auto relay_endpoint = asp::tools::startRelayEndpointFromFlags(
      &(*server)->core(), absl::GetFlag(FLAGS_drop_rate), absl::GetFlag(FLAGS_seed));
  if (!relay_endpoint.ok()) return fail(std::string(relay_endpoint.status().message()));
  if (*relay_endpoint != nullptr) {
    std::cout << "asp_manager: relay endpoint listening on port " << (*relay_endpoint)->port() << std::endl;
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (*relay_endpoint != nullptr) (*relay_endpoint)->stop();
  (*server)->stop();
  const auto c = (*server)->counters();
  const auto core = (*server)->core().counters();
  std::cout << "asp_manager: stopped by signal " << signal_number << "; datagrams " << c.datagrams
            << ", sessions applied " << core.sessions_applied << ", refused "
            << core.sessions_refused << ", apply failures " << core.apply_failures
            << ", dropped values " << c.dropped_values
            << ", duplicated " << c.duplicated << ", answers " << c.answers_sent << std::endl;
  if (*relay_endpoint != nullptr) {
    std::cout << "asp_manager: " << asp::tools::relayEndpointSummary(**relay_endpoint) << std::endl;
  }
  return 0;
}
