/* Every function of the C interface, including its bad-input cases, from C11. Sessions
 * against a real manager are in c_module_test.c. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "asp/c_api/c_test_util.h"

static char logged[8192];

static void capture(asp_log_level_t level, const char* message) {
  (void)level;
  strncat(logged, message, sizeof(logged) - strlen(logged) - 2);
  strcat(logged, "\n");
}

static int failing_start(const char* path, short type, short attempts) {
  (void)path; (void)type; (void)attempts;
  return 3;
}

static int failing_send(int queue, const void* msg, size_t len, const char* module, char loc) {
  (void)queue; (void)msg; (void)len; (void)module; (void)loc;
  return -1;
}

static const MQ_Functions kFailingMq = {failing_start, failing_send};

static AspHandle* make(void) {
  logged[0] = '\0';
  AspHandle* h = asp_create("fim", NULL, &kFailingMq, capture, 0, 1, 0, 0);
  EXPECT(h != NULL);
  return h;
}

static void create_validates_its_arguments(void) {
  logged[0] = '\0';
  EXPECT(asp_create(NULL, NULL, &kFailingMq, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(logged, "module is NULL");
  EXPECT(asp_create("bad module", NULL, &kFailingMq, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(asp_last_error(), "bad module");
  EXPECT(asp_create("fim", NULL, NULL, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(asp_last_error(), "MQ_Functions are NULL");
  MQ_Functions half = {failing_start, NULL};
  EXPECT(asp_create("fim", NULL, &half, capture, 0, 1, 0, 0) == NULL);
  EXPECT(asp_create("fim", "/nonexistent-dir/x/fim.db", &kFailingMq, capture, 0, 1, 0, 0) == NULL);
  EXPECT_CONTAINS(logged, "/nonexistent-dir/x/fim.db");
  EXPECT(asp_create_with_options(NULL) == NULL);
  asp_destroy(NULL); /* a no-op */
}

static void create_with_options_uses_every_field(void) {
  asp_options_t options;
  memset(&options, 0, sizeof(options));
  options.module = "sca";
  options.mq = asp_unix_mq_functions();
  options.queue_path = "/nonexistent/queue";
  options.power_loss_durability = true;
  AspHandle* h = asp_create_with_options(&options);
  EXPECT(h != NULL);
  EXPECT(asp_persist_diff(h, "a", ASP_OPERATION_CREATE, "idx", "x", 1) == 0);
  asp_sync_result_t r = asp_sync_module(h, ASP_MODE_DELTA);
  EXPECT(r.code == ASP_SYNC_TRANSPORT_ERROR);
  EXPECT_CONTAINS(r.reason, "/nonexistent/queue");
  asp_destroy(h);
}

