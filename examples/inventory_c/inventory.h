/* An inventory-style module in C on ASP's C interface and built-in Unix MQueue: it keeps
 * the list of installed packages, records what changed between collections, and keeps
 * the manager's copy equal with DELTA syncs and integrity checks. */
#ifndef EXAMPLES_INVENTORY_C_INVENTORY_H_
#define EXAMPLES_INVENTORY_C_INVENTORY_H_

#include <stddef.h>

#include "asp/c_api/aspx.h"

#define INVENTORY_INDEX "states-inventory-packages"
#define INVENTORY_MAX_PACKAGES 512

typedef struct {
  char name[64];
  char version[32];
  char architecture[16];
} package_t;

typedef struct inventory inventory_t;

/* Opens the module: its queue in `db_path`, the manager's queue socket at `queue_path`.
 * NULL on error (the reason is in aspx_last_error()). */
inventory_t* inventory_open(const char* db_path, const char* queue_path, const char* agent_id,
                            aspx_logger_t logger);
void inventory_close(inventory_t* inventory);

/* Records the differences between the packages held and `packages` (create, modify,
 * delete). Returns the number of changes recorded, or -1 on error. */
int inventory_collect(inventory_t* inventory, const package_t* packages, size_t count);

/* Ships the recorded changes (DELTA). */
aspx_sync_result_t inventory_sync(inventory_t* inventory);

/* Integrity check; on a mismatch sends every package again (FULL), or a clean when none
 * is held. Returns 1 when it recovered, 0 when the copies matched, -1 on error. */
int inventory_check(inventory_t* inventory);

/* Sends the agent's groups (a groups sync). */
aspx_sync_result_t inventory_sync_groups(inventory_t* inventory, uint64_t global_version);

#endif /* EXAMPLES_INVENTORY_C_INVENTORY_H_ */
