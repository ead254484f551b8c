/* Types of the ASP C interface (see agent_sync_protocol_c_interface.h).
 * Usable from C11 and C++. */
#ifndef ASP_C_API_ASPX_TYPES_H_
#define ASP_C_API_ASPX_TYPES_H_

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
#define ASPX_C_ENUM(tag) enum tag : int
#else
#define ASPX_C_ENUM(tag) enum tag
#endif

/* What happened to a document. */
typedef ASPX_C_ENUM(aspx_operation_e){
    ASPX_OPERATION_CREATE = 0,
    ASPX_OPERATION_MODIFY = 1,
    ASPX_OPERATION_DELETE = 2,
} aspx_operation_t;

typedef ASPX_C_ENUM(aspx_mode_e){
    ASPX_MODE_FULL = 0,           ASPX_MODE_DELTA = 1,          ASPX_MODE_CHECK = 2,
    ASPX_MODE_METADATA_DELTA = 3, ASPX_MODE_METADATA_CHECK = 4, ASPX_MODE_GROUP_DELTA = 5,
    ASPX_MODE_GROUP_CHECK = 6,
} aspx_mode_t;

typedef ASPX_C_ENUM(aspx_option_e){
    ASPX_OPTION_SYNC = 0, ASPX_OPTION_VD_FIRST = 1, ASPX_OPTION_VD_SYNC = 2,
    ASPX_OPTION_VD_CLEAN = 3, /* aspx_notify_data_clean_with_option only */
} aspx_option_t;

typedef ASPX_C_ENUM(aspx_log_level_e){
    ASPX_LOG_DEBUG = 0,
    ASPX_LOG_INFO = 1,
    ASPX_LOG_WARNING = 2,
    ASPX_LOG_ERROR = 3,
} aspx_log_level_t;

/* Receives the library's log lines; called from the thread doing the work. */
typedef void (*aspx_logger_t)(aspx_log_level_t level, const char* message);

/* The outcome of a session (mirrors asp::SyncCode). */
typedef ASPX_C_ENUM(aspx_sync_code_e){
    ASPX_SYNC_OK = 0,
    ASPX_SYNC_NOTHING_TO_DO = 1,
    ASPX_SYNC_ALREADY_RUNNING = 2,
    ASPX_SYNC_STOPPED = 3,
    ASPX_SYNC_MANAGER_NOT_READY = 4,
    ASPX_SYNC_START_TIMEOUT = 5,
    ASPX_SYNC_END_TIMEOUT = 6,
    ASPX_SYNC_MANAGER_ERROR = 7,
    ASPX_SYNC_CHECKSUM_MISMATCH = 8,
    ASPX_SYNC_PROTOCOL_ERROR = 9,
    ASPX_SYNC_TRANSPORT_ERROR = 10,
    ASPX_SYNC_STORAGE_ERROR = 11,
    ASPX_SYNC_INVALID_ARGUMENT = 12,
    ASPX_SYNC_AWAITING_PREREQUISITE = 13,
} aspx_sync_code_t;

/* aspx_options_t.max_session_values / max_session_bytes: sessions without that bound. */
#define ASPX_NO_BOUND UINT64_MAX

#define ASPX_REASON_SIZE 256

typedef struct {
  bool success; /* ASPX_SYNC_OK or ASPX_SYNC_NOTHING_TO_DO */
  aspx_sync_code_t code;
  char reason[ASPX_REASON_SIZE]; /* "<code name>: <message>", NUL-terminated, may be cut */
  uint64_t session;              /* the manager's session id, 0 if none */
  uint64_t changes; /* data messages, summed over the call's sessions (their Start sizes:
                      values and context documents) */
  uint64_t frames_sent;
  uint64_t bytes_sent;
  uint64_t retransmitted;
  double duration_seconds;
  uint64_t sessions;             /* sessions the call ran (a bounded DELTA may run several) */
  uint64_t consecutive_failures; /* failed sessions in a row, this call's included; 0 after a
                                    success, unchanged by a stopped session */
} aspx_sync_result_t;

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
} aspx_agent_info_t;

/* Everything aspx_create() takes, and more. Zero-initialize, then set what you need.
 * Zero means: timeout 30 s; no sync_end_delay; no resends (retries); no EPS limit;
 * process-crash durability; NULL pointers as documented per field. */
typedef struct {
  const char* module;          /* required */
  const char* db_path;         /* NULL: in-memory queue only */
  const MQ_Functions* mq;      /* NULL: the built-in MQueue (a Unix datagram socket to
                                  queue_path; ASP receives the answers itself); else the
                                  module's functions (it feeds the answers) */
  const char* queue_path;      /* the manager's queue socket; NULL: $ASP_QUEUE_PATH, else
                                  "/var/ossec/queue/sockets/queue" */
  aspx_logger_t logger;        /* NULL: no logging */
  unsigned int sync_end_delay; /* seconds before End; 0 = no delay */
  unsigned int timeout;        /* seconds per wait; 0: 30 */
  unsigned int retries;        /* resends of Start and End */
  size_t max_eps;              /* frames per second; 0 = unlimited */
  bool power_loss_durability;  /* fsync each commit (group-committed) */
  uint64_t max_session_values; /* data values per session; 0: 100000; ASPX_NO_BOUND: none
                                  (docs/protocol.md §5) */
  uint64_t max_session_bytes;  /* data bytes per session; 0: 64 MiB; ASPX_NO_BOUND: none */
  unsigned int failure_warning_threshold; /* failed calls in a row logged as a warning; 0: 3 */
  unsigned int prerequisite_wait;         /* seconds a call waits for the agent's identity
                                             (aspx_set_agent_info_unavailable); 0: 30 */
  unsigned int mismatch_rechecks;         /* a mismatch is checked again this often; 0: off */
  unsigned int mismatch_recheck_delay;    /* seconds between those checks; 0: 5 */
} aspx_options_t;

/* One item aspx_read_pending() hands to its callback: a pending change, or a context
 * document (is_context). The pointers are valid during the callback only. */
typedef struct {
  const char* id;    /* NUL-terminated */
  const char* index; /* NUL-terminated */
  const void* data;  /* data_size bytes (may hold NULs; NULL when empty) */
  size_t data_size;
  aspx_operation_t operation; /* a change's net effect: CREATE for a document the manager has
                                 never been sent, MODIFY, DELETE; a context: as recorded */
  uint64_t version;
  bool is_context;
  bool in_flight; /* part of the session running now (sent, not yet confirmed) */
} aspx_pending_item_t;

typedef void (*aspx_pending_item_fn)(const aspx_pending_item_t* item, void* user_data);

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
  char last_failure[ASPX_REASON_SIZE]; /* "<code name>: <message>" of the latest failed
                                         session, "" if none; NUL-terminated, may be cut */
} aspx_stats_t;

typedef struct AspxHandle AspxHandle;

#ifdef __cplusplus
}
#endif

#endif /* ASP_C_API_ASPX_TYPES_H_ */
