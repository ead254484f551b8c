#include "asp/c_api/c_api_support.h"

#include <cstdio>
#include <cstring>

#include "asp/c_api/aspx.h"

namespace asp::c_api {
namespace {

// The C enums carry the core's values: a conversion is a cast, and these keep it honest.
template <typename C, typename Core>
constexpr bool same(C c, Core core) {
  return static_cast<int>(c) == static_cast<int>(core);
}
static_assert(same(ASPX_SYNC_OK, SyncCode::kOk) &&
                  same(ASPX_SYNC_NOTHING_TO_DO, SyncCode::kNothingToDo) &&
                  same(ASPX_SYNC_ALREADY_RUNNING, SyncCode::kAlreadyRunning) &&
                  same(ASPX_SYNC_STOPPED, SyncCode::kStopped) &&
                  same(ASPX_SYNC_MANAGER_NOT_READY, SyncCode::kManagerNotReady) &&
                  same(ASPX_SYNC_START_TIMEOUT, SyncCode::kStartTimeout) &&
                  same(ASPX_SYNC_END_TIMEOUT, SyncCode::kEndTimeout) &&
                  same(ASPX_SYNC_MANAGER_ERROR, SyncCode::kManagerError) &&
                  same(ASPX_SYNC_CHECKSUM_MISMATCH, SyncCode::kChecksumMismatch) &&
                  same(ASPX_SYNC_PROTOCOL_ERROR, SyncCode::kProtocolError) &&
                  same(ASPX_SYNC_TRANSPORT_ERROR, SyncCode::kTransportError) &&
                  same(ASPX_SYNC_STORAGE_ERROR, SyncCode::kStorageError) &&
                  same(ASPX_SYNC_INVALID_ARGUMENT, SyncCode::kInvalidArgument) &&
                  same(ASPX_SYNC_AWAITING_PREREQUISITE, SyncCode::kAwaitingPrerequisite),
              "aspx_sync_code_t and asp::SyncCode differ");
constexpr int kSyncCodes = ASPX_SYNC_AWAITING_PREREQUISITE + 1;
static_assert(same(ASPX_LOG_DEBUG, LogLevel::kDebug) && same(ASPX_LOG_INFO, LogLevel::kInfo) &&
                  same(ASPX_LOG_WARNING, LogLevel::kWarning) &&
                  same(ASPX_LOG_ERROR, LogLevel::kError),
              "aspx_log_level_t and asp::LogLevel differ");
static_assert(same(ASPX_OPERATION_CREATE, Operation::kCreate) &&
                  same(ASPX_OPERATION_MODIFY, Operation::kModify) &&
                  same(ASPX_OPERATION_DELETE, Operation::kDelete),
              "aspx_operation_t and asp::Operation differ");
static_assert(same(ASPX_MODE_FULL, Mode::kFull) && same(ASPX_MODE_DELTA, Mode::kDelta) &&
                  same(ASPX_MODE_CHECK, Mode::kCheck) &&
                  same(ASPX_MODE_METADATA_DELTA, Mode::kMetadataDelta) &&
                  same(ASPX_MODE_METADATA_CHECK, Mode::kMetadataCheck) &&
                  same(ASPX_MODE_GROUP_DELTA, Mode::kGroupDelta) &&
                  same(ASPX_MODE_GROUP_CHECK, Mode::kGroupCheck),
              "aspx_mode_t and asp::Mode differ");
static_assert(same(ASPX_OPTION_SYNC, SyncOption::kSync) &&
                  same(ASPX_OPTION_VD_FIRST, SyncOption::kVdFirst) &&
                  same(ASPX_OPTION_VD_SYNC, SyncOption::kVdSync) &&
                  same(ASPX_OPTION_VD_CLEAN, SyncOption::kVdClean),
              "aspx_option_t and asp::SyncOption differ");

}  // namespace

std::string& lastError() {
  thread_local std::string last_error;
  return last_error;
}

std::atomic<aspx_logger_t> last_logger{nullptr};

void log(aspx_logger_t logger, aspx_log_level_t level, const std::string& message) {
  if (logger != nullptr) logger(level, message.c_str());
}

void failure(const AspxHandle* handle, const std::string& message) {
  lastError() = message;
  log(handle != nullptr ? handle->logger : last_logger.load(), ASPX_LOG_ERROR, message);
}

int fail(const AspxHandle* handle, const std::string& message) {
  failure(handle, message);
  return -1;
}

int fail(const AspxHandle* handle, const absl::Status& status) {
  return fail(handle, std::string(status.message()));
}

aspx_sync_result_t makeResult(aspx_sync_code_t code, const std::string& message) {
  aspx_sync_result_t result;
  std::memset(&result, 0, sizeof(result));
  result.code = code;
  std::snprintf(result.reason, sizeof(result.reason), "%s: %s", codeName(code), message.c_str());
  return result;
}

aspx_sync_result_t errorResult(const AspxHandle* handle, aspx_sync_code_t code,
                               const std::string& message) {
  aspx_sync_result_t result = makeResult(code, message);
  failure(handle, result.reason);
  return result;
}

aspx_sync_result_t toC(const AspxHandle* handle, const asp::SyncResult& r) {
  aspx_sync_result_t result;
  std::memset(&result, 0, sizeof(result));
  result.success = r.ok();
  result.code = static_cast<aspx_sync_code_t>(r.code);
  std::snprintf(result.reason, sizeof(result.reason), "%s%s%s", asp::syncCodeName(r.code).c_str(),
                r.message.empty() ? "" : ": ", r.message.c_str());
  result.session = r.session;
  result.changes = r.changes;
  result.frames_sent = r.frames_sent;
  result.bytes_sent = r.bytes_sent;
  result.retransmitted = r.retransmitted;
  result.duration_seconds = absl::ToDoubleSeconds(r.duration);
  result.sessions = r.sessions;
  result.consecutive_failures = r.consecutive_failures;
  if (!r.ok()) lastError() = result.reason;
  (void)handle;
  return result;
}

const char* codeName(aspx_sync_code_t code) {
  // The core's names, kept for the life of the process so the C caller may hold them.
  static const std::vector<std::string>* const names = [] {
    auto* all = new std::vector<std::string>();
    for (int i = 0; i < kSyncCodes; ++i) all->push_back(syncCodeName(static_cast<SyncCode>(i)));
    return all;
  }();
  const int i = static_cast<int>(code);
  return i >= 0 && i < kSyncCodes ? (*names)[i].c_str() : "unknown code";
}

aspx_log_level_t toC(LogLevel level) { return static_cast<aspx_log_level_t>(level); }

bool toMode(aspx_mode_t mode, asp::Mode* out) {
  switch (mode) {
    case ASPX_MODE_FULL:
      *out = asp::Mode::kFull;
      return true;
    case ASPX_MODE_DELTA:
      *out = asp::Mode::kDelta;
      return true;
    case ASPX_MODE_CHECK:
      *out = asp::Mode::kCheck;
      return true;
    case ASPX_MODE_METADATA_DELTA:
      *out = asp::Mode::kMetadataDelta;
      return true;
    case ASPX_MODE_METADATA_CHECK:
      *out = asp::Mode::kMetadataCheck;
      return true;
    case ASPX_MODE_GROUP_DELTA:
      *out = asp::Mode::kGroupDelta;
      return true;
    case ASPX_MODE_GROUP_CHECK:
      *out = asp::Mode::kGroupCheck;
      return true;
  }
  return false;
}

bool toOperation(aspx_operation_t operation, asp::Operation* out) {
  switch (operation) {
    case ASPX_OPERATION_CREATE:
      *out = asp::Operation::kCreate;
      return true;
    case ASPX_OPERATION_MODIFY:
      *out = asp::Operation::kModify;
      return true;
    case ASPX_OPERATION_DELETE:
      *out = asp::Operation::kDelete;
      return true;
  }
  return false;
}

bool toOption(aspx_option_t option, asp::SyncOption* out) {
  switch (option) {
    case ASPX_OPTION_SYNC:
      *out = asp::SyncOption::kSync;
      return true;
    case ASPX_OPTION_VD_FIRST:
      *out = asp::SyncOption::kVdFirst;
      return true;
    case ASPX_OPTION_VD_SYNC:
      *out = asp::SyncOption::kVdSync;
      return true;
    case ASPX_OPTION_VD_CLEAN:
      *out = asp::SyncOption::kVdClean;
      return true;
  }
  return false;
}

std::string text(const char* s) { return s != nullptr ? s : ""; }

bool readIndices(const char* const* indices, size_t count, std::vector<std::string>* out) {
  if (indices == nullptr && count > 0) return false;
  for (size_t i = 0; i < count; ++i) {
    if (indices[i] == nullptr) return false;
    out->push_back(indices[i]);
  }
  return true;
}

}  // namespace asp::c_api
