// aspctl: inspect and drive an ASP module's queue from a shell, for operators and scripts.
// `aspctl --help` lists the commands; `aspctl COMMAND --help` a command's flags, defaults
// and exit codes. docs/tools.md describes them, the JSON-lines format and exit codes.
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asp/base/text.h"
#include "asp/tools/aspctl_commands.h"
#include "asp/tools/cli.h"

ABSL_FLAG(std::string, db, "", "The module's queue database file (e.g. fim_sync.db).");
ABSL_FLAG(std::string, module, "", "Module name: 1-64 of [A-Za-z0-9_-].");
ABSL_FLAG(std::string, queue, "", "The manager's queue socket.");
ABSL_FLAG(std::vector<std::string>, index, {}, "Index name; several separated by commas.");
ABSL_FLAG(std::string, checksum, "",
          "The index checksum (docs/protocol.md §5.1); `aspctl checksum` computes it.");
ABSL_FLAG(std::string, mode, "delta",
          "sync: delta (the queue) or full (documents from --input); metadata and groups: "
          "delta or check.");
ABSL_FLAG(std::string, input, "-", "JSON-lines file to read; - for stdin.");
ABSL_FLAG(asp::tools::DurationFlag, timeout, asp::tools::DurationFlag{absl::Seconds(30)},
          "Wait for each answer: 30s, 500ms, or plain seconds.");
ABSL_FLAG(int32_t, retries, 3, "Resends of Start and End after a timeout.");
ABSL_FLAG(asp::tools::DurationFlag, sync_end_delay, asp::tools::DurationFlag{absl::Seconds(1)},
          "Pause between the last data message and End: 1s, 0, 200ms, or plain seconds.");
ABSL_FLAG(std::string, agent_id, "000", "The agent id sent in Start (manager-copy: whose copy).");
ABSL_FLAG(std::vector<std::string>, agent_groups, {},
          "The agent's groups, comma-separated, sent in Start (groups: required).");
ABSL_FLAG(uint64_t, global_version, 0, "The global version sent with metadata and groups.");
ABSL_FLAG(std::string, state_dir, "", "The manager's --state_dir (it holds state.db).");
ABSL_FLAG(std::string, state_uri, "",
          "The managers' --state_uri: their PostgreSQL database, e.g. "
          "postgresql:///asp?host=/run/postgresql.");
ABSL_FLAG(bool, verbose, false, "Also print the library's log lines (stderr).");

