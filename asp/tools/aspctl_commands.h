// aspctl's commands and the flags they share (defined in aspctl.cc). Each command returns
// aspctl's exit code (docs/tools.md) and prints an error, once, on stderr.
#ifndef ASP_TOOLS_ASPCTL_COMMANDS_H_
#define ASP_TOOLS_ASPCTL_COMMANDS_H_

#include <cstdint>
#include <fstream>
#include <istream>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "asp/core/sync_types.h"
#include "asp/tools/cli.h"

ABSL_DECLARE_FLAG(std::string, db);
ABSL_DECLARE_FLAG(std::string, module);
ABSL_DECLARE_FLAG(std::string, queue);
ABSL_DECLARE_FLAG(std::vector<std::string>, index);
ABSL_DECLARE_FLAG(std::string, checksum);
ABSL_DECLARE_FLAG(std::string, mode);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(asp::tools::DurationFlag, timeout);
ABSL_DECLARE_FLAG(int32_t, retries);
ABSL_DECLARE_FLAG(asp::tools::DurationFlag, sync_end_delay);
ABSL_DECLARE_FLAG(std::string, agent_id);
ABSL_DECLARE_FLAG(std::vector<std::string>, agent_groups);
ABSL_DECLARE_FLAG(uint64_t, global_version);
ABSL_DECLARE_FLAG(std::string, state_dir);
ABSL_DECLARE_FLAG(std::string, state_uri);
ABSL_DECLARE_FLAG(bool, verbose);

namespace asp::tools::aspctl {

enum Exit {
  kOk = 0,
  kUsage = 1,
  kMismatch = 2,
  kNotReady = 3,
  kTimeout = 4,
  kTransport = 5,
  kManager = 6,
  kStorage = 7,
  kOther = 8,
};

// Prints "aspctl: <message>" on stderr and returns `code`.
int error(int code, absl::string_view message);
// The exit code for a session's outcome.
int exitFor(SyncCode code);

// Where JSON lines come from: the --input file, or stdin for "-".
struct Input {
  std::ifstream file;
  std::istream* stream = nullptr;
};
// Opens --input; on a terminal, says that it reads `what` from it. InvalidArgument naming
// a file that cannot be read.
absl::Status openInput(const std::string& what, Input* input);

// The --index values as a set (empty: every index).
std::set<std::string> indexFilter();

// Commands on a queue file (aspctl_queue.cc).
int status();
int dump();
int persist();
int checksum();

// Commands on a manager's state, SQLite (--state_dir) or PostgreSQL (--state_uri)
// (aspctl_manager.cc). manager-copy is the older name of managerDocuments.
int managerAgents();
int managerDocuments();
int managerChecksum();

// Commands that run a session against a manager (aspctl_session.cc).
int sync();
int check();
int clean();
int metadata();
int groups();

}  // namespace asp::tools::aspctl

#endif  // ASP_TOOLS_ASPCTL_COMMANDS_H_
