#include "asp/tools/manager_main.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
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
#include "asp/tools/cli.h"
#include "asp/tools/manager_http.h"
#include "asp/tools/relay_endpoint_flags.h"

ABSL_FLAG(std::string, socket, "", "Path of the datagram socket to listen on.");
ABSL_FLAG(std::string, socket_group, "",
          "Group allowed to send to the socket (mode 0660); empty: the manager's own group.");
ABSL_FLAG(std::string, state_dir, "", "Directory for state.db (required unless --memory_state).");
ABSL_FLAG(bool, memory_state, false, "Keep the state in memory only (benchmarks).");
ABSL_FLAG(std::string, state_uri, "",
          "Keep the state on PostgreSQL instead of in state_dir: a libpq connection URI, "
          "e.g. postgresql:///asp?host=/run/postgresql.");
ABSL_FLAG(asp::tools::DurationFlag, state_statement_timeout,
          asp::tools::DurationFlag{absl::ZeroDuration()},
          "With --state_uri: longest one statement may run (a lock wait included) before the "
          "session fails and is answered ERROR, e.g. 30s; 0: no limit.");
ABSL_FLAG(int64_t, max_sessions, 1024, "Sessions open at once; more are answered OFFLINE.");
ABSL_FLAG(uint64_t, max_session_size, 10000000, "Largest Start size accepted; larger: OFFLINE.");
ABSL_FLAG(int64_t, max_sessions_per_agent, 16, "Sessions one agent id may hold at once.");
ABSL_FLAG(int64_t, max_buffered_mib, 256,
          "Received session data held in memory (MiB), all sessions together; beyond it, on disk.");
ABSL_FLAG(asp::tools::DurationFlag, session_idle_timeout,
          asp::tools::DurationFlag{absl::Minutes(5)}, "Idle sessions are dropped: 5m, 300, 90s.");

namespace asp::tools {
namespace {

enum Exit { kStopped = 0, kUsage = 1, kCannotStart = 2, kInUse = 3 };

int fail(int code, const std::string& message) {
  std::cerr << "asp_manager: " << message << "\n";
  return code;
}

std::string help(const ManagerExtras& extras) {
  std::vector<std::string> flags = {"socket",
                                    "socket_group",
                                    "state_dir",
                                    "state_uri",
                                    "state_statement_timeout",
                                    "memory_state",
                                    "max_sessions",
                                    "max_session_size",
                                    "max_sessions_per_agent",
                                    "max_buffered_mib",
                                    "session_idle_timeout",
                                    "relay_listen",
                                    "relay_cert",
                                    "relay_key",
                                    "relay_client_ca",
                                    "relay_max_streams",
                                    "relay_max_streams_per_agent",
                                    "relay_max_in_flight_kib_per_agent",
                                    "http_listen"};
  flags.insert(flags.end(), extras.flags.begin(), extras.flags.end());
  return absl::StrCat(
      "asp_manager: the ASP reference manager (docs/protocol.md §7).\n\n"
      "  asp_manager --socket=PATH --state_dir=DIR [flags]\n\n"
      "Stops cleanly on SIGINT or SIGTERM and prints its counters. Durations read 5m, 300ms\n"
      "or plain seconds. Relative paths are relative to where the command was typed, also\n"
      "under ./bazelw run //asp/tools:asp_manager -- ...\n\nFlags:\n",
      describeFlags(flags, {"socket"}), "\n",
      asp::tools::describeExitCodes(
          {{kStopped, "stopped cleanly by SIGINT or SIGTERM"},
           {kUsage, "usage error: a bad flag, a missing --socket or --state_dir"},
           {kCannotStart, "cannot start: the state or the socket cannot be opened"},
           {kInUse,
            "another manager already uses this --socket or --state_dir, or the --http_listen "
            "port"}}));
}

// Holds <state_dir>/manager.lock (flock) for the life of the process, so that two
// managers never write one state directory. The kernel releases it when the process ends,
// however it ends: a stale lock file is never an obstacle.
class StateDirLock {
 public:
  // Exit code and message when the lock cannot be taken; kStopped (0) when held.
  int acquire(const std::string& dir, std::string* message) {
    const std::string path = dir + "/manager.lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      *message = absl::StrCat("cannot open lock file '", path, "': ", std::strerror(errno));
      return kCannotStart;
    }
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      std::string holder;
      std::ifstream(path) >> holder;
      *message = absl::StrCat("--state_dir '", dir, "' is in use by another manager",
                              holder.empty() ? "" : absl::StrCat(" (pid ", holder, ")"),
                              "; one manager per state directory (lock: ", path, ")");
      return kInUse;
    }
    const std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      // The pid is only a courtesy for the message above; the lock is what counts.
    }
    return kStopped;
  }
  ~StateDirLock() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_ = -1;
};

}  // namespace

