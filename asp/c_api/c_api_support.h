// Error reporting and conversions behind the C interface: the handle's definition, the
// thread's last error, the fallback logger, and C <-> C++ enum and result conversions.
// Internal to //asp/c_api.
#ifndef ASP_C_API_C_API_SUPPORT_H_
#define ASP_C_API_C_API_SUPPORT_H_

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "asp/c_api/aspx_types.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/transport/transport.h"

// One of `socket` (the built-in socket, mq NULL) or `transport` + `owned_protocol` (the
// module's MQ_Functions) is set; `protocol` points at the protocol of either.
struct AspxHandle {
  aspx_logger_t logger = nullptr;
  std::unique_ptr<asp::SocketSyncProtocol> socket;
  std::unique_ptr<asp::Transport> transport;
  std::unique_ptr<asp::AgentSyncProtocol> owned_protocol;
  asp::AgentSyncProtocol* protocol = nullptr;
  std::mutex agent_mu;
  asp::AgentInfo agent;
  bool agent_known = true;  // false after aspx_set_agent_info_unavailable()
};

namespace asp::c_api {

// The reason of the last failed call in this thread.
std::string& lastError();
// The logger of the most recent aspx_create* call that passed one.
extern std::atomic<aspx_logger_t> last_logger;

void log(aspx_logger_t logger, aspx_log_level_t level, const std::string& message);
// Records and logs the reason of a failed call.
void failure(const AspxHandle* handle, const std::string& message);
// failure(), then -1.
int fail(const AspxHandle* handle, const std::string& message);
int fail(const AspxHandle* handle, const absl::Status& status);

aspx_sync_result_t makeResult(aspx_sync_code_t code, const std::string& message);
// A refused call: logged and remembered.
aspx_sync_result_t errorResult(const AspxHandle* handle, aspx_sync_code_t code,
                               const std::string& message);
aspx_sync_result_t toC(const AspxHandle* handle, const asp::SyncResult& r);

// The core's name of a code (asp::syncCodeName), "unknown code" out of range. Never NULL.
const char* codeName(aspx_sync_code_t code);
aspx_log_level_t toC(asp::LogLevel level);

bool toMode(aspx_mode_t mode, asp::Mode* out);
bool toOperation(aspx_operation_t operation, asp::Operation* out);
bool toOption(aspx_option_t option, asp::SyncOption* out);
std::string text(const char* s);
// False when `indices` is NULL with a count, or holds a NULL.
bool readIndices(const char* const* indices, size_t count, std::vector<std::string>* out);

// Runs `body`, turning any escaping exception into an error.
template <typename Result, typename Body>
Result guarded(const AspxHandle* handle, const char* function, Result on_error, Body body) {
  try {
    lastError().clear();
    return body();
  } catch (const std::exception& e) {
    failure(handle, absl::StrCat(function, ": internal error: ", e.what()));
  } catch (...) {
    failure(handle, absl::StrCat(function, ": internal error"));
  }
  return on_error;
}

}  // namespace asp::c_api

#endif  // ASP_C_API_C_API_SUPPORT_H_
