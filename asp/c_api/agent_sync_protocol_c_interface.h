/* The ASP C interface: a thin skin over asp::AgentSyncProtocol (asp/core), for modules
 * written in C. Usable from C11 and C++.
 *
 * Conventions
 *  - Functions returning int: 0 on success, -1 on error (asp_requires_full_sync: 1 / 0 / -1).
 *  - A failed call keeps its reason for asp_last_error() in this thread, and logs it to
 *    the handle's logger (without a handle: the logger of the most recent asp_create*
 *    call that passed one). A failed session's reason is in its asp_sync_result_t and
 *    the library logs the session's outcome itself.
 *  - No C++ exception crosses this interface; NULL handles or arguments, unknown enum
 *    values and oversize data are errors, never crashes.
 *  - Thread-safety: every function may be called from any thread on the same handle,
 *    except asp_destroy(), which must be the last call on it.
 *  - Strings are copied; the caller keeps ownership.
 */
#ifndef ASP_C_API_AGENT_SYNC_PROTOCOL_C_INTERFACE_H_
#define ASP_C_API_AGENT_SYNC_PROTOCOL_C_INTERFACE_H_

#include "asp/c_api/agent_sync_protocol_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a protocol instance. db_path NULL: in-memory queue. sync_end_delay and timeout
 * in seconds (timeout 0: 30 s). Returns NULL on error, with the reason logged. */
AspHandle* asp_create(const char* module, const char* db_path, const MQ_Functions* mq_funcs,
                      asp_logger_t logger, unsigned int sync_end_delay, unsigned int timeout,
                      unsigned int retries, size_t max_eps);

/* The same with every option (see asp_options_t). */
AspHandle* asp_create_with_options(const asp_options_t* options);

/* Stops any session and frees the handle. NULL is a no-op. */
void asp_destroy(AspHandle* handle);

/* Records a change durably (data is a NUL-terminated string, may be NULL = empty). */
int asp_persist_diff(AspHandle* handle, const char* id, asp_operation_t operation,
                     const char* index, const char* data, uint64_t version);
/* The same with binary data of `data_size` bytes. */
int asp_persist_diff_bytes(AspHandle* handle, const char* id, asp_operation_t operation,
                           const char* index, const void* data, size_t data_size,
                           uint64_t version);
/* Adds a document to the in-memory recovery set sent by a FULL sync. */
int asp_persist_diff_in_memory(AspHandle* handle, const char* id, asp_operation_t operation,
                               const char* index, const char* data, uint64_t version);
/* The same with binary data of `data_size` bytes. */
int asp_persist_diff_in_memory_bytes(AspHandle* handle, const char* id,
                                     asp_operation_t operation, const char* index,
                                     const void* data, size_t data_size, uint64_t version);

/* Runs a DELTA (the queue) or FULL (the recovery set) session. */
asp_sync_result_t asp_sync_module(AspHandle* handle, asp_mode_t mode);
asp_sync_result_t asp_sync_module_with_option(AspHandle* handle, asp_mode_t mode,
                                              asp_option_t option);

/* Integrity check: 1 when the manager's checksum differs (a full sync is required), 0 when
 * it matches, -1 on error (manager not ready, timeout, bad arguments, ...). */
int asp_requires_full_sync(AspHandle* handle, const char* index, const char* checksum);

/* Metadata or groups session (ASP_MODE_METADATA_* or ASP_MODE_GROUP_*). */
asp_sync_result_t asp_sync_metadata_or_groups(AspHandle* handle, asp_mode_t mode,
                                              const char* const* indices, size_t count,
                                              uint64_t global_version);

/* Tells the manager to drop every document of the indices. */
asp_sync_result_t asp_notify_data_clean(AspHandle* handle, const char* const* indices,
                                        size_t count);

/* Hands one answer from the manager (header "<module>_sync " already removed). */
int asp_parse_response_buffer(AspHandle* handle, const uint8_t* data, size_t length);

void asp_clear_in_memory_data(AspHandle* handle);

/* Deletes the queue database; the handle stays usable with an empty queue. */
int asp_delete_database(AspHandle* handle);

/* Interrupts any session wait within 100 ms; sessions then return ASP_SYNC_STOPPED until
 * asp_reset(). */
void asp_stop(AspHandle* handle);
void asp_reset(AspHandle* handle);

/* Sets who the agent is (default: this host, id "000"). */
int asp_set_agent_info(AspHandle* handle, const asp_agent_info_t* info);

int asp_get_stats(AspHandle* handle, asp_stats_t* out);

/* The reason of the last call in this thread if it failed, else "" (every call clears
 * it first). Valid until the next call into this interface from the same thread. */
const char* asp_last_error(void);

/* The name of a sync code, e.g. "manager not ready". Never NULL. */
const char* asp_sync_code_name(asp_sync_code_t code);

/* docs/protocol.md §5.1 checksums: lowercase hex SHA-1 into `out` (41 bytes, NUL-terminated).
 * asp_index_checksum: of `count` documents' data. 0 on success, -1 on bad arguments. */
int asp_document_checksum(const void* data, size_t size, char out[41]);
int asp_index_checksum(const void* const* datas, const size_t* sizes, size_t count, char out[41]);

/* The built-in MQueue over a Unix datagram socket: pass it to asp_create() and ASP sends to
 * the queue path and receives the manager's answers itself (a receiver thread feeds
 * asp_parse_response_buffer), so the module needs no MQ code of its own. */
const MQ_Functions* asp_unix_mq_functions(void);

#ifdef __cplusplus
}
#endif

#endif /* ASP_C_API_AGENT_SYNC_PROTOCOL_C_INTERFACE_H_ */
