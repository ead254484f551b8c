// The asp_manager program: the reference manager (docs/protocol.md §7) as a process.
//
//   asp_manager --socket=/run/asp/queue --state_dir=/var/lib/asp/manager
//
// Listens on a Unix datagram socket (and, with --relay_listen, on the relay binding),
// serves any number of agents and modules, keeps each agent's state per module and index
// in <state_dir>/state.db (or on a PostgreSQL server several managers share with
// --state_uri, or in memory with --memory_state), and stops cleanly on SIGINT or SIGTERM,
// printing its counters. One manager per socket and per state directory: a second one
// is refused (exit 3).
//
// The shipped binary runs it as it is; a test binary adds flags of its own through
// ManagerExtras (asp/testing/asp_manager_with_faults.cc: drops, duplicates, delays).
#ifndef ASP_TOOLS_MANAGER_MAIN_H_
#define ASP_TOOLS_MANAGER_MAIN_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "asp/manager/manager_server.h"

namespace asp::tools {

struct ManagerExtras {
  // More flags (defined with ABSL_FLAG by the binary) for --help.
  std::vector<std::string> flags;
  // Called once the flags are parsed, before the server starts: may set the options'
  // filter (kept alive by the caller) and core.seed. An error is a usage error.
  std::function<absl::Status(manager::ManagerServer::Options&)> configure;
  // Appended to the closing counters ("faults: dropped values 12, ...").
  std::function<std::string()> summary;
};

// The whole program: parses argv, runs until SIGINT or SIGTERM, returns the exit code.
int runManager(int argc, char** argv, const ManagerExtras& extras = {});

}  // namespace asp::tools

#endif  // ASP_TOOLS_MANAGER_MAIN_H_
