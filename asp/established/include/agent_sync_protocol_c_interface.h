/* The established C interface of the agent sync protocol: the names, signatures and
 * meanings modules are written against (wazuh/wazuh v5.0.0-beta4,
 * src/shared_modules/sync_protocol/include), implemented by ASP. docs/porting.md lists
 * every call with ASP's meaning and guarantees.
 *
 * What ASP adds behind the established signatures:
 *  - Nothing fails silently. A call that cannot do its job (a void one included) logs why
 *    at LOG_ERROR to the handle's logger, and asp_last_error(handle) returns the reason
 *    (an ASP extension, below).
 *  - asp_persist_diff returns once the change is committed to the SQLite queue: it reaches
 *    the manager even across a crash of the agent.
 *  - NULL handles and arguments, unknown enum values and oversize data are errors, never
 *    crashes; no C++ exception crosses this interface.
 *  - Thread-safety: every function may be called from any thread on the same handle,
 *    except asp_destroy(), which must be the last call on it.
 * ASP's richer C interface (statuses, codes, options, stats) is asp/c_api/aspx.h. */
#ifndef ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_C_INTERFACE_H_
#define ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_C_INTERFACE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_sync_protocol_c_interface_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates an instance. db_path NULL: no queue (in-memory recovery, metadata, groups and
 * integrity checks only). mq_funcs: the agent's MQueue functions; the instance calls
 * start("queue/sockets/queue", 1, 0) and send_binary(queue, msg, len, module, 's'), and
 * the module hands every answer to asp_parse_response_buffer. syncEndDelay, timeout in
 * seconds (timeout 0: 30 s). NULL on error (a NULL module, mq_funcs or logger, an invalid
 * module name, a queue file that cannot be opened), the reason logged and in
 * asp_last_error(NULL). */
AgentSyncProtocolHandle* asp_create(const char* module, const char* db_path,
                                    const MQ_Functions* mq_funcs, asp_logger_t logger,
                                    unsigned int syncEndDelay, unsigned int timeout,
                                    unsigned int retries, size_t maxEps);

/* Stops any session and frees the instance. NULL is a no-op. */
void asp_destroy(AgentSyncProtocolHandle* handle);

/* Records a change durably in the queue (data: a NUL-terminated document). */
void asp_persist_diff(AgentSyncProtocolHandle* handle, const char* id, Operation_t operation,
                      const char* index, const char* data, uint64_t version);

/* Adds a document to the in-memory recovery set a FULL sync sends. */
void asp_persist_diff_in_memory(AgentSyncProtocolHandle* handle, const char* id,
                                Operation_t operation, const char* index, const char* data,
                                uint64_t version);

/* MODE_DELTA sends the queue's pending changes; MODE_FULL the recovery set. */
SyncModuleResult_t asp_sync_module(AgentSyncProtocolHandle* handle, Mode_t mode);

/* Integrity check of one index: true only when the manager answers that its checksum
 * differs (a FULL recovery is due). false when it matches and on every error (manager
 * unreachable, not ready, timeout, stop, bad arguments); asp_last_error(handle) is ""
 * for a match and the reason for an error. */
bool asp_requires_full_sync(AgentSyncProtocolHandle* handle, const char* index,
                            const char* checksum);

/* Hands one answer from the manager (the "<module>_sync " header removed) to the session:
 * true when it is a valid answer, false for bytes that are not one. */
bool asp_parse_response_buffer(AgentSyncProtocolHandle* handle, const uint8_t* data, size_t length);

/* Empties the in-memory recovery set. */
void asp_clear_in_memory_data(AgentSyncProtocolHandle* handle);

/* Metadata or groups session (MODE_METADATA_DELTA, MODE_METADATA_CHECK, MODE_GROUP_DELTA,
 * MODE_GROUP_CHECK): Start, StartAck, End, EndAck, no data. */
SyncModuleResult_t asp_sync_metadata_or_groups(AgentSyncProtocolHandle* handle, Mode_t mode,
                                               const char** indices, size_t indices_count,
                                               uint64_t global_version);

/* Tells the manager to drop every document of the indices; on success the queue drops
 * their pending changes. true on success. */
bool asp_notify_data_clean(AgentSyncProtocolHandle* handle, const char** indices,
                           size_t indices_count);

/* Deletes the queue database and opens an empty one. */
void asp_delete_database(AgentSyncProtocolHandle* handle);

/* Wakes any session wait at once (the session fails with stopped = true, changes stay
 * queued) and makes later sessions fail the same way until asp_reset(). */
void asp_stop(AgentSyncProtocolHandle* handle);

/* Undoes asp_stop(). */
void asp_reset(AgentSyncProtocolHandle* handle);

/* Whether asp_stop() was called and asp_reset() not since. */
bool asp_should_stop(const AgentSyncProtocolHandle* handle);

/* ASP extension (not in the established interface): who the agent is, sent in every
 * Start (the established library asks the agent's metadata provider). Default: this
 * host's name and system, id "000", no groups; a groups session without groups waits up
 * to 30 s for them, then fails. false (asp_last_error says why) for NULL arguments or a
 * field that is not valid UTF-8. */
bool asp_set_agent_identity(AgentSyncProtocolHandle* handle, const char* id, const char* name,
                            const char** groups, size_t groups_count);

/* ASP extension (not in the established interface): the reason the most recent call
 * from this thread on `handle` failed, "" if it succeeded (or if the thread's most recent
 * call was on another handle). asp_last_error(NULL): the reason of the thread's most
 * recent failed asp_create or call with a NULL handle. Never NULL; valid until the next
 * call from this thread. */
const char* asp_last_error(const AgentSyncProtocolHandle* handle);

#ifdef __cplusplus
}
#endif

#endif /* ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_C_INTERFACE_H_ */
