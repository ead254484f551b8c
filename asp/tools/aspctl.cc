// aspctl: inspect and drive an ASP queue from a shell, for operators and scripts.
//
//   aspctl status  --db F
//   aspctl dump    --db F [--index I]
//   aspctl persist --db F --module M            < changes.jsonl
//   aspctl sync    --db F --module M --queue SOCKET [--mode delta|full] [--timeout S]
//   aspctl check   --db F --module M --queue SOCKET --index I --checksum C
//
// Exit codes: 0 success (sync ok or nothing to do, checksums match); 1 usage error or
// bad input; 2 checksum mismatch (check: a full sync is required); 3 manager not
// ready; 4 timeout; 5 transport error (manager unreachable); 6 manager or protocol
// error; 7 storage error (file missing, corrupt, unwritable); 8 anything else.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/tools/aspctl.pb.h"
#include "asp/tools/jsonl.h"

ABSL_FLAG(std::string, db, "", "The module's queue database file.");
ABSL_FLAG(std::string, module, "", "Module name (1-64 of [A-Za-z0-9_-]).");
ABSL_FLAG(std::string, queue, "", "The manager's queue socket.");
ABSL_FLAG(std::string, index, "", "An index name.");
ABSL_FLAG(std::string, checksum, "", "Lowercase hex SHA-1 of the index (PROTOCOL.md 5.1).");
ABSL_FLAG(std::string, mode, "delta", "delta (the queue) or full (documents from stdin).");
ABSL_FLAG(int32_t, timeout, 30, "Seconds to wait for each answer.");
ABSL_FLAG(int32_t, retries, 3, "Resends of Start and End after a timeout.");
ABSL_FLAG(absl::Duration, sync_end_delay, absl::Seconds(1), "Pause before End.");
ABSL_FLAG(std::string, agent_id, "000", "Agent id sent in Start.");

