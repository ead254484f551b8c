/* Types of the established C interface (agent_sync_protocol_c_interface.h), with the
 * established names and values. Usable from C and C++. See docs/porting.md. */
#ifndef ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_C_INTERFACE_TYPES_H_
#define ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_C_INTERFACE_TYPES_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MQ_Functions, mq_start_fn and mq_send_binary_fn: the agent's MQueue functions. */
#include "asp/transport/mq_functions.h"
#include "logging_helper.h"

#define SYNC_FAILURE_REASON_MAX_LEN 2048

/* Consecutive failed synchronizations a module tolerates before it reports a
 * manager-not-ready failure at WARNING instead of INFO. */
#define SYNC_MANAGER_NOT_READY_TOLERANCE 3U

#ifdef __cplusplus
extern "C" {
#endif

/* A C caller may pass any int where an enum is expected; in C++ the enums below therefore
 * have int as their underlying type, so reading an out-of-range value (which the
 * interface then refuses) is well defined. Names and values are the established ones. */
#ifdef __cplusplus
#define ASP_ESTABLISHED_C_ENUM enum : int
#else
#define ASP_ESTABLISHED_C_ENUM enum
#endif

/* The outcome of a session call.
 *   success              the session completed (or there was nothing to send)
 *   failure_reason       "<code name>: <message>" when it failed, else ""; NUL-terminated
 *   stopped              stop() was called (the failure is an expected shutdown)
 *   manager_not_ready    the manager did not answer the Start, or answered OFFLINE
 *   consecutive_failures failed calls in a row, this one included; 0 after a success */
typedef struct SyncModuleResult_t {
  bool success;
  char failure_reason[SYNC_FAILURE_REASON_MAX_LEN];
  bool stopped;
  bool manager_not_ready;
  unsigned int consecutive_failures;
} SyncModuleResult_t;

typedef ASP_ESTABLISHED_C_ENUM{
    OPERATION_CREATE = 0, OPERATION_MODIFY = 1, OPERATION_DELETE = 2,
    OPERATION_NO_OP = 3 /* refused by asp_persist_diff: a change is one of the three above */
} Operation_t;

typedef ASP_ESTABLISHED_C_ENUM{
    MODE_FULL = 0,           MODE_DELTA = 1,       MODE_CHECK = 2,      MODE_METADATA_DELTA = 3,
    MODE_METADATA_CHECK = 4, MODE_GROUP_DELTA = 5, MODE_GROUP_CHECK = 6} Mode_t;

typedef ASP_ESTABLISHED_C_ENUM{OPTION_SYNC = 0, OPTION_VD_FIRST = 1, OPTION_VD_SYNC = 2,
                               OPTION_VD_CLEAN = 3} Option_t;

/* Opaque; in C++ it is the AgentSyncProtocol of agent_sync_protocol.hpp. */
typedef struct AgentSyncProtocol AgentSyncProtocolHandle;

/* Receives the library's log lines, from the thread doing the work. */
typedef void (*asp_logger_t)(modules_log_level_t level, const char* log);

#ifdef __cplusplus
}
#endif

#endif /* ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_C_INTERFACE_TYPES_H_ */