static void persist_accepts_changes_and_refuses_bad_ones(void) {
  AspHandle* h = make();
  EXPECT(asp_persist_diff(h, "/etc/hosts", ASP_OPERATION_CREATE, "states-fim", "{}", 1) == 0);
  EXPECT(asp_persist_diff(h, "/etc/gone", ASP_OPERATION_DELETE, "states-fim", NULL, 2) == 0);
  const char binary[] = {'a', '\0', 'b'};
  EXPECT(asp_persist_diff_bytes(h, "/bin/x", ASP_OPERATION_MODIFY, "states-fim", binary, 3, 3) == 0);

  EXPECT(asp_persist_diff(h, NULL, ASP_OPERATION_CREATE, "states-fim", "{}", 1) == -1);
  EXPECT_CONTAINS(asp_last_error(), "id is NULL");
  EXPECT(asp_persist_diff(h, "a", ASP_OPERATION_CREATE, NULL, "{}", 1) == -1);
  EXPECT(asp_persist_diff(h, "", ASP_OPERATION_CREATE, "states-fim", "{}", 1) == -1);
  EXPECT_CONTAINS(asp_last_error(), "empty");
  EXPECT(asp_persist_diff(h, "a", (asp_operation_t)42, "states-fim", "{}", 1) == -1);
  EXPECT_CONTAINS(asp_last_error(), "unknown operation 42");
  EXPECT(asp_persist_diff_bytes(h, "a", ASP_OPERATION_CREATE, "states-fim", NULL, 5, 1) == -1);
  char* big = malloc(70001);
  memset(big, 'x', 70000);
  big[70000] = '\0';
  EXPECT(asp_persist_diff(h, "big", ASP_OPERATION_CREATE, "states-fim", big, 1) == -1);
  EXPECT_CONTAINS(asp_last_error(), "70000 bytes");
  EXPECT_CONTAINS(logged, "frame budget");
  EXPECT(asp_persist_diff_in_memory(h, "big", ASP_OPERATION_CREATE, "states-fim", big, 1) == -1);
  free(big);
  EXPECT(asp_persist_diff_in_memory(h, "doc", ASP_OPERATION_CREATE, "states-fim", "{}", 1) == 0);
  EXPECT(asp_persist_diff_in_memory(h, "doc", (asp_operation_t)-1, "states-fim", "{}", 1) == -1);
  EXPECT(asp_persist_diff_in_memory_bytes(h, "/bin/x", ASP_OPERATION_CREATE, "states-fim", binary, 3, 3) == 0);
  EXPECT(asp_persist_diff_in_memory_bytes(h, "/bin/y", ASP_OPERATION_CREATE, "states-fim", NULL, 0, 3) == 0);
  EXPECT(asp_persist_diff_in_memory_bytes(h, "/bin/z", ASP_OPERATION_CREATE, "states-fim", NULL, 4, 3) == -1);
  EXPECT_CONTAINS(asp_last_error(), "asp_persist_diff_in_memory_bytes: data is NULL");
  asp_destroy(h);
}

static void a_null_handle_is_an_error_everywhere(void) {
  logged[0] = '\0';
  AspHandle* keep = make(); /* makes `capture` the fallback logger */
  logged[0] = '\0';
  EXPECT(asp_persist_diff(NULL, "a", ASP_OPERATION_CREATE, "i", "x", 1) == -1);
  EXPECT_CONTAINS(logged, "asp_persist_diff: handle is NULL");
  EXPECT(asp_persist_diff_in_memory(NULL, "a", ASP_OPERATION_CREATE, "i", "x", 1) == -1);
  EXPECT(asp_persist_diff_in_memory_bytes(NULL, "a", ASP_OPERATION_CREATE, "i", "x", 1, 1) == -1);
  EXPECT(asp_sync_module(NULL, ASP_MODE_DELTA).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_requires_full_sync(NULL, "i", "c") == -1);
  EXPECT(asp_sync_metadata_or_groups(NULL, ASP_MODE_GROUP_DELTA, NULL, 0, 1).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_notify_data_clean(NULL, NULL, 0).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_parse_response_buffer(NULL, (const uint8_t*)"x", 1) == -1);
  EXPECT(asp_delete_database(NULL) == -1);
  EXPECT(asp_set_agent_info(NULL, NULL) == -1);
  asp_stats_t stats;
  EXPECT(asp_get_stats(NULL, &stats) == -1);
  asp_clear_in_memory_data(NULL);
  asp_stop(NULL);
  asp_reset(NULL);
  EXPECT_CONTAINS(logged, "asp_reset: handle is NULL");
  asp_destroy(keep);
}

