/* The established C interface (agent_sync_protocol_c_interface.h) from C11, without a
 * manager: arguments, NULL handles, an unreachable manager, stop and should-stop, and
 * asp_last_error(). Sessions against the reference manager are in the examples workspace
 * (examples/established). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_sync_protocol_c_interface.h"
#include "asp/testing/agent_mqueue.h"

static int failures = 0;
#define EXPECT(c)                                                      \
  do {                                                                 \
    if (!(c)) {                                                        \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #c); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)
#define EXPECT_CONTAINS(haystack, needle) EXPECT(strstr((haystack), (needle)) != NULL)

static char logged[8192];
static int errors_logged = 0;

static void capture(modules_log_level_t level, const char* line) {
  if (level == LOG_ERROR) ++errors_logged;
  strncat(logged, line, sizeof(logged) - strlen(logged) - 2);
  strcat(logged, "\n");
}

static const char kIndex[] = "states-inventory";

static char dir[256];
static int databases = 0;

static AgentSyncProtocolHandle* make(void) {
  char db[320];
  snprintf(db, sizeof(db), "%s/inventory-%d.db", dir, ++databases);
  AgentSyncProtocolHandle* h =
      asp_create("inventory", db, &agent_mqueue_functions, capture, 0, 1, 0, 0);
  EXPECT(h != NULL);
  return h;
}

static void create_refuses_what_it_cannot_use(void) {
  logged[0] = '\0';
  EXPECT(asp_create(NULL, NULL, &agent_mqueue_functions, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(asp_last_error(NULL), "module is NULL");
  EXPECT_CONTAINS(logged, "module is NULL");
  EXPECT(asp_create("inventory", NULL, NULL, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(asp_last_error(NULL), "mq_funcs is NULL");
  EXPECT(asp_create("inventory", NULL, &agent_mqueue_functions, NULL, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(asp_last_error(NULL), "logger is NULL");
  EXPECT(asp_create("bad module", NULL, &agent_mqueue_functions, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(asp_last_error(NULL), "bad module");
  EXPECT(asp_create("inventory", "/nonexistent-dir/x/inv.db", &agent_mqueue_functions, capture, 0,
                    1, 0, 0) == NULL);
  EXPECT_CONTAINS(asp_last_error(NULL), "/nonexistent-dir/x/inv.db");
  EXPECT_CONTAINS(logged, "/nonexistent-dir/x/inv.db");
  asp_destroy(NULL); /* a no-op */
}

static void a_null_handle_fails_every_call(void) {
  const char* indices[] = {kIndex};
  asp_persist_diff(NULL, "a", OPERATION_CREATE, kIndex, "{}", 1);
  EXPECT_CONTAINS(asp_last_error(NULL), "asp_persist_diff: handle is NULL");
  asp_persist_diff_in_memory(NULL, "a", OPERATION_CREATE, kIndex, "{}", 1);
  EXPECT_CONTAINS(asp_last_error(NULL), "handle is NULL");
  SyncModuleResult_t r = asp_sync_module(NULL, MODE_DELTA);
  EXPECT(!r.success);
  EXPECT_CONTAINS(r.failure_reason, "handle is NULL");
  EXPECT(!asp_requires_full_sync(NULL, kIndex, "x"));
  EXPECT(!asp_parse_response_buffer(NULL, (const uint8_t*)"x", 1));
  EXPECT(!asp_sync_metadata_or_groups(NULL, MODE_GROUP_DELTA, indices, 1, 1).success);
  EXPECT(!asp_notify_data_clean(NULL, indices, 1));
  EXPECT(!asp_should_stop(NULL));
  EXPECT(!asp_set_agent_identity(NULL, "1", "a", NULL, 0));
  asp_clear_in_memory_data(NULL);
  asp_delete_database(NULL);
  asp_stop(NULL);
  asp_reset(NULL);
  EXPECT_CONTAINS(asp_last_error(NULL), "asp_reset: handle is NULL");
}