namespace asp::tools::aspctl {

int error(int code, absl::string_view message) {
  std::cerr << "aspctl: " << message << "\n";
  return code;
}

int exitFor(SyncCode code) {
  switch (code) {
    case SyncCode::kOk:
    case SyncCode::kNothingToDo:
      return kOk;
    case SyncCode::kChecksumMismatch:
      return kMismatch;
    case SyncCode::kManagerNotReady:
      return kNotReady;
    case SyncCode::kStartTimeout:
    case SyncCode::kEndTimeout:
      return kTimeout;
    case SyncCode::kTransportError:
      return kTransport;
    case SyncCode::kManagerError:
    case SyncCode::kProtocolError:
      return kManager;
    case SyncCode::kStorageError:
      return kStorage;
    case SyncCode::kInvalidArgument:
      return kUsage;
    default:
      return kOther;
  }
}

namespace {

struct Command {
  const char* summary;   // one line, for the overview
  const char* synopsis;  // the command line and what it does
  std::vector<std::string> flags;
  std::vector<std::string> required;
  std::vector<ExitCode> exits;
  int (*run)();
};

const std::vector<std::string> kSessionFlags = {"timeout", "retries", "sync_end_delay", "agent_id",
                                                "verbose"};

std::vector<std::string> withSessionFlags(std::vector<std::string> flags) {
  flags.insert(flags.end(), kSessionFlags.begin(), kSessionFlags.end());
  return flags;
}

const std::vector<ExitCode> kFileExits = {
    {kOk, "success"},
    {kUsage, "usage error, bad flag or bad input line"},
    {kStorage, "storage error: file missing, a directory, corrupt, unwritable"}};
const std::vector<ExitCode> kManagerExits = {
    {kOk, "success"},
    {kUsage, "usage error: a bad flag, not exactly one of --state_dir and --state_uri"},
    {kStorage, "the manager's state cannot be read: no state.db, the server unreachable"}};
const std::vector<ExitCode> kSessionExits = {
    {kOk, "success (or nothing to do)"},
    {kUsage, "usage error, bad flag or bad input line"},
    {kMismatch, "checksum mismatch (a full sync is required)"},
    {kNotReady, "manager not ready (it answered OFFLINE): try later"},
    {kTimeout, "timeout: no answer after every retry"},
    {kTransport, "transport error: the manager's socket is unreachable"},
    {kManager, "the manager answered ERROR, or broke the protocol"},
    {kStorage, "storage error: queue file missing, a directory, corrupt, unwritable"},
    {kOther, "anything else (e.g. stopped)"}};

// A table, one entry per command (its summary, usage, flags, required flags, exit codes
// and function): long, and meant to be read as a table.
const std::map<std::string, Command>& commands() {
  static const auto* table = new std::map<std::string, Command>{
      {"status",
       {"pending and in-flight changes per index",
        "aspctl status --db=F\n  Pending and in-flight changes per index. Opens the file "
        "read-only.",
        {"db"},
        {"db"},
        kFileExits,
        status}},
      {"dump",
       {"every queued change as a JSON line (persist reads them back)",
        "aspctl dump --db=F [--index=I]\n  Every queued change as a JSON line, in recorded order.",
        {"db", "index"},
        {"db"},
        kFileExits,
        dump}},
      {"persist",
       {"records JSON-lines changes in a queue, all or none",
        "aspctl persist --db=F --module=M [--input=FILE]\n"
        "  Records JSON-lines changes, all or none, in one transaction (the queue is locked\n"
        "  for writing meanwhile). Creates the file if needed. E.g.\n"
        "  "
        "{\"id\":\"/etc/"
        "hosts\",\"index\":\"states-fim-files\",\"operation\":\"modify\",\"version\":2,\"data\":\"{"
        "}\"}",
        {"db", "module", "input"},
        {"db", "module"},
        kFileExits,
        persist}},
      {"checksum",
       {"the index checksum of JSON-lines documents, which check needs",
        "aspctl checksum [--index=I] [--input=FILE]\n"
        "  The docs/protocol.md §5.1 checksum of the documents read. With one --index: the\n"
        "  checksum alone; otherwise one line per index: checksum, index, count.",
        {"index", "input"},
        {},
        {{kOk, "success"}, {kUsage, "usage error or bad input line"}},
        checksum}},
      {"sync",
       {"runs one session: delta (the queue) or full (documents from --input)",
        "aspctl sync --db=F --module=M --queue=SOCKET [--mode=delta|full] [--input=FILE]\n"
        "  Runs one session. delta sends the queue's pending changes; full sends the\n"
        "  documents read from --input (JSON lines) and the manager replaces their indices.",
        withSessionFlags({"db", "module", "queue", "mode", "input"}),
        {"db", "module", "queue"},
        kSessionExits,
        sync}},
      {"check",
       {"integrity check of one index: exit 0 match, 2 mismatch",
        "aspctl check --module=M --queue=SOCKET --index=I --checksum=C [--db=F]\n"
        "  Asks the manager whether its copy of the index has this checksum.",
        withSessionFlags({"db", "module", "queue", "index", "checksum"}),
        {"module", "queue", "index", "checksum"},
        kSessionExits,
        check}},
      {"clean",
       {"the manager drops every document of the indices (DataClean)",
        "aspctl clean --db=F --module=M --queue=SOCKET --index=I[,J...]\n"
        "  The manager drops every document of these indices; on success the queue drops\n"
        "  their pending changes.",
        withSessionFlags({"db", "module", "queue", "index"}),
        {"db", "module", "queue", "index"},
        kSessionExits,
        clean}},
      {"metadata",
       {"metadata session (delta or check)",
        "aspctl metadata --module=M --queue=SOCKET --index=I[,J...] [--mode=delta|check]\n"
        "                [--global_version=N] [--db=F]\n"
        "  A metadata session (docs/protocol.md §5.2): no data, the agent's info and version.",
        withSessionFlags({"db", "module", "queue", "index", "mode", "global_version"}),
        {"module", "queue"},
        kSessionExits,
        metadata}},
      {"groups",
       {"groups session (delta or check)",
        "aspctl groups --module=M --queue=SOCKET --index=I[,J...] --agent_groups=G[,H...]\n"
        "              [--mode=delta|check] [--global_version=N] [--db=F]\n"
        "  A groups session (docs/protocol.md §5.2): no data, the agent's groups and version.",
        withSessionFlags(
            {"db", "module", "queue", "index", "mode", "global_version", "agent_groups"}),
        {"module", "queue", "agent_groups"},
        kSessionExits,
        groups}},
      {"manager-copy",
       {"the older name of manager documents",
        "aspctl manager-copy --state_dir=DIR --module=M [--agent_id=A] [--index=I]\n"
        "  The older name of aspctl manager documents (also takes --state_uri).",
        {"state_dir", "state_uri", "module", "agent_id", "index"},
        {"module"},
        kManagerExits,
        managerDocuments}},
      {"manager agents",
       {"every agent's modules a manager holds: last sync, documents per index",
        "aspctl manager agents (--state_dir=DIR | --state_uri=URI)\n"
        "  One JSON line per agent and module the manager's store holds, sorted:\n"
        "  {\"agent\":\"001\",\"module\":\"fim\",\"last_sync\":\"2026-12-02T20:15:00Z\",\n"
        "   \"documents\":{\"states-fim-files\":1200}}\n"
        "  last_sync is when its last data session was applied (UTC), \"\" if unknown.",
        {"state_dir", "state_uri"},
        {},
        kManagerExits,
        managerAgents}},
      {"manager documents",
       {"a manager's copy of an agent's module, as JSON lines",
        "aspctl manager documents (--state_dir=DIR | --state_uri=URI) --module=M\n"
        "                         [--agent_id=A] [--index=I]\n"
        "  The documents the manager holds for one agent's module (only read), sorted by\n"
        "  index and id, as JSON lines that checksum reads.",
        {"state_dir", "state_uri", "module", "agent_id", "index"},
        {"module"},
        kManagerExits,
        managerDocuments}},
      {"manager checksum",
       {"a manager's per-index checksums of an agent's module",
        "aspctl manager checksum (--state_dir=DIR | --state_uri=URI) --module=M\n"
        "                        [--agent_id=A] [--index=I]\n"
        "  The docs/protocol.md §5.1 checksum of each index the manager holds for the\n"
        "  module, in aspctl checksum's format: with one --index the checksum alone;\n"
        "  otherwise one line per index: checksum, index, count.",
        {"state_dir", "state_uri", "module", "agent_id", "index"},
        {"module"},
        kManagerExits,
        managerChecksum}},
  };
  return *table;
}

std::string overview() {
  std::string text =
      "aspctl: inspect and drive an ASP module's queue, from a shell or a script.\n\n"
      "Commands:\n";
  for (const auto& [name, command] : commands()) {
    absl::StrAppend(&text, "  ", name, std::string(name.size() < 18 ? 20 - name.size() : 2, ' '),
                    command.summary, "\n");
  }
  absl::StrAppend(
      &text,
      "\naspctl COMMAND --help lists a command's flags, defaults and exit codes.\n"
      "Durations (--timeout, --sync_end_delay) read 30s, 500ms, 2m or plain seconds (1, 0.5).\n"
      "Relative paths are relative to the directory the command was typed in, also under\n"
      "./bazelw run //asp/tools:aspctl -- COMMAND ...\n\n");
  absl::StrAppend(&text, describeExitCodes(kSessionExits));
  return text;
}

std::string commandHelp(const Command& command) {
  return absl::StrCat(command.synopsis, "\n\nFlags:\n",
                      describeFlags(command.flags, command.required), "\n",
                      describeExitCodes(command.exits));
}

// The aspctl flag an argument sets ("--db=F", "-db", "--verbose" -> "db", "db", "verbose"),
// or "" for a value; `takes_value` tells whether the next argument is its value.
std::string flagName(const std::string& arg, bool* takes_value) {
  *takes_value = false;
  if (arg.size() < 2 || arg[0] != '-') return "";
  std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
  const size_t eq = name.find('=');
  const bool has_value = eq != std::string::npos;
  if (has_value) name.resize(eq);
  if (name.rfind("no", 0) == 0 && name.size() > 2 &&
      absl::FindCommandLineFlag(name.substr(2)) != nullptr) {
    name = name.substr(2);
  }
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  *takes_value = !has_value && flag != nullptr && name != "verbose";
  return name;
}

// A flag of aspctl's that `command` does not take is a usage error (not silently ignored).
int checkFlagsBelong(const std::string& name, const Command& command, int argc, char** argv) {
  static const std::set<std::string> ours = {
      "db",       "module",       "queue",          "index",     "checksum",
      "mode",     "input",        "timeout",        "retries",   "sync_end_delay",
      "agent_id", "agent_groups", "global_version", "state_dir", "state_uri",
      "verbose"};
  for (int i = 2; i < argc; ++i) {
    bool takes_value = false;
    const std::string flag = flagName(argv[i], &takes_value);
    if (ours.count(flag) > 0 &&
        std::find(command.flags.begin(), command.flags.end(), flag) == command.flags.end()) {
      return error(kUsage, absl::StrCat(name, " does not take --", flag, "; its flags: --",
                                        absl::StrJoin(command.flags, ", --")));
    }
    if (takes_value) ++i;
  }
  return kOk;
}

}  // namespace
}  // namespace asp::tools::aspctl

