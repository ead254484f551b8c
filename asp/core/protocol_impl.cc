#include "asp/core/protocol_impl.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"
#include "asp/base/text.h"
#include "asp/proto/limits.h"
#include "asp/proto/validate.h"

namespace asp {
namespace {

absl::Status validateOptions(const AgentSyncProtocol::Options& o) {
  if (absl::Status s = wire::validateModuleName(o.module); !s.ok()) return s;
  if (o.transport == nullptr) return absl::InvalidArgumentError("no transport given");
  return validateSessionOptions(o.session);
}

// OK, or InvalidArgument naming the first index that is empty or not UTF-8.
absl::Status validateIndices(absl::string_view call, const std::vector<std::string>& indices) {
  for (const std::string& index : indices) {
    if (index.empty()) return absl::InvalidArgumentError(absl::StrCat(call, ": an index name is empty"));
    if (absl::Status s = checkUtf8(absl::StrCat(call, ": index"), index); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool isAnswer(const wire::v1::Message& message) {
  return message.has_start_ack() || message.has_end_ack() || message.has_req_ret();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> AgentSyncProtocol::create(Options options) {
  if (absl::Status s = validateOptions(options); !s.ok()) return s;
  if (!options.agent_info) {
    options.agent_info = [info = defaultAgentInfo()] { return info; };
  }
  if (options.clock == nullptr) options.clock = systemClock();
  absl::StatusOr<AgentInfo> info = askAgentInfo(options.agent_info);
  if (!info.ok()) return info.status();
  if (absl::Status s = validateAgentInfo(*info); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("agent_info: ", s.message()));
  }
  SqliteChangeQueue::Options queue_options;
  queue_options.path =
      options.database_path.empty() ? SqliteChangeQueue::kInMemoryPath : options.database_path;
  queue_options.durability = options.durability;
  queue_options.limits = ChangeLimits::forModule(options.module, options.session.frame_budget_bytes);
  queue_options.asynchronous = options.asynchronous_recording;
  queue_options.async.clock = options.clock;
  queue_options.clock = options.clock;
  queue_options.vfs = options.sqlite_vfs;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue =
      SqliteChangeQueue::open(std::move(queue_options));
  if (!queue.ok()) return queue.status();
  return std::unique_ptr<AgentSyncProtocol>(
      new ProtocolImpl(std::move(options), *std::move(queue)));
}

ProtocolImpl::ProtocolImpl(Options options, std::unique_ptr<SqliteChangeQueue> queue)
    : options_(std::move(options)),
      clock_(options_.clock),
      queue_(std::move(queue)),
      memory_(ChangeLimits::forModule(options_.module, options_.session.frame_budget_bytes)),
      channel_(clock_),
      runner_(options_.module, options_.agent_info, options_.session, options_.transport, clock_,
              &channel_,
              SessionCounters{
                  [this](uint64_t frames, uint64_t bytes) {
                    std::lock_guard<std::mutex> lock(stats_mu_);
                    stats_.frames_sent += frames;
                    stats_.bytes_sent += bytes;
                  },
                  [this](uint64_t values) {
                    std::lock_guard<std::mutex> lock(stats_mu_);
                    stats_.values_sent += values;
                  },
                  [this](uint64_t values) {
                    std::lock_guard<std::mutex> lock(stats_mu_);
                    stats_.retransmitted += values;
                  }},
              options_.logger) {}

// Only the channel: the transport may already be gone when the protocol is destroyed.
ProtocolImpl::~ProtocolImpl() { channel_.stop(); }

void ProtocolImpl::log(LogLevel level, const std::string& message) const {
  logSafely(options_.logger, level, message);
}

absl::Status ProtocolImpl::persistDifference(const std::string& id, Operation operation,
                                                  const std::string& index,
                                                  const std::string& data, uint64_t version) {
  return queue_->record(Change{id, index, operation, data, version});
}

absl::Status ProtocolImpl::persistDifferenceInMemory(const std::string& id,
                                                          Operation operation,
                                                          const std::string& index,
                                                          const std::string& data,
                                                          uint64_t version) {
  return memory_.record(Change{id, index, operation, data, version});
}

void ProtocolImpl::clearInMemoryData() { memory_.clear(); }

SyncResult ProtocolImpl::rejected(SyncCode code, std::string message) {
  SyncResult result;
  result.code = code;
  result.message = std::move(message);
  const bool routine = code == SyncCode::kAlreadyRunning || code == SyncCode::kStopped;
  log(routine ? LogLevel::kInfo : LogLevel::kWarning,
      absl::StrCat("module '", options_.module, "': ", syncCodeName(code), ": ", result.message));
  // Bad arguments, "already running" and "stopped" are refusals, not sessions; a queue
  // that cannot begin one is a failed session.
  if (code == SyncCode::kStorageError) record(result, false);
  return result;
}

void ProtocolImpl::record(const SyncResult& result, bool succeeded) {
  std::lock_guard<std::mutex> lock(stats_mu_);
  if (succeeded) {
    ++stats_.sessions_ok;
  } else {
    ++stats_.sessions_failed;
    stats_.last_failure = absl::StrCat(syncCodeName(result.code), ": ", result.message);
  }
}

// Holds the "a session runs" flag for one scope, whatever leaves it (an exception too):
// an instance must never be left refusing every later sync as "already running".
class ProtocolImpl::RunningFlag {
 public:
  explicit RunningFlag(std::atomic<bool>* running) : running_(running) {
    bool idle = false;
    held_ = running_->compare_exchange_strong(idle, true);
  }
  ~RunningFlag() {
    if (held_) *running_ = false;
  }
  bool held() const { return held_; }

 private:
  std::atomic<bool>* running_;
  bool held_ = false;
};

SyncResult ProtocolImpl::runExclusive(const std::function<SyncResult()>& session) {
  RunningFlag running(&running_);
  if (!running.held()) {
    return rejected(SyncCode::kAlreadyRunning,
                    absl::StrCat("module '", options_.module, "' already runs a session"));
  }
  if (channel_.stopped()) return rejected(SyncCode::kStopped, "stopped; call reset() to sync again");
  return session();
}

SyncResult ProtocolImpl::runSession(const SessionPlan& plan, SessionSource* source) {
  SyncResult result;
  try {
    result = runner_.run(plan);
  } catch (...) {
    // Not one of the module's callbacks (those are caught where they are called): put
    // the changes back before the exception goes on.
    if (source != nullptr && !source->abortSession().ok()) needs_recovery_ = true;
    throw;
  }
  if (source != nullptr) {
    absl::Status finished = result.ok() ? source->commitSession() : source->abortSession();
    if (!finished.ok() && result.ok()) {
      // The manager has the changes but we could not drop them: send them again later.
      needs_recovery_ = !source->abortSession().ok();
      result.code = SyncCode::kStorageError;
      result.message = absl::StrCat("the manager confirmed, but the queue could not drop the ",
                                    "sent changes (they will be sent again): ",
                                    finished.message());
    } else if (!finished.ok()) {
      needs_recovery_ = true;
      log(LogLevel::kError, absl::StrCat("could not return in-flight changes to the queue: ",
                                         finished.message()));
    }
  }
  // A mismatch is the answer an integrity check asks for, not a failure.
  const bool succeeded = result.ok() || (plan.mode == Mode::kCheck &&
                                         result.code == SyncCode::kChecksumMismatch);
  record(result, succeeded);
  const LogLevel level = succeeded ? LogLevel::kInfo : LogLevel::kWarning;
  log(level, absl::StrCat(modeName(plan.mode), " session of module '", options_.module, "': ",
                          syncCodeName(result.code),
                          result.message.empty() ? "" : absl::StrCat(" (", result.message, ")"),
                          "; ", result.changes, " changes, ", result.frames_sent, " frames, ",
                          result.retransmitted, " retransmitted in ",
                          absl::FormatDuration(result.duration)));
  return result;
}

SyncResult ProtocolImpl::synchronizeModule(Mode mode, SyncOption option) {
  if (mode != Mode::kDelta && mode != Mode::kFull) {
    return rejected(SyncCode::kInvalidArgument,
                    absl::StrCat("synchronizeModule takes full or delta, not ", modeName(mode)));
  }
  if (option != SyncOption::kSync && option != SyncOption::kVdFirst &&
      option != SyncOption::kVdSync) {
    return rejected(SyncCode::kInvalidArgument,
                    absl::StrCat("unknown option ", static_cast<int>(option)));
  }
  return runExclusive([&]() -> SyncResult {
    SessionSource* source = mode == Mode::kDelta ? static_cast<SessionSource*>(queue_.get())
                                                 : static_cast<SessionSource*>(&memory_);
    if (needs_recovery_ && queue_->abortSession().ok()) needs_recovery_ = false;
    absl::StatusOr<SessionInfo> info = source->beginSession({});
    if (!info.ok()) return rejected(SyncCode::kStorageError, std::string(info.status().message()));
    if (info->size == 0) {
      (void)source->commitSession();
      SyncResult nothing;
      nothing.code = SyncCode::kNothingToDo;
      record(nothing, true);
      return nothing;
    }
    SessionPlan plan;
    plan.mode = mode;
    plan.option = option;
    plan.indices = std::move(info->indices);
    plan.size = info->size;
    plan.values = source;
    return runSession(plan, source);
  });
}

SyncResult ProtocolImpl::checkIntegrity(const std::string& index,
                                             const std::string& checksum) {
  if (index.empty()) return rejected(SyncCode::kInvalidArgument, "requiresFullSync: index is empty");
  if (absl::Status s = checkUtf8("requiresFullSync: index", index); !s.ok()) {
    return rejected(SyncCode::kInvalidArgument, std::string(s.message()));
  }
  if (!isChecksum(checksum)) {
    return rejected(SyncCode::kInvalidArgument,
                    absl::StrCat("requiresFullSync: checksum '", checksum, "' for index '", index,
                                 "' is not a lowercase hex SHA-1 (40 characters)"));
  }
  return runExclusive([&] {
    SessionPlan plan;
    plan.mode = Mode::kCheck;
    plan.indices = {index};
    plan.checksum = checksum;
    return runSession(plan, nullptr);
  });
}

absl::StatusOr<bool> ProtocolImpl::requiresFullSync(const std::string& index,
                                                         const std::string& checksum) {
  SyncResult result = checkIntegrity(index, checksum);
  if (result.code == SyncCode::kOk) return false;
  if (result.code == SyncCode::kChecksumMismatch) return true;
  return toStatus(result);
}

SyncResult ProtocolImpl::synchronizeMetadataOrGroups(Mode mode,
                                                          const std::vector<std::string>& indices,
                                                          uint64_t global_version) {
  if (mode != Mode::kMetadataDelta && mode != Mode::kMetadataCheck && mode != Mode::kGroupDelta &&
      mode != Mode::kGroupCheck) {
    return rejected(SyncCode::kInvalidArgument,
                    absl::StrCat("synchronizeMetadataOrGroups takes a metadata or group mode, not ",
                                 modeName(mode)));
  }
  if (absl::Status s = validateIndices("synchronizeMetadataOrGroups", indices); !s.ok()) {
    return rejected(SyncCode::kInvalidArgument, std::string(s.message()));
  }
  return runExclusive([&] {
    SessionPlan plan;
    plan.mode = mode;
    plan.indices = indices;
    plan.global_version = global_version;
    return runSession(plan, nullptr);
  });
}

SyncResult ProtocolImpl::notifyDataClean(const std::vector<std::string>& indices) {
  if (indices.empty()) return rejected(SyncCode::kInvalidArgument, "notifyDataClean: no indices");
  if (absl::Status s = validateIndices("notifyDataClean", indices); !s.ok()) {
    return rejected(SyncCode::kInvalidArgument, std::string(s.message()));
  }
  // Each index is cleaned once, in the order first given.
  std::vector<std::string> unique;
  for (const std::string& index : indices) {
    if (std::find(unique.begin(), unique.end(), index) == unique.end()) unique.push_back(index);
  }
  return runExclusive([&]() -> SyncResult {
    if (needs_recovery_ && queue_->abortSession().ok()) needs_recovery_ = false;
    // Freeze what the clean makes obsolete; what is recorded meanwhile survives it.
    absl::StatusOr<SessionInfo> frozen = queue_->beginSession(SessionScope::of(unique));
    if (!frozen.ok()) {
      return rejected(SyncCode::kStorageError, std::string(frozen.status().message()));
    }
    SessionPlan plan;
    plan.mode = Mode::kDelta;
    plan.indices = unique;
    plan.size = unique.size();
    plan.cleans = unique;
    return runSession(plan, queue_.get());
  });
}

absl::Status ProtocolImpl::parseResponseBuffer(const uint8_t* data, size_t length) {
  auto malformed = [this](std::string message) {
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++stats_.answers_malformed;
    }
    return absl::InvalidArgumentError(std::move(message));
  };
  if (data == nullptr && length > 0) return malformed("answer buffer is null");
  wire::v1::Message message;
  if (length > static_cast<size_t>(INT32_MAX) ||
      !message.ParseFromArray(data, static_cast<int>(length))) {
    return malformed(absl::StrCat("answer of ", length, " bytes is not a valid message"));
  }
  if (!isAnswer(message)) {
    return malformed(absl::StrCat("message of type ", message.content_case(),
                                  " is not an answer (StartAck, EndAck or ReqRet)"));
  }
  if (absl::Status s = wire::validate(message); !s.ok()) {
    // An answer for the current exchange that breaks the protocol fails the session.
    channel_.deliverViolation(message, absl::StrCat("invalid answer: ", s.message()));
    return malformed(std::string(s.message()));
  }
  const std::string bytes(reinterpret_cast<const char*>(data), length);
  if (channel_.deliver(std::move(message), bytes) != AnswerChannel::Delivery::kAccepted) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.answers_ignored;
  }
  return absl::OkStatus();
}

absl::Status ProtocolImpl::deleteDatabase() {
  RunningFlag running(&running_);
  if (!running.held()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "module '", options_.module, "' runs a session; stop() it before deleteDatabase()"));
  }
  absl::Status status = queue_->deleteDatabase();
  needs_recovery_ = false;
  return status;
}

void ProtocolImpl::stop() {
  channel_.stop();
  options_.transport->interrupt();
}

void ProtocolImpl::reset() {
  channel_.reset();
  options_.transport->resume();
}

Stats ProtocolImpl::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

}  // namespace asp
