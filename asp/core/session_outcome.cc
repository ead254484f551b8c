#include "asp/core/session_outcome.h"

namespace asp {

OutcomeKind classify(SyncCode code, bool checked) {
  switch (code) {
    case SyncCode::kOk:
      return OutcomeKind::kSuccess;
    case SyncCode::kChecksumMismatch:
      return checked ? OutcomeKind::kSuccess : OutcomeKind::kTransient;
    case SyncCode::kNothingToDo:
    case SyncCode::kAlreadyRunning:
    case SyncCode::kStopped:
    case SyncCode::kInvalidArgument:
      return OutcomeKind::kNeutral;
    case SyncCode::kManagerNotReady:
    case SyncCode::kStartTimeout:
    case SyncCode::kEndTimeout:
    case SyncCode::kManagerError:
    case SyncCode::kTransportError:
    case SyncCode::kAwaitingPrerequisite:
      return OutcomeKind::kTransient;
    case SyncCode::kProtocolError:
      return OutcomeKind::kProtocol;
    case SyncCode::kStorageError:
      return OutcomeKind::kLocal;
  }
  return OutcomeKind::kProtocol;
}

LogLevel outcomeLevel(SyncCode code, bool checked, uint64_t consecutive_failures,
                      int warning_threshold) {
  switch (classify(code, checked)) {
    case OutcomeKind::kSuccess:
      return LogLevel::kDebug;
    case OutcomeKind::kNeutral:
      if (code == SyncCode::kInvalidArgument) return LogLevel::kWarning;
      return code == SyncCode::kStopped ? LogLevel::kInfo : LogLevel::kDebug;
    case OutcomeKind::kTransient:
      return consecutive_failures >= static_cast<uint64_t>(warning_threshold) ? LogLevel::kWarning
                                                                              : LogLevel::kInfo;
    case OutcomeKind::kProtocol:
      return LogLevel::kWarning;
    case OutcomeKind::kLocal:
      return LogLevel::kError;
  }
  return LogLevel::kWarning;
}

uint64_t FailureStreak::record(OutcomeKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  if (kind == OutcomeKind::kSuccess) {
    failures_ = 0;
  } else if (kind != OutcomeKind::kNeutral) {
    ++failures_;
  }
  return failures_;
}

uint64_t FailureStreak::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

}  // namespace asp
