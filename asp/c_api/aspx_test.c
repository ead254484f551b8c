/* Every function of the C interface, including its bad-input cases, from C11. Sessions
 * against a real manager are in aspx_module_test.c. */
#include <stdint.h>
#include <stdlib.h>

#include "asp/c_api/c_test_util.h"

static char logged[8192];

static void capture(aspx_log_level_t level, const char* message) {
  (void)level;
  strncat(logged, message, sizeof(logged) - strlen(logged) - 2);
  strcat(logged, "\n");
}

static int failing_start(const char* path, short type, short attempts) {
  (void)path;
  (void)type;
  (void)attempts;
  return 3;
}

static int failing_send(int queue, const void* msg, size_t len, const char* module, char loc) {
  (void)queue;
  (void)msg;
  (void)len;
  (void)module;
  (void)loc;
  return -1;
}

static const MQ_Functions kFailingMq = {failing_start, failing_send};

static AspxHandle* make(void) {
  logged[0] = '\0';
  AspxHandle* h = aspx_create("fim", NULL, &kFailingMq, capture, 0, 1, 0, 0);
  EXPECT(h != NULL);
  return h;
}

static void create_validates_its_arguments(void) {
  logged[0] = '\0';
  EXPECT(aspx_create(NULL, NULL, &kFailingMq, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(logged, "module is NULL");
  EXPECT(aspx_create("bad module", NULL, &kFailingMq, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(aspx_last_error(), "bad module");
  MQ_Functions half = {failing_start, NULL};
  EXPECT(aspx_create("fim", NULL, &half, capture, 0, 1, 0, 0) == NULL);
  EXPECT(aspx_create("fim", "/nonexistent-dir/x/fim.db", &kFailingMq, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(logged, "/nonexistent-dir/x/fim.db");
  EXPECT(aspx_create_with_options(NULL) == NULL);
  aspx_destroy(NULL); /* a no-op */
}

static void create_with_options_uses_every_field(void) {
  aspx_options_t options;
  memset(&options, 0, sizeof(options));
  options.module = "sca";
  options.mq = NULL; /* the built-in socket */
  options.queue_path = "/nonexistent/queue";
  options.power_loss_durability = true;
  AspxHandle* h = aspx_create_with_options(&options);
  EXPECT(h != NULL);
  EXPECT(aspx_persist_diff(h, "a", ASPX_OPERATION_CREATE, "idx", "x", 1) == 0);
  aspx_sync_result_t r = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(r.code == ASPX_SYNC_TRANSPORT_ERROR);
  EXPECT_CONTAINS(r.reason, "/nonexistent/queue");
  aspx_destroy(h);
}

static void persist_accepts_changes_and_refuses_bad_ones(void) {
  AspxHandle* h = make();
  EXPECT(aspx_persist_diff(h, "/etc/hosts", ASPX_OPERATION_CREATE, "states-fim", "{}", 1) == 0);
  EXPECT(aspx_persist_diff(h, "/etc/gone", ASPX_OPERATION_DELETE, "states-fim", NULL, 2) == 0);
  const char binary[] = {'a', '\0', 'b'};
  EXPECT(aspx_persist_diff_bytes(h, "/bin/x", ASPX_OPERATION_MODIFY, "states-fim", binary, 3, 3) ==
         0);

  EXPECT(aspx_persist_diff(h, NULL, ASPX_OPERATION_CREATE, "states-fim", "{}", 1) == -1);
  EXPECT_CONTAINS(aspx_last_error(), "id is NULL");
  EXPECT(aspx_persist_diff(h, "a", ASPX_OPERATION_CREATE, NULL, "{}", 1) == -1);
  EXPECT(aspx_persist_diff(h, "", ASPX_OPERATION_CREATE, "states-fim", "{}", 1) == -1);
  EXPECT_CONTAINS(aspx_last_error(), "empty");
  EXPECT(aspx_persist_diff(h, "a", (aspx_operation_t)42, "states-fim", "{}", 1) == -1);
  EXPECT_CONTAINS(aspx_last_error(), "unknown operation 42");
  EXPECT(aspx_persist_diff_bytes(h, "a", ASPX_OPERATION_CREATE, "states-fim", NULL, 5, 1) == -1);
  char* big = malloc(70001);
  memset(big, 'x', 70000);
  big[70000] = '\0';
  EXPECT(aspx_persist_diff(h, "big", ASPX_OPERATION_CREATE, "states-fim", big, 1) == -1);
  EXPECT_CONTAINS(aspx_last_error(), "70000 bytes");
  EXPECT_CONTAINS(logged, "frame budget");
  EXPECT(aspx_persist_diff_in_memory(h, "big", ASPX_OPERATION_CREATE, "states-fim", big, 1) == -1);
  free(big);
  EXPECT(aspx_persist_diff_in_memory(h, "doc", ASPX_OPERATION_CREATE, "states-fim", "{}", 1) == 0);
  EXPECT(aspx_persist_diff_in_memory(h, "doc", (aspx_operation_t)-1, "states-fim", "{}", 1) == -1);
  EXPECT(aspx_persist_diff_in_memory_bytes(h, "/bin/x", ASPX_OPERATION_CREATE, "states-fim", binary,
                                           3, 3) == 0);
  EXPECT(aspx_persist_diff_in_memory_bytes(h, "/bin/y", ASPX_OPERATION_CREATE, "states-fim", NULL,
                                           0, 3) == 0);
  EXPECT(aspx_persist_diff_in_memory_bytes(h, "/bin/z", ASPX_OPERATION_CREATE, "states-fim", NULL,
                                           4, 3) == -1);
  EXPECT_CONTAINS(aspx_last_error(), "aspx_persist_diff_in_memory_bytes: data is NULL");
  aspx_destroy(h);
}

static void a_null_handle_is_an_error_everywhere(void) {
  logged[0] = '\0';
  AspxHandle* keep = make(); /* makes `capture` the fallback logger */
  logged[0] = '\0';
  EXPECT(aspx_persist_diff(NULL, "a", ASPX_OPERATION_CREATE, "i", "x", 1) == -1);
  EXPECT_CONTAINS(logged, "aspx_persist_diff: handle is NULL");
  EXPECT(aspx_persist_diff_in_memory(NULL, "a", ASPX_OPERATION_CREATE, "i", "x", 1) == -1);
  EXPECT(aspx_persist_diff_in_memory_bytes(NULL, "a", ASPX_OPERATION_CREATE, "i", "x", 1, 1) == -1);
  EXPECT(aspx_sync_module(NULL, ASPX_MODE_DELTA).code == ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_requires_full_sync(NULL, "i", "c") == -1);
  EXPECT(aspx_sync_metadata_or_groups(NULL, ASPX_MODE_GROUP_DELTA, NULL, 0, 1).code ==
         ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_notify_data_clean(NULL, NULL, 0).code == ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_parse_response_buffer(NULL, (const uint8_t*)"x", 1) == -1);
  EXPECT(aspx_delete_database(NULL) == -1);
  EXPECT(aspx_set_agent_info(NULL, NULL) == -1);
  aspx_stats_t stats;
  EXPECT(aspx_get_stats(NULL, &stats) == -1);
  aspx_clear_in_memory_data(NULL);
  aspx_stop(NULL);
  aspx_reset(NULL);
  EXPECT_CONTAINS(logged, "aspx_reset: handle is NULL");
  aspx_destroy(keep);
}

static void sync_module_checks_modes_and_reports_results(void) {
  AspxHandle* h = make();
  aspx_sync_result_t nothing = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(nothing.success);
  EXPECT(nothing.code == ASPX_SYNC_NOTHING_TO_DO);
  EXPECT(aspx_sync_module(h, (aspx_mode_t)99).code == ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT_CONTAINS(aspx_last_error(), "unknown mode 99");
  EXPECT(aspx_sync_module(h, ASPX_MODE_CHECK).code == ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_sync_module_with_option(h, ASPX_MODE_DELTA, (aspx_option_t)7).code ==
         ASPX_SYNC_INVALID_ARGUMENT);

  EXPECT(aspx_persist_diff(h, "a", ASPX_OPERATION_CREATE, "idx", "x", 1) == 0);
  aspx_sync_result_t failed = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(!failed.success);
  EXPECT(failed.code == ASPX_SYNC_TRANSPORT_ERROR);
  EXPECT_CONTAINS(failed.reason, "transport error");
  EXPECT(failed.duration_seconds < 1.0);
  aspx_stats_t stats;
  EXPECT(aspx_get_stats(h, &stats) == 0);
  EXPECT(stats.sessions_failed == 1);
  EXPECT(stats.sessions_ok == 1);
  EXPECT_CONTAINS(stats.last_failure, "transport error");
  EXPECT(aspx_get_stats(h, NULL) == -1);
  aspx_destroy(h);
}

static void stop_and_reset(void) {
  AspxHandle* h = make();
  aspx_stop(h);
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).code == ASPX_SYNC_STOPPED);
  aspx_reset(h);
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).code == ASPX_SYNC_NOTHING_TO_DO);
  aspx_destroy(h);
}

static void integrity_check_arguments(void) {
  AspxHandle* h = make();
  EXPECT(aspx_requires_full_sync(h, NULL, "c") == -1);
  EXPECT(aspx_requires_full_sync(h, "idx", NULL) == -1);
  EXPECT(aspx_requires_full_sync(h, "idx", "not-a-checksum") == -1);
  EXPECT_CONTAINS(aspx_last_error(), "not-a-checksum");
  char empty[41];
  EXPECT(aspx_index_checksum(NULL, NULL, 0, empty) == 0);
  EXPECT(aspx_requires_full_sync(h, "idx", empty) == -1); /* no manager: an error, not 1 */
  EXPECT_CONTAINS(aspx_last_error(), "transport error");
  aspx_destroy(h);
}

static void metadata_and_clean_arguments(void) {
  AspxHandle* h = make();
  const char* indices[] = {"a", NULL};
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_DELTA, indices, 1, 1).code ==
         ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_sync_metadata_or_groups(h, (aspx_mode_t)77, indices, 1, 1).code ==
         ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_GROUP_DELTA, NULL, 2, 1).code ==
         ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_GROUP_DELTA, indices, 2, 1).code ==
         ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_METADATA_DELTA, indices, 1, 1).code ==
         ASPX_SYNC_TRANSPORT_ERROR);
  EXPECT(aspx_notify_data_clean(h, indices, 0).code == ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_notify_data_clean(h, indices, 2).code == ASPX_SYNC_INVALID_ARGUMENT);
  EXPECT(aspx_notify_data_clean(h, NULL, 1).code == ASPX_SYNC_INVALID_ARGUMENT);
  aspx_destroy(h);
}