namespace {

// The exit code for a failure to start a listener.
int startFailure(const absl::Status& status) {
  const absl::StatusCode code = status.code();
  return fail(code == absl::StatusCode::kAlreadyExists     ? kInUse
              : code == absl::StatusCode::kInvalidArgument ? kUsage
                                                           : kCannotStart,
              std::string(status.message()));
}

// Checks the flags that need each other; kStopped (0) when they are fine.
int checkFlags() {
  if (userPath(absl::GetFlag(FLAGS_socket)).empty()) {
    return fail(kUsage, "--socket is required (asp_manager --help)");
  }
  const int stores = static_cast<int>(!absl::GetFlag(FLAGS_state_dir).empty()) +
                     static_cast<int>(!absl::GetFlag(FLAGS_state_uri).empty()) +
                     static_cast<int>(absl::GetFlag(FLAGS_memory_state));
  if (stores != 1) {
    return fail(kUsage, "exactly one of --state_dir, --state_uri and --memory_state is required");
  }
  if (absl::GetFlag(FLAGS_max_sessions) < 1) return fail(kUsage, "--max_sessions must be >= 1");
  if (absl::GetFlag(FLAGS_max_sessions_per_agent) < 1) {
    return fail(kUsage, "--max_sessions_per_agent must be >= 1");
  }
  if (absl::GetFlag(FLAGS_max_buffered_mib) < 0)
    return fail(kUsage, "--max_buffered_mib must be >= 0");
  return kStopped;
}

struct OpenedStore {
  std::unique_ptr<manager::StateStore> store;
  std::string description;  // for the "listening" line
  // With --http_listen: the status page's own store on the same state (its own
  // connection); null means `store` itself (memory).
  std::unique_ptr<manager::StateStore> reader;
};

manager::PostgresStateStore::Options postgresOptions() {
  manager::PostgresStateStore::Options options;
  options.statement_timeout = absl::GetFlag(FLAGS_state_statement_timeout).value;
  return options;
}

// The store the flags name (the SQLite one under `lock`); kStopped (0) when opened.
int openStore(StateDirLock& lock, OpenedStore* opened) {
  if (absl::GetFlag(FLAGS_memory_state)) {
    *opened = {std::make_unique<manager::InMemoryStateStore>(), "memory", nullptr};
    return kStopped;
  }
  if (const std::string uri = absl::GetFlag(FLAGS_state_uri); !uri.empty()) {
    auto postgres = manager::PostgresStateStore::open(uri, postgresOptions());
    if (!postgres.ok()) return fail(kCannotStart, std::string(postgres.status().message()));
    const std::string description = "PostgreSQL " + (*postgres)->description();
    *opened = {*std::move(postgres), description, nullptr};
    if (httpRequested()) {
      auto reader = manager::PostgresStateStore::open(uri, postgresOptions());
      if (!reader.ok()) return fail(kCannotStart, std::string(reader.status().message()));
      opened->reader = *std::move(reader);
    }
    return kStopped;
  }
  const std::string state_dir = userPath(absl::GetFlag(FLAGS_state_dir));
  std::error_code error;
  std::filesystem::create_directories(state_dir, error);
  if (error) {
    return fail(kCannotStart,
                absl::StrCat("cannot create --state_dir '", state_dir, "': ", error.message()));
  }
  std::string message;
  if (int code = lock.acquire(state_dir, &message); code != kStopped) return fail(code, message);
  auto sqlite = manager::SqliteStateStore::open(state_dir + "/state.db");
  if (!sqlite.ok()) return fail(kCannotStart, std::string(sqlite.status().message()));
  *opened = {*std::move(sqlite), state_dir + "/state.db", nullptr};
  if (httpRequested()) {
    auto reader = manager::SqliteStateStore::open(state_dir + "/state.db");
    if (!reader.ok()) return fail(kCannotStart, std::string(reader.status().message()));
    opened->reader = *std::move(reader);
  }
  return kStopped;
}

// Failures an operator must see go to stderr and, for the status page, to `failures`.
manager::ManagerServer::Options serverOptions(manager::RecentFailures* failures) {
  manager::ManagerServer::Options options;
  options.socket_path = userPath(absl::GetFlag(FLAGS_socket));
  options.socket_group = absl::GetFlag(FLAGS_socket_group);
  options.core.max_sessions = static_cast<size_t>(absl::GetFlag(FLAGS_max_sessions));
  options.core.max_session_size = absl::GetFlag(FLAGS_max_session_size);
  options.core.max_sessions_per_agent =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_sessions_per_agent));
  options.core.max_buffered_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_buffered_mib))
                                    << 20;
  options.core.log = [failures](absl::string_view line) {
    std::cerr << "asp_manager: " << line << std::endl;
    failures->add(line);
  };
  options.core.idle_timeout = absl::GetFlag(FLAGS_session_idle_timeout).value;
  return options;
}

