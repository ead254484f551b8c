/* The inventory module against the reference manager (the asp_manager binary from @asp)
 * over a real Unix socket, written in C. */
#include "inventory_c/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asp/testing/manager_process.h"

static int failures = 0;
#define EXPECT(c)                                                                              \
  do {                                                                                         \
    if (!(c)) {                                                                                \
      fprintf(stderr, "%s:%d: expected %s (%s)\n", __FILE__, __LINE__, #c, aspx_last_error()); \
      ++failures;                                                                              \
    }                                                                                          \
  } while (0)

static package_t packages[3] = {
    {"openssl", "3.0.11", "amd64"}, {"bash", "5.2.15", "amd64"}, {"curl", "7.88.1", "amd64"}};

int main(void) {
  char dir[] = "/tmp/asp-inv-XXXXXX";
  if (mkdtemp(dir) == NULL) return 1;
  char queue[128], state[160], db[160];
  snprintf(queue, sizeof(queue), "%s/queue", dir);
  snprintf(state, sizeof(state), "%s/manager", dir);
  snprintf(db, sizeof(db), "%s/inventory.db", dir);
  const pid_t manager = manager_process_start(queue, state);
  EXPECT(manager > 0);

  inventory_t* inventory = inventory_open(db, queue, "inv-1", NULL);
  EXPECT(inventory != NULL);
  if (inventory != NULL) {
    EXPECT(inventory_collect(inventory, packages, 3) == 3);
    EXPECT(inventory_sync(inventory).code == ASPX_SYNC_OK);
    EXPECT(inventory_check(inventory) == 0);

    /* openssl upgraded, curl removed. */
    strcpy(packages[0].version, "3.0.13");
    EXPECT(inventory_collect(inventory, packages, 2) == 2);
    EXPECT(inventory_sync(inventory).code == ASPX_SYNC_OK);
    EXPECT(inventory_check(inventory) == 0);

    /* Collected but not synced: the manager's copy is behind; recovery sends everything. */
    strcpy(packages[1].version, "5.2.21");
    EXPECT(inventory_collect(inventory, packages, 2) == 1);
    EXPECT(inventory_check(inventory) == 1);
    EXPECT(inventory_check(inventory) == 0);

    EXPECT(inventory_sync_groups(inventory, 3).code == ASPX_SYNC_OK);

    /* Nothing installed any more: a clean. */
    EXPECT(inventory_collect(inventory, packages, 0) == 2);
    EXPECT(inventory_check(inventory) == 1);
    EXPECT(inventory_check(inventory) == 0);
    inventory_close(inventory);
  }

  EXPECT(manager_process_stop(manager) == 0);
  char command[200];
  snprintf(command, sizeof(command), "rm -rf %s", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
  printf("inventory_test: %d failed expectation(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