static void parse_response_buffer_rejects_malformed_bytes(void) {
  AspxHandle* h = make();
  const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x0f, 0x01};
  EXPECT(aspx_parse_response_buffer(h, garbage, sizeof(garbage)) == -1);
  EXPECT(aspx_parse_response_buffer(h, NULL, 10) == -1);
  EXPECT(aspx_parse_response_buffer(h, NULL, 0) == -1);
  /* A well-formed EndAck{OK, session 5} while no session runs: ignored, not an error. */
  const uint8_t end_ack[] = {0x4a, 0x04, 0x08, 0x01, 0x10, 0x05};
  EXPECT(aspx_parse_response_buffer(h, end_ack, sizeof(end_ack)) == 0);
  aspx_stats_t stats;
  EXPECT(aspx_get_stats(h, &stats) == 0);
  EXPECT(stats.answers_malformed == 3);
  EXPECT(stats.answers_ignored == 1);
  aspx_destroy(h);
}

static void memory_set_database_and_agent_info(void) {
  AspxHandle* h = make();
  EXPECT(aspx_persist_diff_in_memory(h, "d", ASPX_OPERATION_CREATE, "idx", "{}", 1) == 0);
  aspx_clear_in_memory_data(h);
  EXPECT(aspx_sync_module(h, ASPX_MODE_FULL).code == ASPX_SYNC_NOTHING_TO_DO);
  EXPECT(aspx_persist_diff(h, "a", ASPX_OPERATION_CREATE, "idx", "x", 1) == 0);
  EXPECT(aspx_delete_database(h) == 0);
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).code == ASPX_SYNC_NOTHING_TO_DO);

  const char* groups[] = {"default", "linux"};
  aspx_agent_info_t info;
  memset(&info, 0, sizeof(info));
  info.id = "007";
  info.groups = groups;
  info.groups_count = 2;
  EXPECT(aspx_set_agent_info(h, &info) == 0);
  EXPECT(aspx_set_agent_info(h, NULL) == -1);
  info.groups = NULL;
  EXPECT(aspx_set_agent_info(h, &info) == -1);
  aspx_destroy(h);
}

