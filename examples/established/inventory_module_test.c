/* The established-interface inventory module against the reference manager (the
 * asp_manager binary from @asp) over a real Unix socket, with the agent's MQueue
 * (@asp//asp/testing:agent_mqueue) routing the manager's answers to the module. Every
 * bool and result of the established C API for success, manager error, manager
 * unreachable and stop. */
#include "established/inventory_module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asp/testing/agent_mqueue.h"
#include "asp/testing/manager_process.h"

static int failures = 0;
#define EXPECT(c)                                                      \
  do {                                                                 \
    if (!(c)) {                                                        \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #c); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)
#define EXPECT_CONTAINS(haystack, needle) EXPECT(strstr((haystack), (needle)) != NULL)

static char dir[] = "/tmp/asp-estc-XXXXXX";
static char queue[128];
static pid_t manager = -1;

static void quiet(modules_log_level_t level, const char* line) {
  if (level >= LOG_WARNING) fprintf(stderr, "asp: %s\n", line);
}

static void start_manager(void) {
  char state[160];
  snprintf(state, sizeof(state), "%s/manager", dir);
  manager = manager_process_start(queue, state);
  EXPECT(manager > 0);
}

static void stop_manager(void) { EXPECT(manager_process_stop(manager) == 0); }

static void expect_success(SyncModuleResult_t r) {
  EXPECT(r.success);
  EXPECT(strcmp(r.failure_reason, "") == 0);
  EXPECT(!r.stopped);
  EXPECT(!r.manager_not_ready);
  EXPECT(r.consecutive_failures == 0);
}

static package_t packages[3] = {{"openssl", "3.0.11"}, {"bash", "5.2.15"}, {"curl", "7.88.1"}};
static const char* groups[] = {"default"};

/* Record, sync, integrity check, mismatch and in-memory FULL recovery, metadata, groups. */
static void the_quick_start_against_the_manager(inventory_module_t* m) {
  AgentSyncProtocolHandle* asp = inventory_module_protocol(m);
  EXPECT(inventory_module_collect(m, packages, 3) == 3);
  EXPECT(strcmp(asp_last_error(asp), "") == 0);
  expect_success(inventory_module_sync(m));
  EXPECT(inventory_module_answers(m, false) == 0);
  EXPECT(!inventory_module_requires_full_sync(m));
  EXPECT(strcmp(asp_last_error(asp), "") == 0); /* false because it matches */

  /* Collected but not synced: the manager's copy is behind; recovery sends everything. */
  strcpy(packages[0].version, "3.0.13");
  EXPECT(inventory_module_collect(m, packages, 2) == 2);
  EXPECT(inventory_module_requires_full_sync(m));
  expect_success(inventory_module_recover(m));
  EXPECT(!inventory_module_requires_full_sync(m));
  expect_success(inventory_module_sync(m)); /* the queued differences, applied again */
  EXPECT(!inventory_module_requires_full_sync(m));

  expect_success(inventory_module_sync_metadata(m, 7));
  expect_success(inventory_module_sync_groups(m, 7));

  const uint8_t garbage[] = {0xde, 0xad, 0xbe, 0xef};
  EXPECT(!asp_parse_response_buffer(asp, garbage, sizeof(garbage)));
  EXPECT_CONTAINS(asp_last_error(asp), "parseResponseBuffer");
}

/* The manager refuses a Start without an agent id (StartAck ERROR). */
static void a_manager_error(inventory_module_t* m) {
  AgentSyncProtocolHandle* asp = inventory_module_protocol(m);
  EXPECT(asp_set_agent_identity(asp, "", "nobody", groups, 1));
  strcpy(packages[1].version, "5.2.21");
  EXPECT(inventory_module_collect(m, packages, 2) == 1);
  SyncModuleResult_t r = inventory_module_sync(m);
  EXPECT(!r.success);
  EXPECT_CONTAINS(r.failure_reason, "manager error");
  EXPECT(!r.stopped);
  EXPECT(!r.manager_not_ready);
  EXPECT(r.consecutive_failures == 1);
  EXPECT(!inventory_module_requires_full_sync(m));
  EXPECT_CONTAINS(asp_last_error(asp), "manager error"); /* false because of an error */
  EXPECT(!inventory_module_recover(m).success);
  EXPECT(!inventory_module_sync_metadata(m, 8).success);
  EXPECT(!inventory_module_sync_groups(m, 8).success);
  EXPECT(!inventory_module_clean(m));
  EXPECT_CONTAINS(asp_last_error(asp), "manager error");
  EXPECT(inventory_module_answers(m, false) == 0); /* an ERROR answer is a valid answer */
  EXPECT(asp_set_agent_identity(asp, "031", "inv-agent", groups, 1));
}

static void stop_and_should_stop(inventory_module_t* m) {
  AgentSyncProtocolHandle* asp = inventory_module_protocol(m);
  EXPECT(!asp_should_stop(asp));
  asp_stop(asp);
  EXPECT(asp_should_stop(asp));
  SyncModuleResult_t r = inventory_module_sync(m);
  EXPECT(!r.success);
  EXPECT(r.stopped);
  EXPECT_CONTAINS(r.failure_reason, "stopped");
  EXPECT(!inventory_module_requires_full_sync(m));
  EXPECT_CONTAINS(asp_last_error(asp), "stopped");
  EXPECT(inventory_module_recover(m).stopped);
  EXPECT(inventory_module_sync_metadata(m, 9).stopped);
  EXPECT(inventory_module_sync_groups(m, 9).stopped);
  EXPECT(!inventory_module_clean(m));
  asp_reset(asp);
  EXPECT(!asp_should_stop(asp));
  expect_success(inventory_module_sync(m)); /* bash 5.2.21, kept across the failures */
  EXPECT(!inventory_module_requires_full_sync(m));
}

static void an_unreachable_manager(inventory_module_t* m) {
  AgentSyncProtocolHandle* asp = inventory_module_protocol(m);
  stop_manager();
  strcpy(packages[0].version, "3.0.14");
  EXPECT(inventory_module_collect(m, packages, 2) == 1);
  EXPECT(strcmp(asp_last_error(asp), "") == 0); /* recorded durably all the same */
  SyncModuleResult_t r = inventory_module_sync(m);
  EXPECT(!r.success);
  EXPECT_CONTAINS(r.failure_reason, "transport error");
  EXPECT(!r.stopped);
  EXPECT(r.consecutive_failures == 1);
  EXPECT(!inventory_module_requires_full_sync(m));
  EXPECT_CONTAINS(asp_last_error(asp), "transport error");
  EXPECT(!inventory_module_recover(m).success);
  EXPECT(!inventory_module_sync_metadata(m, 10).success);
  EXPECT(!inventory_module_sync_groups(m, 10).success);
  EXPECT(!inventory_module_clean(m));
  start_manager();
  expect_success(inventory_module_sync(m));
  EXPECT(!inventory_module_requires_full_sync(m));
  EXPECT(inventory_module_clean(m));
  EXPECT(inventory_module_answers(m, false) == 0);
}

int main(void) {
  if (mkdtemp(dir) == NULL) return 1;
  snprintf(queue, sizeof(queue), "%s/queue", dir);
  char db[160];
  snprintf(db, sizeof(db), "%s/inventory_sync.db", dir);
  start_manager();
  agent_mqueue_open(queue);

  inventory_module_t* m = inventory_module_open(db, &agent_mqueue_functions, quiet);
  EXPECT(m != NULL);
  if (m != NULL) {
    agent_mqueue_route("inventory", inventory_module_on_answer, m);
    EXPECT(asp_set_agent_identity(inventory_module_protocol(m), "031", "inv-agent", groups, 1));
    the_quick_start_against_the_manager(m);
    a_manager_error(m);
    stop_and_should_stop(m);
    an_unreachable_manager(m);
    agent_mqueue_route("inventory", NULL, NULL);     /* returns once no answer is in delivery */
    EXPECT(inventory_module_answers(m, true) >= 20); /* a StartAck and an EndAck per session */
    EXPECT(inventory_module_answers(m, false) == 0);
    inventory_module_close(m);
  }
  agent_mqueue_close();
  stop_manager();
  char command[200];
  snprintf(command, sizeof(command), "rm -rf %s", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
  printf("inventory_module_test: %d failed expectation(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