static void bad_arguments_are_logged_and_readable(void) {
  AgentSyncProtocolHandle* h = make();
  const char* bad[] = {NULL};
  errors_logged = 0;
  asp_persist_diff(h, NULL, OPERATION_CREATE, kIndex, "{}", 1);
  EXPECT_CONTAINS(asp_last_error(h), "asp_persist_diff: id is NULL");
  asp_persist_diff(h, "a", OPERATION_CREATE, kIndex, NULL, 1);
  EXPECT_CONTAINS(asp_last_error(h), "data is NULL");
  asp_persist_diff(h, "a", OPERATION_NO_OP, kIndex, "{}", 1);
  EXPECT_CONTAINS(asp_last_error(h), "operation");
  asp_persist_diff(h, "a", (Operation_t)42, kIndex, "{}", 1);
  EXPECT_CONTAINS(asp_last_error(h), "operation");
  asp_persist_diff_in_memory(h, "a", OPERATION_CREATE, NULL, "{}", 1);
  EXPECT_CONTAINS(asp_last_error(h), "index is NULL");
  EXPECT(!asp_requires_full_sync(h, kIndex, NULL));
  EXPECT_CONTAINS(asp_last_error(h), "checksum is NULL");
  EXPECT(!asp_sync_metadata_or_groups(h, MODE_METADATA_DELTA, bad, 1, 1).success);
  EXPECT_CONTAINS(asp_last_error(h), "indices[0] is NULL");
  EXPECT(!asp_notify_data_clean(h, NULL, 2));
  EXPECT(!asp_set_agent_identity(h, "001", "web", bad, 1));
  EXPECT_CONTAINS(asp_last_error(h), "groups[0] is NULL");
  EXPECT(!asp_sync_module(h, (Mode_t)99).success);
  EXPECT_CONTAINS(asp_last_error(h), "invalid argument");
  EXPECT(!asp_sync_module(h, MODE_CHECK).success);
  EXPECT(errors_logged >= 8);
  asp_persist_diff(h, "a", OPERATION_CREATE, kIndex, "{}", 1);
  EXPECT(strcmp(asp_last_error(h), "") == 0);
  asp_destroy(h);
}

static void an_unreachable_manager_fails_sessions_and_keeps_changes(void) {
  agent_mqueue_open("/nonexistent-dir/queue");
  AgentSyncProtocolHandle* h = make();
  const char* indices[] = {kIndex};
  asp_persist_diff(h, "openssl", OPERATION_CREATE, kIndex, "{}", 1);
  EXPECT(strcmp(asp_last_error(h), "") == 0);
  SyncModuleResult_t r = asp_sync_module(h, MODE_DELTA);
  EXPECT(!r.success);
  EXPECT(!r.stopped);
  EXPECT(r.consecutive_failures == 1);
  EXPECT_CONTAINS(r.failure_reason, "transport error");
  EXPECT(!asp_requires_full_sync(h, kIndex, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  EXPECT_CONTAINS(asp_last_error(h), "transport error");
  EXPECT(!asp_sync_metadata_or_groups(h, MODE_METADATA_DELTA, indices, 1, 1).success);
  EXPECT(!asp_notify_data_clean(h, indices, 1));
  EXPECT(asp_sync_module(h, MODE_DELTA).consecutive_failures == 5); /* every call above counts */
  asp_destroy(h);
  agent_mqueue_close();
}

static void stop_is_sticky_until_reset(void) {
  AgentSyncProtocolHandle* h = make();
  const char* indices[] = {kIndex};
  EXPECT(!asp_should_stop(h));
  asp_persist_diff(h, "openssl", OPERATION_CREATE, kIndex, "{}", 1);
  asp_stop(h);
  EXPECT(asp_should_stop(h));
  SyncModuleResult_t r = asp_sync_module(h, MODE_DELTA);
  EXPECT(!r.success);
  EXPECT(r.stopped);
  EXPECT(!asp_requires_full_sync(h, kIndex, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  EXPECT_CONTAINS(asp_last_error(h), "stopped");
  EXPECT(asp_sync_metadata_or_groups(h, MODE_GROUP_DELTA, indices, 1, 1).stopped);
  EXPECT(!asp_notify_data_clean(h, indices, 1));
  asp_reset(h);
  EXPECT(!asp_should_stop(h));
  asp_destroy(h);
}

static void garbage_is_not_an_answer(void) {
  AgentSyncProtocolHandle* h = make();
  const uint8_t garbage[] = {0xff, 0x00, 0x13};
  EXPECT(!asp_parse_response_buffer(h, garbage, sizeof(garbage)));
  EXPECT_CONTAINS(asp_last_error(h), "parseResponseBuffer");
  EXPECT(!asp_parse_response_buffer(h, NULL, 4));
  asp_destroy(h);
}

int main(void) {
  const char* tmp = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof(dir), "%s/asp-established-XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) return 1;
  create_refuses_what_it_cannot_use();
  a_null_handle_fails_every_call();
  bad_arguments_are_logged_and_readable();
  an_unreachable_manager_fails_sessions_and_keeps_changes();
  stop_is_sticky_until_reset();
  garbage_is_not_an_answer();
  printf("agent_sync_protocol_c_test: %d failed expectation(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