static void names_and_checksums(void) {
  EXPECT(strcmp(aspx_sync_code_name(ASPX_SYNC_MANAGER_NOT_READY), "manager not ready") == 0);
  EXPECT(strcmp(aspx_sync_code_name(ASPX_SYNC_AWAITING_PREREQUISITE), "awaiting prerequisite") ==
         0);
  EXPECT(strcmp(aspx_sync_code_name((aspx_sync_code_t)99), "unknown code") == 0);
  char out[41];
  EXPECT(aspx_document_checksum("abc", 3, out) == 0);
  EXPECT(strcmp(out, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);
  EXPECT(aspx_document_checksum(NULL, 3, out) == -1);
  EXPECT(aspx_index_checksum(NULL, NULL, 0, out) == 0);
  EXPECT(strcmp(out, "da39a3ee5e6b4b0d3255bfef95601890afd80709") == 0);
  const void* docs[] = {"b", "a"};
  const size_t sizes[] = {1, 1};
  char forward[41], backward[41];
  EXPECT(aspx_index_checksum(docs, sizes, 2, forward) == 0);
  const void* reversed[] = {"a", "b"};
  EXPECT(aspx_index_checksum(reversed, sizes, 2, backward) == 0);
  EXPECT(strcmp(forward, backward) == 0);
  EXPECT(aspx_index_checksum(NULL, sizes, 2, out) == -1);
}

int main(void) {
  const char* names[] = {"create_validates_its_arguments",
                         "create_with_options_uses_every_field",
                         "persist_accepts_changes_and_refuses_bad_ones",
                         "a_null_handle_is_an_error_everywhere",
                         "sync_module_checks_modes_and_reports_results",
                         "stop_and_reset",
                         "integrity_check_arguments",
                         "metadata_and_clean_arguments",
                         "parse_response_buffer_rejects_malformed_bytes",
                         "memory_set_database_and_agent_info",
                         "names_and_checksums"};
  const test_fn tests[] = {create_validates_its_arguments,
                           create_with_options_uses_every_field,
                           persist_accepts_changes_and_refuses_bad_ones,
                           a_null_handle_is_an_error_everywhere,
                           sync_module_checks_modes_and_reports_results,
                           stop_and_reset,
                           integrity_check_arguments,
                           metadata_and_clean_arguments,
                           parse_response_buffer_rejects_malformed_bytes,
                           memory_set_database_and_agent_info,
                           names_and_checksums};
  return run_tests(names, tests, (int)(sizeof(tests) / sizeof(tests[0])));
}