static void sync_module_checks_modes_and_reports_results(void) {
  AspHandle* h = make();
  asp_sync_result_t nothing = asp_sync_module(h, ASP_MODE_DELTA);
  EXPECT(nothing.success);
  EXPECT(nothing.code == ASP_SYNC_NOTHING_TO_DO);
  EXPECT(asp_sync_module(h, (asp_mode_t)99).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT_CONTAINS(asp_last_error(), "unknown mode 99");
  EXPECT(asp_sync_module(h, ASP_MODE_CHECK).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_sync_module_with_option(h, ASP_MODE_DELTA, (asp_option_t)7).code == ASP_SYNC_INVALID_ARGUMENT);

  EXPECT(asp_persist_diff(h, "a", ASP_OPERATION_CREATE, "idx", "x", 1) == 0);
  asp_sync_result_t failed = asp_sync_module(h, ASP_MODE_DELTA);
  EXPECT(!failed.success);
  EXPECT(failed.code == ASP_SYNC_TRANSPORT_ERROR);
  EXPECT_CONTAINS(failed.reason, "transport error");
  EXPECT(failed.duration_seconds < 1.0);
  asp_stats_t stats;
  EXPECT(asp_get_stats(h, &stats) == 0);
  EXPECT(stats.sessions_failed == 1);
  EXPECT(stats.sessions_ok == 1);
  EXPECT_CONTAINS(stats.last_failure, "transport error");
  EXPECT(asp_get_stats(h, NULL) == -1);
  asp_destroy(h);
}

static void stop_and_reset(void) {
  AspHandle* h = make();
  asp_stop(h);
  EXPECT(asp_sync_module(h, ASP_MODE_DELTA).code == ASP_SYNC_STOPPED);
  asp_reset(h);
  EXPECT(asp_sync_module(h, ASP_MODE_DELTA).code == ASP_SYNC_NOTHING_TO_DO);
  asp_destroy(h);
}

static void integrity_check_arguments(void) {
  AspHandle* h = make();
  EXPECT(asp_requires_full_sync(h, NULL, "c") == -1);
  EXPECT(asp_requires_full_sync(h, "idx", NULL) == -1);
  EXPECT(asp_requires_full_sync(h, "idx", "not-a-checksum") == -1);
  EXPECT_CONTAINS(asp_last_error(), "not-a-checksum");
  char empty[41];
  EXPECT(asp_index_checksum(NULL, NULL, 0, empty) == 0);
  EXPECT(asp_requires_full_sync(h, "idx", empty) == -1); /* no manager: an error, not 1 */
  EXPECT_CONTAINS(asp_last_error(), "transport error");
  asp_destroy(h);
}

static void metadata_and_clean_arguments(void) {
  AspHandle* h = make();
  const char* indices[] = {"a", NULL};
  EXPECT(asp_sync_metadata_or_groups(h, ASP_MODE_DELTA, indices, 1, 1).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_sync_metadata_or_groups(h, (asp_mode_t)77, indices, 1, 1).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_sync_metadata_or_groups(h, ASP_MODE_GROUP_DELTA, NULL, 2, 1).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_sync_metadata_or_groups(h, ASP_MODE_GROUP_DELTA, indices, 2, 1).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_sync_metadata_or_groups(h, ASP_MODE_METADATA_DELTA, indices, 1, 1).code == ASP_SYNC_TRANSPORT_ERROR);
  EXPECT(asp_notify_data_clean(h, indices, 0).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_notify_data_clean(h, indices, 2).code == ASP_SYNC_INVALID_ARGUMENT);
  EXPECT(asp_notify_data_clean(h, NULL, 1).code == ASP_SYNC_INVALID_ARGUMENT);
  asp_destroy(h);
}

static void parse_response_buffer_rejects_malformed_bytes(void) {
  AspHandle* h = make();
  const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x0f, 0x01};
  EXPECT(asp_parse_response_buffer(h, garbage, sizeof(garbage)) == -1);
  EXPECT(asp_parse_response_buffer(h, NULL, 10) == -1);
  EXPECT(asp_parse_response_buffer(h, NULL, 0) == -1);
  /* A well-formed EndAck{OK, session 5} while no session runs: ignored, not an error. */
  const uint8_t end_ack[] = {0x4a, 0x04, 0x08, 0x01, 0x10, 0x05};
  EXPECT(asp_parse_response_buffer(h, end_ack, sizeof(end_ack)) == 0);
  asp_stats_t stats;
  EXPECT(asp_get_stats(h, &stats) == 0);
  EXPECT(stats.answers_malformed == 3);
  EXPECT(stats.answers_ignored == 1);
  asp_destroy(h);
}

