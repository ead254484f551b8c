/* Types of the ASP C interface (see agent_sync_protocol_c_interface.h).
 * Usable from C11 and C++. */
#ifndef ASP_C_API_AGENT_SYNC_PROTOCOL_TYPES_H_
#define ASP_C_API_AGENT_SYNC_PROTOCOL_TYPES_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asp/transport/mq_functions.h"

#ifdef __cplusplus
extern "C" {
#endif

/* C callers may pass any int where an enum is expected; in C++ these enums therefore
 * have int as their underlying type, so reading an out-of-range value (which the
 * interface then rejects) is well defined. */
#ifdef __cplusplus
#define ASP_C_ENUM(tag) enum tag : int
#else
#define ASP_C_ENUM(tag) enum tag
#endif

/* What happened to a document. */
typedef ASP_C_ENUM(asp_operation_e) {
  ASP_OPERATION_CREATE = 0,
  ASP_OPERATION_MODIFY = 1,
  ASP_OPERATION_DELETE = 2,
} asp_operation_t;

typedef ASP_C_ENUM(asp_mode_e) {
  ASP_MODE_FULL = 0,
  ASP_MODE_DELTA = 1,
  ASP_MODE_CHECK = 2,
  ASP_MODE_METADATA_DELTA = 3,
  ASP_MODE_METADATA_CHECK = 4,
  ASP_MODE_GROUP_DELTA = 5,
  ASP_MODE_GROUP_CHECK = 6,
} asp_mode_t;

typedef ASP_C_ENUM(asp_option_e) {
  ASP_OPTION_SYNC = 0,
  ASP_OPTION_VD_FIRST = 1,
  ASP_OPTION_VD_SYNC = 2,
} asp_option_t;

typedef ASP_C_ENUM(asp_log_level_e) {
  ASP_LOG_DEBUG = 0,
  ASP_LOG_INFO = 1,
  ASP_LOG_WARNING = 2,
  ASP_LOG_ERROR = 3,
} asp_log_level_t;

/* Receives the library's log lines; called from the thread doing the work. */
typedef void (*asp_logger_t)(asp_log_level_t level, const char* message);

/* The outcome of a session (mirrors asp::SyncCode). */
typedef ASP_C_ENUM(asp_sync_code_e) {
  ASP_SYNC_OK = 0,
  ASP_SYNC_NOTHING_TO_DO = 1,
  ASP_SYNC_ALREADY_RUNNING = 2,
  ASP_SYNC_STOPPED = 3,
  ASP_SYNC_MANAGER_NOT_READY = 4,
  ASP_SYNC_START_TIMEOUT = 5,
  ASP_SYNC_END_TIMEOUT = 6,
  ASP_SYNC_MANAGER_ERROR = 7,
  ASP_SYNC_CHECKSUM_MISMATCH = 8,
  ASP_SYNC_PROTOCOL_ERROR = 9,
  ASP_SYNC_TRANSPORT_ERROR = 10,
  ASP_SYNC_STORAGE_ERROR = 11,
  ASP_SYNC_INVALID_ARGUMENT = 12,
} asp_sync_code_t;

#define ASP_REASON_SIZE 256

typedef struct {
  bool success;                  /* ASP_SYNC_OK or ASP_SYNC_NOTHING_TO_DO */
  asp_sync_code_t code;
  char reason[ASP_REASON_SIZE];  /* "<code name>: <message>", NUL-terminated, may be cut */
  uint64_t session;              /* the manager's session id, 0 if none */
  uint64_t changes;              /* data messages in the session */
  uint64_t frames_sent;
  uint64_t bytes_sent;
  uint64_t retransmitted;
  double duration_seconds;
} asp_sync_result_t;

/* Who the agent is; sent in every Start. NULL strings count as empty. */
typedef struct {
  const char* id;
  const char* name;
  const char* version;
  const char* hostname;
  const char* architecture;
  const char* os_name;
  const char* os_platform;
  const char* os_type;
  const char* os_version;
  const char* const* groups;
  size_t groups_count;
  const char* cluster_name;
  const char* cluster_node;
} asp_agent_info_t;

/* Everything asp_create() takes, and more. Zero-initialize, then set what you need.
 * Zero means: timeout 30 s; no sync_end_delay; no resends (retries); no EPS limit;
 * process-crash durability; NULL pointers as documented per field. */
typedef struct {
  const char* module;           /* required */
  const char* db_path;          /* NULL: in-memory queue only */
  const MQ_Functions* mq;       /* required; asp_unix_mq_functions() for the built-in one */
  const char* queue_path;       /* the manager's queue socket; NULL: $ASP_QUEUE_PATH, else
                                   "/var/ossec/queue/sockets/queue" */
  asp_logger_t logger;          /* NULL: no logging */
  unsigned int sync_end_delay;  /* seconds before End; 0 = no delay */
  unsigned int timeout;         /* seconds per wait; 0: 30 */
  unsigned int retries;         /* resends of Start and End */
  size_t max_eps;               /* frames per second; 0 = unlimited */
  bool power_loss_durability;   /* fsync each commit (group-committed) */
} asp_options_t;

/* Counters since the handle was created (mirrors asp::Stats). */
typedef struct {
  uint64_t sessions_ok;
  uint64_t sessions_failed;
  uint64_t values_sent;
  uint64_t frames_sent;
  uint64_t bytes_sent;
  uint64_t retransmitted;
  uint64_t answers_ignored;
  uint64_t answers_malformed;
  char last_failure[ASP_REASON_SIZE]; /* "<code name>: <message>" of the latest failed
                                         session, "" if none; NUL-terminated, may be cut */
} asp_stats_t;

typedef struct AspHandle AspHandle;

#ifdef __cplusplus
}
#endif

#endif /* ASP_C_API_AGENT_SYNC_PROTOCOL_TYPES_H_ */
