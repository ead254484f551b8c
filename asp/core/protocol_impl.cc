#include "asp/core/protocol_impl.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"
#include "asp/base/text.h"
#include "asp/core/prerequisites.h"
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
    if (index.empty())
      return absl::InvalidArgumentError(absl::StrCat(call, ": an index name is empty"));
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
  // A provider that does not know yet is fine here: sessions wait for it.
  absl::StatusOr<AgentInfo> info = askAgentInfo(options.agent_info);
  if (!info.ok() && !absl::IsUnavailable(info.status())) return info.status();
  if (absl::Status s = info.ok() ? validateAgentInfo(*info) : absl::OkStatus(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("agent_info: ", s.message()));
  }
  SqliteChangeQueue::Options queue_options;
  queue_options.path =
      options.database_path.empty() ? SqliteChangeQueue::kInMemoryPath : options.database_path;
  queue_options.durability = options.durability;
  queue_options.limits =
      ChangeLimits::forModule(options.module, options.session.frame_budget_bytes);
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
      runner_(options_.module, options_.session, options_.transport, clock_, &channel_,
              SessionCounters{[this](uint64_t frames, uint64_t bytes) {
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
                                             const std::string& index, const std::string& data,
                                             uint64_t version) {
  return queue_->record(Change{id, index, operation, data, version});
}

absl::Status ProtocolImpl::persistDifferenceInMemory(const std::string& id, Operation operation,
                                                     const std::string& index,
                                                     const std::string& data, uint64_t version) {
  return memory_.record(Change{id, index, operation, data, version});
}

void ProtocolImpl::clearInMemoryData() { memory_.clear(); }

SyncResult ProtocolImpl::rejected(SyncCode code, std::string message) {
  SyncResult result;
  result.code = code;
  result.message = std::move(message);
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

SyncResult ProtocolImpl::conclude(SyncResult result, Mode mode) {
  result.consecutive_failures = streak_.record(classify(result.code, mode == Mode::kCheck));
  const LogLevel level =
      outcomeLevel(result.code, mode == Mode::kCheck, result.consecutive_failures,
                   options_.session.failure_warning_threshold);
  std::string line = absl::StrCat(modeName(mode), " sync of module '", options_.module,
                                  "': ", syncCodeName(result.code));
  if (!result.message.empty()) absl::StrAppend(&line, " (", result.message, ")");
  if (result.consecutive_failures > 0 &&
      classify(result.code, mode == Mode::kCheck) != OutcomeKind::kNeutral) {
    absl::StrAppend(&line, "; ", result.consecutive_failures, " failed in a row");
  }
  if (result.sessions > 0) {
    absl::StrAppend(&line, "; ", result.sessions, " session", result.sessions > 1 ? "s" : "", ", ",
                    result.changes, " changes, ", result.frames_sent, " frames, ",
                    result.retransmitted, " retransmitted in ",
                    absl::FormatDuration(result.duration));
  }
  log(level, line);
  return result;
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

SyncResult ProtocolImpl::runExclusive(Mode mode, const std::function<SyncResult()>& call) {
  RunningFlag running(&running_);
  if (!running.held()) {
    return conclude(rejected(SyncCode::kAlreadyRunning,
                             absl::StrCat("module '", options_.module, "' already runs a session")),
                    mode);
  }
  if (channel_.stopped()) {
    return conclude(rejected(SyncCode::kStopped, "stopped; call reset() to sync again"), mode);
  }
  return conclude(call(), mode);
}

bool ProtocolImpl::awaitPrerequisites(Mode mode, AgentInfo* agent, SyncResult* failure) {
  absl::StatusOr<AgentInfo> info = awaitAgentInfo(
      options_.agent_info, mode, options_.session.prerequisite_wait, channel_, *clock_);
  if (info.ok()) {
    *agent = *std::move(info);
    return true;
  }
  const absl::Status& s = info.status();
  const SyncCode code = absl::IsCancelled(s)     ? SyncCode::kStopped
                        : absl::IsUnavailable(s) ? SyncCode::kAwaitingPrerequisite
                                                 : SyncCode::kInvalidArgument;
  *failure = rejected(code, std::string(s.message()));
  // Waiting for the agent's identity is a call that could not sync: it counts as a
  // failed session, so a lasting wait shows in the stats and the streak.
  if (code == SyncCode::kAwaitingPrerequisite) record(*failure, false);
  return false;
}

void ProtocolImpl::recoverIfNeeded() {
  if (needs_drop_ && queue_->commitSession().ok()) needs_drop_ = false;
  if (needs_recovery_ && !needs_drop_ && queue_->abortSession().ok()) needs_recovery_ = false;
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
  result.sessions = 1;
  if (source != nullptr) {
    absl::Status finished = result.ok() ? source->commitSession() : source->abortSession();
    if (!finished.ok() && result.ok() && !plan.cleans.empty()) {
      // The manager emptied those indices: sent again, their changes would put back what
      // the clean removed. They stay in flight and are dropped before the next session.
      needs_drop_ = true;
      result.code = SyncCode::kStorageError;
      result.message =
          absl::StrCat("the manager cleaned, but the queue could not drop the ",
                       "indices' changes (dropped before the next session): ", finished.message());
    } else if (!finished.ok() && result.ok()) {
      // The manager has the changes but we could not drop them: send them again later.
      needs_recovery_ = !source->abortSession().ok();
      result.code = SyncCode::kStorageError;
      result.message = absl::StrCat("the manager confirmed, but the queue could not drop the ",
                                    "sent changes (they will be sent again): ", finished.message());
    } else if (!finished.ok()) {
      needs_recovery_ = true;
      log(LogLevel::kError,
          absl::StrCat("could not return in-flight changes to the queue: ", finished.message()));
    }
  }
  // A mismatch is the answer an integrity check asks for, not a failure.
  const bool succeeded =
      result.ok() || (plan.mode == Mode::kCheck && result.code == SyncCode::kChecksumMismatch);
  record(result, succeeded);
  log(LogLevel::kDebug,
      absl::StrCat(modeName(plan.mode), " session ", result.session, " of module '",
                   options_.module, "': ", syncCodeName(result.code), "; ", result.changes,
                   " changes, ", result.frames_sent, " frames"));
  return result;
}

namespace {

// Adds one session's result to its call's: counters summed, the outcome the latest.
void accumulate(const SyncResult& one, SyncResult* call) {
  call->code = one.code;
  call->message = one.message;
  call->session = one.session;
  call->changes += one.changes;
  call->frames_sent += one.frames_sent;
  call->bytes_sent += one.bytes_sent;
  call->retransmitted += one.retransmitted;
  call->duration += one.duration;
  call->sessions += one.sessions;
}

}  // namespace

SyncResult ProtocolImpl::synchronizeModule(Mode mode, SyncOption option) {
  if (mode != Mode::kDelta && mode != Mode::kFull) {
    return conclude(
        rejected(SyncCode::kInvalidArgument,
                 absl::StrCat("synchronizeModule takes full or delta, not ", modeName(mode))),
        mode);
  }
  if (option != SyncOption::kSync && option != SyncOption::kVdFirst &&
      option != SyncOption::kVdSync) {
    return conclude(rejected(SyncCode::kInvalidArgument,
                             absl::StrCat("synchronizeModule takes option sync, vd first or vd ",
                                          "sync, not ", syncOptionName(option))),
                    mode);
  }
  return runExclusive(mode, [&] {
    return mode == Mode::kDelta ? synchronizeDelta(option) : synchronizeFull(option);
  });
}

// Consecutive bounded sessions until what was pending at the call is confirmed
// (docs/protocol.md §5, "Bounded sessions"). The agent's info is asked once, when there
// is something to send.
SyncResult ProtocolImpl::synchronizeDelta(SyncOption option) {
  recoverIfNeeded();
  absl::StatusOr<int64_t> mark = queue_->recordedMark();
  if (!mark.ok()) return rejected(SyncCode::kStorageError, std::string(mark.status().message()));
  SessionScope scope;
  scope.max_changes = options_.session.max_session_values;
  scope.max_bytes = options_.session.max_session_bytes;
  scope.up_to_mark = *mark;
  SyncResult call;
  AgentInfo agent;
  bool asked = false;
  while (true) {
    bool done = false;
    bool last = false;
    SyncResult one = deltaSession(scope, option, &agent, &asked, &done, &last);
    if (done) break;
    accumulate(one, &call);
    if (!one.ok()) return call;
    // Asking the queue again would find nothing, and would wait for its reclaimer, which
    // the last commit just woke to remove the confirmed rows.
    if (last) break;
  }
  if (call.sessions > 0) return call;
  SyncResult nothing;
  nothing.code = SyncCode::kNothingToDo;
  record(nothing, true);
  return nothing;
}

namespace {

// VD_FIRST and VD_SYNC sessions carry the module's context documents (docs/protocol.md §7).
bool carriesContexts(SyncOption option) {
  return option == SyncOption::kVdFirst || option == SyncOption::kVdSync;
}

// `scope` with room left for `contexts` within its bounds, keeping at least one value and
// one byte (an unbounded scope stays unbounded): the session stays within
// max_session_values / max_session_bytes unless the contexts alone exceed them.
SessionScope leaveRoomFor(SessionScope scope, const SqliteChangeQueue::ContextSet& contexts) {
  auto shrink = [](uint64_t bound, uint64_t taken) -> uint64_t {
    return bound == 0 ? 0 : bound > taken ? bound - taken : 1;
  };
  scope.max_changes = shrink(scope.max_changes, contexts.count);
  scope.max_bytes = shrink(scope.max_bytes, contexts.bytes);
  return scope;
}

}  // namespace

SyncResult ProtocolImpl::deltaSession(const SessionScope& scope, SyncOption option,
                                      AgentInfo* agent, bool* asked, bool* done, bool* last) {
  absl::StatusOr<SqliteChangeQueue::ContextSet> contexts = contextsFor(option);
  if (!contexts.ok()) {
    return rejected(SyncCode::kStorageError, std::string(contexts.status().message()));
  }
  absl::StatusOr<SessionInfo> info = queue_->beginSession(leaveRoomFor(scope, *contexts));
  if (!info.ok()) return rejected(SyncCode::kStorageError, std::string(info.status().message()));
  if (info->size == 0) {
    // Nothing froze, but the queue counts a session open until it ends.
    if (!queue_->commitSession().ok()) needs_recovery_ = true;
    *done = true;
    return SyncResult{};
  }
  SyncResult failure;
  if (!*asked && !awaitPrerequisites(Mode::kDelta, agent, &failure)) {
    if (!queue_->abortSession().ok()) needs_recovery_ = true;
    return failure;
  }
  *asked = true;
  *last = info->took_all;
  SessionPlan plan;
  plan.mode = Mode::kDelta;
  plan.option = option;
  plan.agent = *agent;
  plan.indices = std::move(info->indices);
  plan.size = info->size;
  plan.values = queue_.get();
  attachContexts(*contexts, &plan);
  return runSession(plan, queue_.get());
}

absl::StatusOr<SqliteChangeQueue::ContextSet> ProtocolImpl::contextsFor(SyncOption option) {
  if (!carriesContexts(option)) return SqliteChangeQueue::ContextSet{};
  return queue_->contextSet();
}

void ProtocolImpl::attachContexts(const SqliteChangeQueue::ContextSet& contexts,
                                  SessionPlan* plan) {
  if (contexts.count == 0) return;
  // After the values, seqs size..size+count-1. A session neither commits nor aborts them:
  // they stay until the module's clearContexts().
  plan->size += contexts.count;
  plan->context_count = contexts.count;
  plan->contexts = [this, contexts](uint64_t first, uint64_t last, size_t max_bytes) {
    return queue_->readContexts(contexts, first, last, max_bytes);
  };
}

SyncResult ProtocolImpl::synchronizeFull(SyncOption option) {
  absl::StatusOr<SessionInfo> info = memory_.beginSession({});
  if (!info.ok()) return rejected(SyncCode::kStorageError, std::string(info.status().message()));
  if (info->size == 0) {
    (void)memory_.commitSession();
    SyncResult nothing;
    nothing.code = SyncCode::kNothingToDo;
    record(nothing, true);
    return nothing;
  }
  SessionPlan plan;
  SyncResult failure;
  if (!awaitPrerequisites(Mode::kFull, &plan.agent, &failure)) {
    (void)memory_.abortSession();
    return failure;
  }
  absl::StatusOr<SqliteChangeQueue::ContextSet> contexts = contextsFor(option);
  if (!contexts.ok()) {
    (void)memory_.abortSession();
    return rejected(SyncCode::kStorageError, std::string(contexts.status().message()));
  }
  plan.mode = Mode::kFull;
  plan.option = option;
  plan.indices = std::move(info->indices);
  plan.size = info->size;
  plan.values = &memory_;
  attachContexts(*contexts, &plan);
  return runSession(plan, &memory_);
}

SyncResult ProtocolImpl::checkIntegrity(const std::string& index, const std::string& checksum) {
  SyncResult refused;
  if (index.empty()) {
    refused = rejected(SyncCode::kInvalidArgument, "requiresFullSync: index is empty");
  } else if (absl::Status s = checkUtf8("requiresFullSync: index", index); !s.ok()) {
    refused = rejected(SyncCode::kInvalidArgument, std::string(s.message()));
  } else if (!isChecksum(checksum)) {
    refused = rejected(SyncCode::kInvalidArgument,
                       absl::StrCat("requiresFullSync: checksum '", checksum, "' for index '",
                                    index, "' is not a lowercase hex SHA-1 (40 characters)"));
  }
  if (refused.code != SyncCode::kOk) return conclude(refused, Mode::kCheck);
  return runExclusive(Mode::kCheck, [&] {
    SessionPlan plan;
    SyncResult failure;
    if (!awaitPrerequisites(Mode::kCheck, &plan.agent, &failure)) return failure;
    plan.mode = Mode::kCheck;
    plan.indices = {index};
    plan.checksum = checksum;
    return recheckMismatch(plan, runSession(plan, nullptr));
  });
}

// A manager whose store lags behind its writes may answer a mismatch right after a
// sync (docs/protocol.md §5.1): ask again, and report a mismatch only if it persists.
SyncResult ProtocolImpl::recheckMismatch(const SessionPlan& plan, SyncResult result) {
  const SessionOptions& config = options_.session;
  for (int recheck = 1;
       result.code == SyncCode::kChecksumMismatch && recheck <= config.mismatch_rechecks;
       ++recheck) {
    log(LogLevel::kDebug,
        absl::StrCat("index '", plan.indices.front(), "' of module '", options_.module,
                     "' differs; checking again in ",
                     absl::FormatDuration(config.mismatch_recheck_delay), " (recheck ", recheck,
                     " of ", config.mismatch_rechecks, ")"));
    if (!channel_.sleepUntil(clock_->now() + config.mismatch_recheck_delay)) {
      result.code = SyncCode::kStopped;
      result.message = "stopped while waiting to check a mismatch again";
      return result;
    }
    SyncResult again = runSession(plan, nullptr);
    accumulate(again, &result);
    if (result.code == SyncCode::kOk) {
      result.message = absl::StrCat("matched on recheck ", recheck, " after a mismatch");
    } else if (result.code == SyncCode::kChecksumMismatch) {
      result.message = absl::StrCat("the manager's checksum differs, ", recheck + 1, " times");
    }
  }
  return result;
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
    return conclude(
        rejected(SyncCode::kInvalidArgument,
                 absl::StrCat("synchronizeMetadataOrGroups takes a metadata or group mode, not ",
                              modeName(mode))),
        mode);
  }
  if (absl::Status s = validateIndices("synchronizeMetadataOrGroups", indices); !s.ok()) {
    return conclude(rejected(SyncCode::kInvalidArgument, std::string(s.message())), mode);
  }
  return runExclusive(mode, [&] {
    SessionPlan plan;
    SyncResult failure;
    if (!awaitPrerequisites(mode, &plan.agent, &failure)) return failure;
    plan.mode = mode;
    plan.indices = indices;
    plan.global_version = global_version;
    return runSession(plan, nullptr);
  });
}

SyncResult ProtocolImpl::notifyDataClean(const std::vector<std::string>& indices,
                                         SyncOption option) {
  SyncResult refused;
  if (indices.empty()) {
    refused = rejected(SyncCode::kInvalidArgument, "notifyDataClean: no indices");
  } else if (absl::Status s = validateIndices("notifyDataClean", indices); !s.ok()) {
    refused = rejected(SyncCode::kInvalidArgument, std::string(s.message()));
  } else if (static_cast<int>(option) < 0 || option > SyncOption::kVdClean) {
    refused = rejected(SyncCode::kInvalidArgument,
                       absl::StrCat("notifyDataClean: unknown option ", static_cast<int>(option)));
  }
  if (refused.code != SyncCode::kOk) return conclude(refused, Mode::kDelta);
  // Each index is cleaned once, in the order first given.
  std::vector<std::string> unique;
  for (const std::string& index : indices) {
    if (std::find(unique.begin(), unique.end(), index) == unique.end()) unique.push_back(index);
  }
  return runExclusive(Mode::kDelta, [&]() -> SyncResult {
    SessionPlan plan;
    SyncResult failure;
    if (!awaitPrerequisites(Mode::kDelta, &plan.agent, &failure)) return failure;
    recoverIfNeeded();
    // Freeze what the clean makes obsolete; what is recorded meanwhile survives it.
    absl::StatusOr<SessionInfo> frozen = queue_->beginSession(SessionScope::of(unique));
    if (!frozen.ok()) {
      return rejected(SyncCode::kStorageError, std::string(frozen.status().message()));
    }
    plan.mode = Mode::kDelta;
    plan.option = option;
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
  needs_drop_ = false;
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
