// The thread's most recent call into the established interface: on which instance, and
// why it failed. Behind AgentSyncProtocol::lastError() and asp_last_error(). Internal to
// //asp/established.
#ifndef ASP_ESTABLISHED_LAST_CALL_H_
#define ASP_ESTABLISHED_LAST_CALL_H_

#include <string>

namespace asp::established {

// A call on `instance` (nullptr: asp_create, or a NULL handle) begins: its error is "".
void beginCall(const void* instance);
// The call on `instance` failed because of `reason`.
void recordFailure(const void* instance, const std::string& reason);
// The reason the thread's most recent call failed if it was on `instance`, else "".
const std::string& lastFailure(const void* instance);

}  // namespace asp::established

#endif  // ASP_ESTABLISHED_LAST_CALL_H_