int main(int argc, char** argv) {
  using namespace asp::tools::aspctl;
  absl::SetProgramUsageMessage("aspctl COMMAND [flags]; aspctl --help lists the commands.");
  if (argc < 2) {
    std::cerr << "aspctl: no command\n\n" << overview();
    return kUsage;
  }
  // Two-word commands ("manager agents"): the second word is part of the name.
  const bool two_words = std::string(argv[1]) == "manager" && argc > 2 && argv[2][0] != '-';
  const std::string name = two_words ? absl::StrCat(argv[1], " ", argv[2]) : argv[1];
  if (two_words) {
    --argc;
    ++argv;
    argv[0] = argv[-1];
  }
  if (name == "help" || name == "--help" || name == "-h" || name == "-help" ||
      name == "--helpfull") {
    std::cout << overview();
    return kOk;
  }
  auto command = commands().find(name);
  if (command == commands().end()) {
    std::cerr << "aspctl: unknown command " << asp::quoteValue(name) << "\n\n" << overview();
    return kUsage;
  }
  if (asp::tools::asksForHelp(argc, argv)) {
    std::cout << commandHelp(command->second);
    return kOk;
  }
  if (int code = checkFlagsBelong(name, command->second, argc, argv); code != kOk) return code;
  std::vector<char*> args = {argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  // Bad flag values: Abseil prints the error and exits 1 (kUsage).
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (rest.size() > 1) {
    return error(kUsage, absl::StrCat("unexpected argument ", asp::quoteValue(rest[1]),
                                      " (files are given with --input=FILE or --db=FILE)"));
  }
  for (const std::string& flag : command->second.required) {
    const absl::CommandLineFlag* f = absl::FindCommandLineFlag(flag);
    if (f != nullptr && (f->CurrentValue().empty())) {
      return error(kUsage,
                   absl::StrCat("--", flag, " is required\nusage: ", command->second.synopsis));
    }
  }
  return command->second.run();
}
