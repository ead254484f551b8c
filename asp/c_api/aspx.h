/* ASPX, ASP's rich C interface: a thin skin over asp::AgentSyncProtocol (asp/core), for
 * modules written in C. Usable from C11 and C++.
 *
 * Its names (aspx_*, ASPX_*, AspxHandle) differ from the established interface's
 * (agent_sync_protocol_c_interface.h, //asp/established), whose functions share names but
 * not return conventions with older ASP releases: aspx_requires_full_sync returns 1/0/-1
 * and aspx_parse_response_buffer 0 for OK, where the established ones return bool.
 * docs/porting.md compares the two.
 *
 * Conventions
 *  - Functions returning int: 0 on success, -1 on error (aspx_requires_full_sync: 1 / 0 / -1).
 *  - A failed call keeps its reason for aspx_last_error() in this thread, and logs it to
 *    the handle's logger (without a handle: the logger of the most recent aspx_create*
 *    call that passed one). A failed session's reason is in its aspx_sync_result_t and
 *    the library logs the session's outcome itself.
 *  - No C++ exception crosses this interface; NULL handles or arguments, unknown enum
 *    values and oversize data are errors, never crashes.
 *  - Thread-safety: every function may be called from any thread on the same handle,
 *    except aspx_destroy(), which must be the last call on it.
 *  - Strings are copied; the caller keeps ownership.
 */
#ifndef ASP_C_API_ASPX_H_
#define ASP_C_API_ASPX_H_

#include "asp/c_api/aspx_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a protocol instance. db_path NULL: in-memory queue. mq_funcs NULL: the built-in
 * MQueue (a Unix datagram socket to the queue path; ASP receives the manager's answers
 * itself), else the module's functions (the module feeds the answers to
 * aspx_parse_response_buffer). sync_end_delay and timeout in seconds (timeout 0: 30 s).
 * Returns NULL on error, with the reason logged. */
AspxHandle* aspx_create(const char* module, const char* db_path, const MQ_Functions* mq_funcs,
                        aspx_logger_t logger, unsigned int sync_end_delay, unsigned int timeout,
                        unsigned int retries, size_t max_eps);

/* The same with every option (see aspx_options_t). */
AspxHandle* aspx_create_with_options(const aspx_options_t* options);

/* Stops any session and frees the handle. NULL is a no-op. */
void aspx_destroy(AspxHandle* handle);

/* Records a change durably (data is a NUL-terminated string, may be NULL = empty). */
int aspx_persist_diff(AspxHandle* handle, const char* id, aspx_operation_t operation,
                      const char* index, const char* data, uint64_t version);
/* The same with binary data of `data_size` bytes. */
int aspx_persist_diff_bytes(AspxHandle* handle, const char* id, aspx_operation_t operation,
                            const char* index, const void* data, size_t data_size,
                            uint64_t version);
/* Adds a document to the in-memory recovery set sent by a FULL sync. */
int aspx_persist_diff_in_memory(AspxHandle* handle, const char* id, aspx_operation_t operation,
                                const char* index, const char* data, uint64_t version);
/* The same with binary data of `data_size` bytes. */
int aspx_persist_diff_in_memory_bytes(AspxHandle* handle, const char* id,
                                      aspx_operation_t operation, const char* index,
                                      const void* data, size_t data_size, uint64_t version);

/* Runs a DELTA (the queue) or FULL (the recovery set) session. */
aspx_sync_result_t aspx_sync_module(AspxHandle* handle, aspx_mode_t mode);
aspx_sync_result_t aspx_sync_module_with_option(AspxHandle* handle, aspx_mode_t mode,
                                                aspx_option_t option);

/* Integrity check: 1 when the manager's checksum differs (a full sync is required), 0 when
 * it matches, -1 on error (manager not ready, timeout, bad arguments, ...). */
int aspx_requires_full_sync(AspxHandle* handle, const char* index, const char* checksum);

