/* An inventory module in C, written only against the established C interface
 * (agent_sync_protocol_c_interface.h), as the Quick Start says: create an instance with
 * the module name and database path, persist differences, hand the manager's answers to
 * asp_parse_response_buffer, check integrity, synchronize, recover in memory. */
#ifndef EXAMPLES_ESTABLISHED_INVENTORY_MODULE_H_
#define EXAMPLES_ESTABLISHED_INVENTORY_MODULE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_sync_protocol_c_interface.h"

#define INVENTORY_INDEX "states-inventory-packages"
#define INVENTORY_MAX_PACKAGES 32

typedef struct {
  char name[64];
  char version[32];
} package_t;

typedef struct inventory_module inventory_module_t;

/* NULL on error (asp_last_error(NULL) says why). */
inventory_module_t* inventory_module_open(const char* db_path, const MQ_Functions* mq,
                                          asp_logger_t logger);
void inventory_module_close(inventory_module_t* m);
AgentSyncProtocolHandle* inventory_module_protocol(inventory_module_t* m);

/* The agent hands the module every answer for "inventory_sync " (header removed). */
void inventory_module_on_answer(void* m, const uint8_t* data, size_t length);
/* Answers asp_parse_response_buffer accepted (true) and refused so far. */
int inventory_module_answers(inventory_module_t* m, bool accepted);

/* Records what changed since the last collection: creates, modifies, deletes. Returns
 * how many differences were recorded. */
int inventory_module_collect(inventory_module_t* m, const package_t* packages, size_t count);
SyncModuleResult_t inventory_module_sync(inventory_module_t* m);
/* Whether the manager's copy differs from what the module holds. */
bool inventory_module_requires_full_sync(inventory_module_t* m);
/* Sends everything the module holds in a FULL sync. */
SyncModuleResult_t inventory_module_recover(inventory_module_t* m);
SyncModuleResult_t inventory_module_sync_metadata(inventory_module_t* m, uint64_t global_version);
SyncModuleResult_t inventory_module_sync_groups(inventory_module_t* m, uint64_t global_version);
/* Tells the manager the module holds nothing any more. */
bool inventory_module_clean(inventory_module_t* m);

#endif /* EXAMPLES_ESTABLISHED_INVENTORY_MODULE_H_ */
