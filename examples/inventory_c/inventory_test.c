/* The inventory module against the reference manager (the asp_manager binary from @asp)
 * over a real Unix socket, written in C. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inventory_c/inventory.h"

static int failures = 0;
#define EXPECT(c)                                                                       \
  do {                                                                                  \
    if (!(c)) {                                                                         \
      fprintf(stderr, "%s:%d: expected %s (%s)\n", __FILE__, __LINE__, #c, aspx_last_error()); \
      ++failures;                                                                       \
    }                                                                                   \
  } while (0)

static package_t packages[3] = {
    {"openssl", "3.0.11", "amd64"}, {"bash", "5.2.15", "amd64"}, {"curl", "7.88.1", "amd64"}};

int main(void) {
  char dir[] = "/tmp/asp-inv-XXXXXX";
  if (mkdtemp(dir) == NULL) return 1;
  char queue[128], socket_flag[160], state_flag[160], db[160], manager_path[1024];
  snprintf(queue, sizeof(queue), "%s/queue", dir);
  snprintf(socket_flag, sizeof(socket_flag), "--socket=%s", queue);
  snprintf(state_flag, sizeof(state_flag), "--state_dir=%s/manager", dir);
  snprintf(db, sizeof(db), "%s/inventory.db", dir);
  snprintf(manager_path, sizeof(manager_path), "%s/asp/asp/tools/asp_manager", getenv("TEST_SRCDIR"));

  const pid_t manager = fork();
  if (manager == 0) {
    execl(manager_path, manager_path, socket_flag, state_flag, (char*)NULL);
    _exit(127);
  }
  struct stat st;
  for (int i = 0; i < 500 && stat(queue, &st) != 0; ++i) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }

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

  kill(manager, SIGTERM);
  int status = 0;
  waitpid(manager, &status, 0);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char command[200];
  snprintf(command, sizeof(command), "rm -rf %s", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
  printf("inventory_test: %d failed expectation(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