namespace {

enum Exit { kOk = 0, kUsage = 1, kMismatch = 2, kNotReady = 3, kTimeout = 4, kTransport = 5,
            kManager = 6, kStorage = 7, kOther = 8 };

struct Command {
  const char* usage;
  std::vector<const char*> required;
  std::function<int()> run;
};

int error(int code, const std::string& message) {
  std::cerr << "aspctl: " << message << "\n";
  return code;
}

int exitFor(asp::SyncCode code) {
  switch (code) {
    case asp::SyncCode::kOk:
    case asp::SyncCode::kNothingToDo:
      return kOk;
    case asp::SyncCode::kChecksumMismatch:
      return kMismatch;
    case asp::SyncCode::kManagerNotReady:
      return kNotReady;
    case asp::SyncCode::kStartTimeout:
    case asp::SyncCode::kEndTimeout:
      return kTimeout;
    case asp::SyncCode::kTransportError:
      return kTransport;
    case asp::SyncCode::kManagerError:
    case asp::SyncCode::kProtocolError:
      return kManager;
    case asp::SyncCode::kStorageError:
      return kStorage;
    default:
      return kOther;
  }
}

bool fileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

absl::StatusOr<std::unique_ptr<asp::SqliteChangeQueue>> openForReading() {
  asp::SqliteChangeQueue::Options options;
  options.path = absl::GetFlag(FLAGS_db);
  options.read_only = true;
  if (!fileExists(options.path)) {
    return absl::NotFoundError(absl::StrCat("queue database '", options.path, "' does not exist"));
  }
  return asp::SqliteChangeQueue::open(options);
}

int status() {
  auto queue = openForReading();
  if (!queue.ok()) return error(kStorage, std::string(queue.status().message()));
  auto counts = (*queue)->counts();
  if (!counts.ok()) return error(kStorage, std::string(counts.status().message()));
  size_t width = 5;
  for (const asp::IndexCounts& c : *counts) width = std::max(width, c.index.size());
  std::cout << std::left << std::setw(static_cast<int>(width)) << "INDEX" << std::right
            << std::setw(12) << "PENDING" << std::setw(12) << "IN_FLIGHT" << "\n";
  uint64_t pending = 0, in_flight = 0;
  for (const asp::IndexCounts& c : *counts) {
    std::cout << std::left << std::setw(static_cast<int>(width)) << c.index << std::right
              << std::setw(12) << c.pending << std::setw(12) << c.in_flight << "\n";
    pending += c.pending;
    in_flight += c.in_flight;
  }
  std::cout << std::left << std::setw(static_cast<int>(width)) << "TOTAL" << std::right
            << std::setw(12) << pending << std::setw(12) << in_flight << "\n";
  return kOk;
}

int dump() {
  auto queue = openForReading();
  if (!queue.ok()) return error(kStorage, std::string(queue.status().message()));
  absl::Status printed;
  absl::Status s = (*queue)->forEachChange(absl::GetFlag(FLAGS_index),
                                           [&](const asp::SqliteChangeQueue::StoredChange& c) {
    absl::StatusOr<std::string> line = asp::tools::dumpLine(c);
    if (!line.ok()) {
      printed = line.status();
      return;
    }
    std::cout << *line << "\n";
  });
  if (!s.ok()) return error(kStorage, std::string(s.message()));
  if (!printed.ok()) return error(kOther, std::string(printed.message()));
  return kOk;
}

int persist() {
  absl::StatusOr<std::vector<asp::Change>> changes = asp::tools::readChangeLines(std::cin);
  if (!changes.ok()) return error(kUsage, std::string(changes.status().message()));
  asp::SqliteChangeQueue::Options options;
  options.path = absl::GetFlag(FLAGS_db);
  options.limits = asp::ChangeLimits::forModule(absl::GetFlag(FLAGS_module),
                                                asp::wire::kDefaultFrameBudgetBytes);
  if (absl::Status s = asp::wire::validateModuleName(absl::GetFlag(FLAGS_module)); !s.ok()) {
    return error(kUsage, std::string(s.message()));
  }
  auto queue = asp::SqliteChangeQueue::open(options);
  if (!queue.ok()) return error(kStorage, std::string(queue.status().message()));
  absl::Status s = (*queue)->recordBatch(*changes);
  if (s.code() == absl::StatusCode::kInvalidArgument) return error(kUsage, std::string(s.message()));
  if (!s.ok()) return error(kStorage, std::string(s.message()));
  std::cout << "persisted " << changes->size() << " changes to " << options.path << "\n";
  return kOk;
}

// A protocol instance for one session over the real socket.
absl::StatusOr<std::unique_ptr<asp::SocketSyncProtocol>> openSession() {
  const std::string db = absl::GetFlag(FLAGS_db);
  if (!fileExists(db)) {
    return absl::NotFoundError(absl::StrCat("queue database '", db, "' does not exist"));
  }
  asp::AgentSyncProtocol::Options o;
  o.module = absl::GetFlag(FLAGS_module);
  o.database_path = db;
  o.timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout));
  o.retries = absl::GetFlag(FLAGS_retries);
  o.sync_end_delay = absl::GetFlag(FLAGS_sync_end_delay);
  asp::AgentInfo agent = asp::defaultAgentInfo();
  agent.id = absl::GetFlag(FLAGS_agent_id);
  o.agent_info = [agent] { return agent; };
  o.logger = [](asp::LogLevel level, absl::string_view message) {
    if (level >= asp::LogLevel::kWarning) std::cerr << "aspctl: " << message << "\n";
  };
  return asp::SocketSyncProtocol::create(o, absl::GetFlag(FLAGS_queue));
}

int openError(const absl::Status& s) {
  const int code = s.code() == absl::StatusCode::kInvalidArgument ? kUsage : kStorage;
  return error(code, std::string(s.message()));
}

