#include "asp/c_api/c_api_support.h"

#include "asp/c_api/agent_sync_protocol_c_interface.h"

#include <cstdio>
#include <cstring>

namespace asp::c_api {


std::string& lastError() {
  thread_local std::string last_error;
  return last_error;
}

std::atomic<asp_logger_t> last_logger{nullptr};

void log(asp_logger_t logger, asp_log_level_t level, const std::string& message) {
  if (logger != nullptr) logger(level, message.c_str());
}

void failure(const AspHandle* handle, const std::string& message) {
  lastError() = message;
  log(handle != nullptr ? handle->logger : last_logger.load(), ASP_LOG_ERROR, message);
}

int fail(const AspHandle* handle, const std::string& message) {
  failure(handle, message);
  return -1;
}

int fail(const AspHandle* handle, const absl::Status& status) {
  return fail(handle, std::string(status.message()));
}


asp_sync_result_t makeResult(asp_sync_code_t code, const std::string& message) {
  asp_sync_result_t result;
  std::memset(&result, 0, sizeof(result));
  result.code = code;
  std::snprintf(result.reason, sizeof(result.reason), "%s: %s", asp_sync_code_name(code), message.c_str());
  return result;
}

asp_sync_result_t errorResult(const AspHandle* handle, asp_sync_code_t code, const std::string& message) {
  asp_sync_result_t result = makeResult(code, message);
  failure(handle, result.reason);
  return result;
}

asp_sync_result_t toC(const AspHandle* handle, const asp::SyncResult& r) {
  asp_sync_result_t result;
  std::memset(&result, 0, sizeof(result));
  result.success = r.ok();
  result.code = static_cast<asp_sync_code_t>(r.code);
  std::snprintf(result.reason, sizeof(result.reason), "%s%s%s", asp::syncCodeName(r.code).c_str(),
                r.message.empty() ? "" : ": ", r.message.c_str());
  result.session = r.session;
  result.changes = r.changes;
  result.frames_sent = r.frames_sent;
  result.bytes_sent = r.bytes_sent;
  result.retransmitted = r.retransmitted;
  result.duration_seconds = absl::ToDoubleSeconds(r.duration);
  if (!r.ok()) lastError() = result.reason;
  (void)handle;
  return result;
}

bool toMode(asp_mode_t mode, asp::Mode* out) {
  switch (mode) {
    case ASP_MODE_FULL: *out = asp::Mode::kFull; return true;
    case ASP_MODE_DELTA: *out = asp::Mode::kDelta; return true;
    case ASP_MODE_CHECK: *out = asp::Mode::kCheck; return true;
    case ASP_MODE_METADATA_DELTA: *out = asp::Mode::kMetadataDelta; return true;
    case ASP_MODE_METADATA_CHECK: *out = asp::Mode::kMetadataCheck; return true;
    case ASP_MODE_GROUP_DELTA: *out = asp::Mode::kGroupDelta; return true;
    case ASP_MODE_GROUP_CHECK: *out = asp::Mode::kGroupCheck; return true;
  }
  return false;
}

bool toOperation(asp_operation_t operation, asp::Operation* out) {
  switch (operation) {
    case ASP_OPERATION_CREATE: *out = asp::Operation::kCreate; return true;
    case ASP_OPERATION_MODIFY: *out = asp::Operation::kModify; return true;
    case ASP_OPERATION_DELETE: *out = asp::Operation::kDelete; return true;
  }
  return false;
}

bool toOption(asp_option_t option, asp::SyncOption* out) {
  switch (option) {
    case ASP_OPTION_SYNC: *out = asp::SyncOption::kSync; return true;
    case ASP_OPTION_VD_FIRST: *out = asp::SyncOption::kVdFirst; return true;
    case ASP_OPTION_VD_SYNC: *out = asp::SyncOption::kVdSync; return true;
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
