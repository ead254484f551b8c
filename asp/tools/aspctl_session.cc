// aspctl's commands that run a session against a manager: sync, check, clean, metadata,
// groups. Each prints its outcome once: on stdout when it succeeded, else on stderr.
#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "asp/base/text.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/tools/aspctl_commands.h"
#include "asp/tools/jsonl.h"

namespace asp::tools::aspctl {
namespace {

// A protocol instance for one session over the real socket. With `db_required` the
// queue file must exist (a session of the queue's own changes); otherwise an absent
// --db means a queue in memory (the session sends no queued change).
absl::StatusOr<std::unique_ptr<SocketSyncProtocol>> openSession(bool db_required) {
  const std::string db = userPath(absl::GetFlag(FLAGS_db));
  struct stat st;
  if (!db.empty() && stat(db.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database ", quoteValue(db), " is a directory; give the queue file"));
  }
  if ((db_required || !db.empty()) && stat(db.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("queue database ", quoteValue(db), " does not exist"));
  }
  AgentSyncProtocol::Options o;
  o.module = absl::GetFlag(FLAGS_module);
  o.database_path = db;
  o.session.timeout = absl::GetFlag(FLAGS_timeout).value;
  o.session.retries = absl::GetFlag(FLAGS_retries);
  o.session.sync_end_delay = absl::GetFlag(FLAGS_sync_end_delay).value;
  AgentInfo agent = defaultAgentInfo();
  agent.id = absl::GetFlag(FLAGS_agent_id);
  agent.groups = absl::GetFlag(FLAGS_agent_groups);
  o.agent_info = [agent] { return agent; };
  // The outcome is printed once, by the command; the library's own lines only on request.
  if (absl::GetFlag(FLAGS_verbose)) {
    o.logger = [](LogLevel level, absl::string_view message) {
      std::cerr << "aspctl: [" << logLevelName(level) << "] " << message << "\n";
    };
  }
  return SocketSyncProtocol::create(o, userPath(absl::GetFlag(FLAGS_queue)));
}

int openError(const absl::Status& s) {
  const int code = s.code() == absl::StatusCode::kInvalidArgument ? kUsage : kStorage;
  return error(code, s.message());
}

// "<what>: ok; 3 changes, 4 frames, 0 values resent, 12ms" on stdout, or the failure on
// stderr; returns the exit code.
int report(const std::string& what, const SyncResult& r) {
  if (r.ok()) {
    std::cout << what << ": " << syncCodeName(r.code) << "; " << r.changes << " changes, "
              << r.frames_sent << " frames, " << r.retransmitted << " values resent, "
              << absl::FormatDuration(r.duration) << "\n";
    return kOk;
  }
  if (r.code == SyncCode::kInvalidArgument)
    return error(kUsage, absl::StrCat(what, ": ", r.message));
  return error(exitFor(r.code), absl::StrCat(what, ": ", syncCodeName(r.code),
                                             r.message.empty() ? "" : ": " + r.message));
}

// Reads documents (JSON lines) into the recovery set a FULL sync sends.
int readRecoverySet(AgentSyncProtocol& protocol) {
  Input input;
  if (absl::Status s = openInput("the documents of the full sync", &input); !s.ok()) {
    return error(kUsage, s.message());
  }
  ChangeLineReader reader(*input.stream);
  while (true) {
    absl::StatusOr<std::optional<Change>> d = reader.next();
    if (!d.ok()) return error(kUsage, d.status().message());
    if (!d->has_value()) return kOk;
    absl::Status s = protocol.persistDifferenceInMemory((*d)->id, (*d)->operation, (*d)->index,
                                                        (*d)->data, (*d)->version);
    if (!s.ok())
      return error(kUsage, absl::StrCat("line ", reader.lineNumber(), ": ", s.message()));
  }
}

int metadataOrGroups(const std::string& what, Mode delta, Mode check) {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "delta" && mode != "check") {
    return error(kUsage,
                 absl::StrCat("--mode for ", what, " is delta or check, not ", quoteValue(mode)));
  }
  auto session = openSession(/*db_required=*/false);
  if (!session.ok()) return openError(session.status());
  SyncResult r = (*session)->protocol().synchronizeMetadataOrGroups(
      mode == "delta" ? delta : check, absl::GetFlag(FLAGS_index),
      absl::GetFlag(FLAGS_global_version));
  return report(absl::StrCat(what, " ", mode), r);
}

}  // namespace

int sync() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "delta" && mode != "full") {
    return error(kUsage, absl::StrCat("--mode for sync is delta or full, not ", quoteValue(mode)));
  }
  auto session = openSession(/*db_required=*/true);
  if (!session.ok()) return openError(session.status());
  AgentSyncProtocol& protocol = (*session)->protocol();
  if (mode == "full") {
    if (int code = readRecoverySet(protocol); code != kOk) return code;
  }
  return report(mode + " sync",
                protocol.synchronizeModule(mode == "full" ? Mode::kFull : Mode::kDelta));
}

int check() {
  const std::vector<std::string> indices = absl::GetFlag(FLAGS_index);
  if (indices.size() != 1) return error(kUsage, "check takes exactly one --index");
  auto session = openSession(/*db_required=*/false);
  if (!session.ok()) return openError(session.status());
  SyncResult r = (*session)->protocol().checkIntegrity(indices[0], absl::GetFlag(FLAGS_checksum));
  if (r.code == SyncCode::kOk) {
    std::cout << "match: the manager's copy of " << indices[0] << " has checksum "
              << absl::GetFlag(FLAGS_checksum) << "\n";
    return kOk;
  }
  if (r.code == SyncCode::kChecksumMismatch) {
    std::cout << "mismatch: the manager's copy of " << indices[0]
              << " differs; a full sync is required\n";
    return kMismatch;
  }
  return report("check", r);
}

int clean() {
  auto session = openSession(/*db_required=*/true);
  if (!session.ok()) return openError(session.status());
  return report("clean", (*session)->protocol().notifyDataClean(absl::GetFlag(FLAGS_index)));
}

int metadata() { return metadataOrGroups("metadata", Mode::kMetadataDelta, Mode::kMetadataCheck); }

int groups() { return metadataOrGroups("groups", Mode::kGroupDelta, Mode::kGroupCheck); }

}  // namespace asp::tools::aspctl
