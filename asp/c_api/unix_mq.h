// The built-in MQ_Functions over a Unix datagram socket (asp_unix_mq_functions()).
//
// start(path, type, attempts) opens an autobound datagram socket for `path` and returns
// its descriptor; send_binary(queue, msg, len, module, location) sends
// "<location>:<module>:<msg>" to that path (waiting up to a second on a full queue).
// asp_create() recognises these functions and uses UnixDatagramTransport instead, which
// also receives the manager's answers; calling them directly works too.
#ifndef ASP_C_API_UNIX_MQ_H_
#define ASP_C_API_UNIX_MQ_H_

#include "asp/transport/mq_functions.h"

namespace asp::c_api {

const MQ_Functions* builtinUnixMq();
bool isBuiltinUnixMq(const MQ_Functions& functions);

}  // namespace asp::c_api

#endif  // ASP_C_API_UNIX_MQ_H_
