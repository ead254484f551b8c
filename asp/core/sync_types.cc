#include "asp/core/sync_types.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/base/text.h"

namespace asp {

std::string modeName(Mode mode) {
  switch (mode) {
    case Mode::kFull:
      return "full";
    case Mode::kDelta:
      return "delta";
    case Mode::kCheck:
      return "check";
    case Mode::kMetadataDelta:
      return "metadata delta";
    case Mode::kMetadataCheck:
      return "metadata check";
    case Mode::kGroupDelta:
      return "group delta";
    case Mode::kGroupCheck:
      return "group check";
  }
  return absl::StrCat("mode(", static_cast<int>(mode), ")");
}

std::string syncOptionName(SyncOption option) {
  switch (option) {
    case SyncOption::kSync:
      return "sync";
    case SyncOption::kVdFirst:
      return "vd first";
    case SyncOption::kVdSync:
      return "vd sync";
    case SyncOption::kVdClean:
      return "vd clean";
  }
  return absl::StrCat("option(", static_cast<int>(option), ")");
}

AgentInfo defaultAgentInfo() {
  AgentInfo info;
  info.id = "000";
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) info.hostname = host;
  info.name = info.hostname;
  struct utsname system;
  if (uname(&system) == 0) {
    info.architecture = system.machine;
    info.os_type = system.sysname;
    info.os_version = system.release;
  }
  info.version = "asp-1";
  return info;
}

absl::Status validateAgentInfo(const AgentInfo& info) {
  const std::pair<const char*, const std::string*> fields[] = {
      {"id", &info.id},
      {"name", &info.name},
      {"version", &info.version},
      {"hostname", &info.hostname},
      {"architecture", &info.architecture},
      {"os_name", &info.os_name},
      {"os_platform", &info.os_platform},
      {"os_type", &info.os_type},
      {"os_version", &info.os_version},
      {"cluster_name", &info.cluster_name},
      {"cluster_node", &info.cluster_node},
  };
  for (const auto& [name, value] : fields) {
    if (absl::Status s = checkUtf8(absl::StrCat("agent field '", name, "'"), *value); !s.ok()) {
      return s;
    }
  }
  for (size_t i = 0; i < info.groups.size(); ++i) {
    if (absl::Status s = checkUtf8(absl::StrCat("agent group ", i), info.groups[i]); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

void logSafely(const Logger& logger, LogLevel level, absl::string_view message) {
  if (!logger) return;
  try {
    logger(level, message);
  } catch (...) {
    // A broken logger must not break a session.
  }
}

absl::StatusOr<AgentInfo> askAgentInfo(const AgentInfoProvider& provider) {
  try {
    return provider();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("agent_info threw: ", e.what()));
  } catch (...) {
    return absl::InvalidArgumentError("agent_info threw an exception");
  }
}

std::string syncCodeName(SyncCode code) {
  switch (code) {
    case SyncCode::kOk:
      return "ok";
    case SyncCode::kNothingToDo:
      return "nothing to do";
    case SyncCode::kAlreadyRunning:
      return "already running";
    case SyncCode::kStopped:
      return "stopped";
    case SyncCode::kManagerNotReady:
      return "manager not ready";
    case SyncCode::kStartTimeout:
      return "start timeout";
    case SyncCode::kEndTimeout:
      return "end timeout";
    case SyncCode::kManagerError:
      return "manager error";
    case SyncCode::kChecksumMismatch:
      return "checksum mismatch";
    case SyncCode::kProtocolError:
      return "protocol error";
    case SyncCode::kTransportError:
      return "transport error";
    case SyncCode::kStorageError:
      return "storage error";
    case SyncCode::kInvalidArgument:
      return "invalid argument";
    case SyncCode::kAwaitingPrerequisite:
      return "awaiting prerequisite";
  }
  return absl::StrCat("code(", static_cast<int>(code), ")");
}

absl::Status toStatus(const SyncResult& result) {
  if (result.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(syncCodeName(result.code), ": ", result.message);
  switch (result.code) {
    case SyncCode::kManagerNotReady:
    case SyncCode::kTransportError:
    case SyncCode::kAwaitingPrerequisite:
      return absl::UnavailableError(message);
    case SyncCode::kStartTimeout:
    case SyncCode::kEndTimeout:
      return absl::DeadlineExceededError(message);
    case SyncCode::kStopped:
      return absl::CancelledError(message);
    case SyncCode::kAlreadyRunning:
      return absl::FailedPreconditionError(message);
    case SyncCode::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case SyncCode::kStorageError:
      return absl::InternalError(message);
    default:
      return absl::AbortedError(message);
  }
}

std::string logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "log";
}

}  // namespace asp
