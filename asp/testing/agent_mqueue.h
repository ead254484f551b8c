/* The agent's MQueue, for tests of modules written against the established interface
 * (which receive the agent's MQ_Functions and are handed the manager's answers by the
 * agent). Usable from C and C++. Test-only.
 *
 *   agent_mqueue_open("/tmp/.../queue");               where the manager listens
 *   agent_mqueue_route("fim", on_fim_answer, module);  answers for "fim_sync "
 *   AgentSyncProtocolHandle* h = asp_create("fim", db, &agent_mqueue_functions, ...);
 *
 * start(key, type, attempts) ignores the key (the agent's own StartMQ resolves it) and
 * returns 1 when a manager path is set, else -1. send_binary(queue, msg, len, module, 's')
 * sends "s:<module>:<msg>" over asp::UnixDatagramTransport (one socket per module, opened
 * at its first send) and returns 0, or -1 when it cannot be sent (no manager listening).
 * Each answer, its "<module>_sync " header removed, goes to the module's route on the
 * socket's receiver thread.
 *
 * One agent queue per process, as in an agent. Thread-safe. */
#ifndef ASP_TESTING_AGENT_MQUEUE_H_
#define ASP_TESTING_AGENT_MQUEUE_H_

#include <stddef.h>
#include <stdint.h>

#include "asp/transport/mq_functions.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*agent_mqueue_answer_fn)(void* context, const uint8_t* data, size_t length);

/* Points the queue at `manager_socket` (closing the sockets of an earlier one). Open and
 * close must not run while a send_binary is in progress. */
void agent_mqueue_open(const char* manager_socket);
/* Where answers for `module` go (NULL: dropped). Returns once no answer is being
 * delivered, so routing a module to NULL before destroying its handle is safe; a route
 * must not call this function. */
void agent_mqueue_route(const char* module, agent_mqueue_answer_fn on_answer, void* context);
/* Closes every socket and forgets the routes; start() then fails until the next open. */
void agent_mqueue_close(void);

extern const MQ_Functions agent_mqueue_functions;

#ifdef __cplusplus
}
#endif

#endif /* ASP_TESTING_AGENT_MQUEUE_H_ */