// Blocks SIGINT and SIGTERM (taken synchronously by sigwait) before any thread starts.
sigset_t blockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void printCounters(int signal_number, manager::ManagerServer& server,
                   const manager::RelayEndpoint* endpoint, const ManagerExtras& extras) {
  const auto c = server.counters();
  const auto core = server.core().counters();
  std::cout << "asp_manager: stopped by signal " << signal_number << "; datagrams " << c.datagrams
            << ", sessions applied " << core.sessions_applied << ", refused "
            << core.sessions_refused << ", apply failures " << core.apply_failures << ", answers "
            << c.answers_sent << std::endl;
  if (endpoint != nullptr)
    std::cout << "asp_manager: " << relayEndpointSummary(*endpoint) << std::endl;
  if (extras.summary) std::cout << "asp_manager: " << extras.summary() << std::endl;
}

}  // namespace

int runManager(int argc, char** argv, const ManagerExtras& extras) {
  absl::SetProgramUsageMessage(
      "asp_manager --socket=PATH --state_dir=DIR [flags]; --help for more.");
  if (asksForHelp(argc, argv)) {
    std::cout << help(extras);
    return kStopped;
  }
  // Bad flag values: Abseil prints the error and exits 1 (kUsage).
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return fail(kUsage, absl::StrCat("unexpected argument '", rest[1], "'"));
  if (int code = checkFlags(); code != kStopped) return code;
  StateDirLock lock;
  OpenedStore opened;
  if (int code = openStore(lock, &opened); code != kStopped) return code;
  sigset_t signals = blockStopSignals();

  manager::RecentFailures failures;
  manager::MeasuredStateStore measured(opened.store.get(), nullptr);
  manager::ManagerServer::Options options = serverOptions(&failures);
  if (extras.configure) {
    if (absl::Status s = extras.configure(options); !s.ok())
      return fail(kUsage, std::string(s.message()));
  }
  auto server = manager::ManagerServer::start(options, &measured);
  if (!server.ok()) return startFailure(server.status());
  std::cout << "asp_manager: listening on " << options.socket_path
            << " (state: " << opened.description << ")" << std::endl;
  auto relay_endpoint = startRelayEndpointFromFlags(&(*server)->core(), options.filter);
  if (!relay_endpoint.ok()) return startFailure(relay_endpoint.status());
  if (*relay_endpoint != nullptr) {
    std::cout << "asp_manager: relay endpoint listening on port " << (*relay_endpoint)->port()
              << std::endl;
  }
  std::unique_ptr<manager::HttpEndpoint> http;
  if (httpRequested()) {
    auto started = startHttpFromFlags({server->get(), relay_endpoint->get(), &measured, &failures,
                                       opened.reader ? opened.reader.get() : opened.store.get(),
                                       opened.description});
    if (!started.ok()) return startFailure(started.status());
    http = *std::move(started);
    std::cout << "asp_manager: HTTP metrics and status page on http://" << http->address() << "/"
              << std::endl;
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (http != nullptr) http->stop();
  if (*relay_endpoint != nullptr) (*relay_endpoint)->stop();
  (*server)->stop();
  printCounters(signal_number, **server, relay_endpoint->get(), extras);
  return kStopped;
}

}  // namespace asp::tools