static void memory_set_database_and_agent_info(void) {
  AspHandle* h = make();
  EXPECT(asp_persist_diff_in_memory(h, "d", ASP_OPERATION_CREATE, "idx", "{}", 1) == 0);
  asp_clear_in_memory_data(h);
  EXPECT(asp_sync_module(h, ASP_MODE_FULL).code == ASP_SYNC_NOTHING_TO_DO);
  EXPECT(asp_persist_diff(h, "a", ASP_OPERATION_CREATE, "idx", "x", 1) == 0);
  EXPECT(asp_delete_database(h) == 0);
  EXPECT(asp_sync_module(h, ASP_MODE_DELTA).code == ASP_SYNC_NOTHING_TO_DO);

  const char* groups[] = {"default", "linux"};
  asp_agent_info_t info;
  memset(&info, 0, sizeof(info));
  info.id = "007";
  info.groups = groups;
  info.groups_count = 2;
  EXPECT(asp_set_agent_info(h, &info) == 0);
  EXPECT(asp_set_agent_info(h, NULL) == -1);
  info.groups = NULL;
  EXPECT(asp_set_agent_info(h, &info) == -1);
  asp_destroy(h);
}

static void names_and_checksums(void) {
  EXPECT(strcmp(asp_sync_code_name(ASP_SYNC_MANAGER_NOT_READY), "manager not ready") == 0);
  EXPECT(strcmp(asp_sync_code_name((asp_sync_code_t)99), "unknown code") == 0);
  char out[41];
  EXPECT(asp_document_checksum("abc", 3, out) == 0);
  EXPECT(strcmp(out, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);
  EXPECT(asp_document_checksum(NULL, 3, out) == -1);
  EXPECT(asp_index_checksum(NULL, NULL, 0, out) == 0);
  EXPECT(strcmp(out, "da39a3ee5e6b4b0d3255bfef95601890afd80709") == 0);
  const void* docs[] = {"b", "a"};
  const size_t sizes[] = {1, 1};
  char forward[41], backward[41];
  EXPECT(asp_index_checksum(docs, sizes, 2, forward) == 0);
  const void* reversed[] = {"a", "b"};
  EXPECT(asp_index_checksum(reversed, sizes, 2, backward) == 0);
  EXPECT(strcmp(forward, backward) == 0);
  EXPECT(asp_index_checksum(NULL, sizes, 2, out) == -1);
}

static void builtin_unix_mq_frames_what_it_sends(void) {
  char dir[] = "/tmp/asp-c-XXXXXX";
  EXPECT(mkdtemp(dir) != NULL);
  char path[128];
  snprintf(path, sizeof(path), "%s/queue", dir);
  int server = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un address;
  memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  strncpy(address.sun_path, path, sizeof(address.sun_path) - 1);
  EXPECT(bind(server, (struct sockaddr*)&address, sizeof(address)) == 0);
  const MQ_Functions* mq = asp_unix_mq_functions();
  int queue = mq->start(path, ASP_MQ_WRITE, 1);
  EXPECT(queue >= 0);
  EXPECT(mq->send_binary(queue, "hello", 5, "fim", 's') == 0);
  char buffer[64];
  ssize_t n = recv(server, buffer, sizeof(buffer), 0);
  EXPECT(n == 11);
  EXPECT(memcmp(buffer, "s:fim:hello", 11) == 0);
  EXPECT(mq->send_binary(12345, "x", 1, "fim", 's') == -1);
  EXPECT(mq->start(NULL, ASP_MQ_WRITE, 1) == -1);
  close(queue);
  close(server);
  unlink(path);
  rmdir(dir);
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
                         "names_and_checksums",
                         "builtin_unix_mq_frames_what_it_sends"};
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
                           names_and_checksums,
                           builtin_unix_mq_frames_what_it_sends};
  return run_tests(names, tests, (int)(sizeof(tests) / sizeof(tests[0])));
}