int sync() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "delta" && mode != "full") return error(kUsage, "--mode must be delta or full, not '" + mode + "'");
  auto session = openSession();
  if (!session.ok()) return openError(session.status());
  asp::AgentSyncProtocol& protocol = (*session)->protocol();
  if (mode == "full") {
    absl::StatusOr<std::vector<asp::Change>> documents = asp::tools::readChangeLines(std::cin);
    if (!documents.ok()) return error(kUsage, std::string(documents.status().message()));
    for (const asp::Change& d : *documents) {
      absl::Status s = protocol.persistDifferenceInMemory(d.id, d.operation, d.index, d.data, d.version);
      if (!s.ok()) return error(kUsage, std::string(s.message()));
    }
  }
  asp::SyncResult r = protocol.synchronizeModule(mode == "full" ? asp::Mode::kFull : asp::Mode::kDelta);
  std::cout << mode << " sync: " << asp::syncCodeName(r.code)
            << (r.message.empty() ? "" : " (" + r.message + ")") << "; " << r.changes
            << " changes, " << r.frames_sent << " frames, " << r.retransmitted
            << " retransmitted, " << absl::FormatDuration(r.duration) << "\n";
  return exitFor(r.code);
}

int check() {
  auto session = openSession();
  if (!session.ok()) return openError(session.status());
  asp::SyncResult r = (*session)->protocol().checkIntegrity(absl::GetFlag(FLAGS_index),
                                                        absl::GetFlag(FLAGS_checksum));
  if (r.code == asp::SyncCode::kOk) {
    std::cout << "match\n";
    return kOk;
  }
  if (r.code == asp::SyncCode::kChecksumMismatch) {
    std::cout << "mismatch: a full sync is required\n";
    return kMismatch;
  }
  std::cerr << "aspctl: check: " << asp::syncCodeName(r.code) << ": " << r.message << "\n";
  return r.code == asp::SyncCode::kInvalidArgument ? kUsage : exitFor(r.code);
}

const std::map<std::string, Command>& commands() {
  static const auto* table = new std::map<std::string, Command>{
      {"status", {"aspctl status --db F\n  Pending and in-flight changes per index.", {"db"}, status}},
      {"dump", {"aspctl dump --db F [--index I]\n  Every queued change as a JSON line.", {"db"}, dump}},
      {"persist",
       {"aspctl persist --db F --module M < changes.jsonl\n"
        "  Records JSON-lines changes, all or none, e.g.\n"
        "  {\"id\":\"/etc/hosts\",\"operation\":\"modify\",\"index\":\"states-fim\",\"data\":\"{}\",\"version\":2}",
        {"db", "module"}, persist}},
      {"sync",
       {"aspctl sync --db F --module M --queue SOCKET [--mode delta|full] [--timeout S]\n"
        "  Runs one session. full sends the documents read from stdin (JSON lines).",
        {"db", "module", "queue"}, sync}},
      {"check",
       {"aspctl check --db F --module M --queue SOCKET --index I --checksum C\n"
        "  Integrity check of one index: exit 0 match, 2 mismatch.",
        {"db", "module", "queue", "index", "checksum"}, check}},
  };
  return *table;
}

std::string overview() {
  std::string text = "aspctl: inspect and drive an ASP queue.\n\n";
  for (const auto& [name, command] : commands()) absl::StrAppend(&text, "  ", command.usage, "\n\n");
  absl::StrAppend(&text, "aspctl COMMAND --help for one command.\n");
  return text;
}

std::string flagValue(const char* name) {
  const std::map<std::string, std::string> values = {
      {"db", absl::GetFlag(FLAGS_db)},         {"module", absl::GetFlag(FLAGS_module)},
      {"queue", absl::GetFlag(FLAGS_queue)},   {"index", absl::GetFlag(FLAGS_index)},
      {"checksum", absl::GetFlag(FLAGS_checksum)}};
  return values.at(name);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(overview());
  if (argc < 2) return error(kUsage, "no command\n" + overview());
  const std::string name = argv[1];
  if (name == "help" || name == "--help" || name == "-h") {
    std::cout << overview();
    return kOk;
  }
  auto command = commands().find(name);
  if (command == commands().end()) return error(kUsage, "unknown command '" + name + "'\n" + overview());
  std::vector<char*> args = {argv[0]};
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      std::cout << command->second.usage << "\n";
      return kOk;
    }
    args.push_back(argv[i]);
  }
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (rest.size() > 1) return error(kUsage, absl::StrCat("unexpected argument '", rest[1], "'"));
  for (const char* flag : command->second.required) {
    if (flagValue(flag).empty()) {
      return error(kUsage, absl::StrCat("--", flag, " is required\nusage: ", command->second.usage));
    }
  }
  return command->second.run();
}
