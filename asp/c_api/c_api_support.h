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
#include "asp/c_api/agent_sync_protocol_types.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/transport/unix_datagram_transport.h"

struct AspHandle {
  asp_logger_t logger = nullptr;
  std::unique_ptr<asp::Transport> transport;
  asp::UnixDatagramTransport* unix_transport = nullptr;  // the built-in MQ, if used
  std::unique_ptr<asp::AgentSyncProtocol> protocol;
  std::mutex agent_mu;
  asp::AgentInfo agent;
};

namespace asp::c_api {

// The reason of the last failed call in this thread.
std::string& lastError();
// The logger of the most recent asp_create* call that passed one.
extern std::atomic<asp_logger_t> last_logger;

void log(asp_logger_t logger, asp_log_level_t level, const std::string& message);
// Records and logs the reason of a failed call.
void failure(const AspHandle* handle, const std::string& message);
// failure(), then -1.
int fail(const AspHandle* handle, const std::string& message);
int fail(const AspHandle* handle, const absl::Status& status);

asp_sync_result_t makeResult(asp_sync_code_t code, const std::string& message);
// A refused call: logged and remembered.
asp_sync_result_t errorResult(const AspHandle* handle, asp_sync_code_t code, const std::string& message);
asp_sync_result_t toC(const AspHandle* handle, const asp::SyncResult& r);

bool toMode(asp_mode_t mode, asp::Mode* out);
bool toOperation(asp_operation_t operation, asp::Operation* out);
bool toOption(asp_option_t option, asp::SyncOption* out);
std::string text(const char* s);
// False when `indices` is NULL with a count, or holds a NULL.
bool readIndices(const char* const* indices, size_t count, std::vector<std::string>* out);

// Runs `body`, turning any escaping exception into an error.
template <typename Result, typename Body>
Result guarded(const AspHandle* handle, const char* function, Result on_error, Body body) {
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