/* Metadata or groups session (ASPX_MODE_METADATA_* or ASPX_MODE_GROUP_*). */
aspx_sync_result_t aspx_sync_metadata_or_groups(AspxHandle* handle, aspx_mode_t mode,
                                                const char* const* indices, size_t count,
                                                uint64_t global_version);

/* Tells the manager to drop every document of the indices. */
aspx_sync_result_t aspx_notify_data_clean(AspxHandle* handle, const char* const* indices,
                                          size_t count);
/* The same with the Start's option: ASPX_OPTION_SYNC or ASPX_OPTION_VD_CLEAN (a
 * vulnerability-detection clean). */
aspx_sync_result_t aspx_notify_data_clean_with_option(AspxHandle* handle,
                                                      const char* const* indices, size_t count,
                                                      aspx_option_t option);

/* Hands one answer from the manager (header "<module>_sync " already removed). */
int aspx_parse_response_buffer(AspxHandle* handle, const uint8_t* data, size_t length);

void aspx_clear_in_memory_data(AspxHandle* handle);

/* Context documents (docs/protocol.md §7): kept apart from the changes, sent after the
 * values of every session whose option is ASPX_OPTION_VD_FIRST or ASPX_OPTION_VD_SYNC,
 * until aspx_clear_contexts(). A document with the same index and id replaces the stored
 * one. 0 on success, -1 on error (aspx_last_error() says why). */
int aspx_record_context(AspxHandle* handle, const char* id, aspx_operation_t operation,
                        const char* index, const void* data, size_t data_size, uint64_t version);
int aspx_clear_contexts(AspxHandle* handle);

/* Reads what is pending without a session (docs/protocol.md §6), in first-recorded order,
 * then the context documents when with_context: at most max_items (1..100000) items after
 * the cursor `after` (0: from the first), each handed to `fn`. *next_after is the cursor
 * for the next page, *done whether nothing follows it. 0 on success, -1 on error (a bad
 * max_items or cursor, a NULL argument, the queue unreadable). */
int aspx_read_pending(AspxHandle* handle, uint64_t after, size_t max_items, bool with_context,
                      aspx_pending_item_fn fn, void* user_data, uint64_t* next_after, bool* done);

/* Deletes the queue database; the handle stays usable with an empty queue. */
int aspx_delete_database(AspxHandle* handle);

/* Interrupts any session wait within 100 ms; sessions then return ASPX_SYNC_STOPPED until
 * aspx_reset(). */
void aspx_stop(AspxHandle* handle);
void aspx_reset(AspxHandle* handle);

/* Sets who the agent is (default: this host, id "000"). */
int aspx_set_agent_info(AspxHandle* handle, const aspx_agent_info_t* info);

/* The agent does not know who it is yet (it is still enrolling): every call that would
 * send a Start asks again each second, up to aspx_options_t.prerequisite_wait, then fails
 * with ASPX_SYNC_AWAITING_PREREQUISITE; aspx_set_agent_info() ends the wait. */
int aspx_set_agent_info_unavailable(AspxHandle* handle);

int aspx_get_stats(AspxHandle* handle, aspx_stats_t* out);

/* The reason of the last call in this thread if it failed, else "" (every call clears
 * it first). Valid until the next call into this interface from the same thread. */
const char* aspx_last_error(void);

/* The name of a sync code, e.g. "manager not ready". Never NULL. */
const char* aspx_sync_code_name(aspx_sync_code_t code);

/* docs/protocol.md §5.1 checksums: lowercase hex SHA-1 into `out` (41 bytes, NUL-terminated).
 * aspx_index_checksum: of `count` documents' data. 0 on success, -1 on bad arguments. */
int aspx_document_checksum(const void* data, size_t size, char out[41]);
int aspx_index_checksum(const void* const* datas, const size_t* sizes, size_t count, char out[41]);

#ifdef __cplusplus
}
#endif

#endif /* ASP_C_API_ASPX_H_ */
