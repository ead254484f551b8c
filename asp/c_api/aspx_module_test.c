/* A file-integrity-style module written in C that follows docs/integration-guide.md end to
 * end against the reference manager (the asp_manager binary) over a real Unix socket,
 * using the built-in MQueue: DELTA, integrity check with mismatch and FULL recovery,
 * metadata and groups syncs, and a data clean. */
#include <stdlib.h>

#include "asp/c_api/c_test_util.h"
#include "asp/testing/manager_process.h"

#define FILES 1000
#define INDEX "states-fim-files"
#define BINARY_INDEX "states-fim-binaries"

/* What the module holds: one document per file. */
static char documents[FILES][96];
static int present[FILES];

static char dir[] = "/tmp/asp-cmod-XXXXXX";
static char socket_path[128];
static pid_t manager = -1;

static void quiet(aspx_log_level_t level, const char* message) {
  if (level >= ASPX_LOG_WARNING) fprintf(stderr, "asp: %s\n", message);
}

static void start_manager(void) {
  char state[160];
  snprintf(socket_path, sizeof(socket_path), "%s/queue", dir);
  snprintf(state, sizeof(state), "%s/manager", dir);
  manager = manager_process_start(socket_path, state);
  EXPECT(manager > 0);
}

static void stop_manager(void) { EXPECT(manager_process_stop(manager) == 0); }

/* The module's checksum of INDEX (docs/protocol.md §5.1). */
static void module_checksum(char out[41]) {
  const void* datas[FILES];
  size_t sizes[FILES];
  size_t count = 0;
  for (int i = 0; i < FILES; ++i) {
    if (!present[i]) continue;
    datas[count] = documents[i];
    sizes[count] = strlen(documents[i]);
    ++count;
  }
  EXPECT(aspx_index_checksum(datas, sizes, count, out) == 0);
}

static void record(AspxHandle* h, int file, aspx_operation_t operation, int revision) {
  char id[64];
  snprintf(id, sizeof(id), "/etc/demo/file-%04d", file);
  if (operation == ASPX_OPERATION_DELETE) {
    present[file] = 0;
    EXPECT(aspx_persist_diff(h, id, operation, INDEX, NULL, (uint64_t)revision) == 0);
    return;
  }
  snprintf(documents[file], sizeof(documents[file]), "{\"path\":\"%s\",\"rev\":%d}", id, revision);
  present[file] = 1;
  EXPECT(aspx_persist_diff(h, id, operation, INDEX, documents[file], (uint64_t)revision) == 0);
}

static void set_agent(AspxHandle* h) {
  const char* groups[] = {"default"};
  aspx_agent_info_t agent;
  memset(&agent, 0, sizeof(agent));
  agent.id = "c01";
  agent.name = "c-module-agent";
  agent.groups = groups;
  agent.groups_count = 1;
  EXPECT(aspx_set_agent_info(h, &agent) == 0);
}

/* Opens `module` with `options` (zeroed but for what the test sets), on the test's manager. */
static AspxHandle* open_module_with(const char* module, aspx_options_t* options) {
  char db[160];
  snprintf(db, sizeof(db), "%s/%s_sync.db", dir, module);
  options->module = module;
  options->db_path = db;
  options->mq = NULL; /* the built-in socket */
  options->queue_path = socket_path;
  if (options->logger == NULL) options->logger = quiet;
  options->timeout = 5;
  options->retries = 3;
  AspxHandle* h = aspx_create_with_options(options);
  EXPECT(h != NULL);
  set_agent(h);
  return h;
}

static AspxHandle* open_module_as(const char* module, uint64_t max_session_values) {
  aspx_options_t options;
  memset(&options, 0, sizeof(options));
  options.max_session_values = max_session_values;
  return open_module_with(module, &options);
}

static AspxHandle* open_module(void) { return open_module_as("fim", 0); }

static void a_c_module_end_to_end(void) {
  start_manager();
  AspxHandle* h = open_module();

  /* Scan: every file is new. DELTA ships them. */
  for (int i = 0; i < FILES; ++i) record(h, i, ASPX_OPERATION_CREATE, 1);
  aspx_sync_result_t delta = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(delta.success);
  EXPECT(delta.code == ASPX_SYNC_OK);
  EXPECT(delta.changes == FILES);
  EXPECT(delta.session != 0);

  /* Changes and deletions, then another DELTA: the checksums match. */
  for (int i = 0; i < FILES; i += 10) record(h, i, ASPX_OPERATION_MODIFY, 2);
  for (int i = 5; i < FILES; i += 20) record(h, i, ASPX_OPERATION_DELETE, 2);
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).code == ASPX_SYNC_OK);
  char checksum[41];
  module_checksum(checksum);
  EXPECT(aspx_requires_full_sync(h, INDEX, checksum) == 0);

  /* The module's view moves on without a sync: the manager's copy differs. */
  record(h, 1, ASPX_OPERATION_MODIFY, 3);
  module_checksum(checksum);
  EXPECT(aspx_requires_full_sync(h, INDEX, checksum) == 1);

  /* Recovery: the whole index again, in memory, as a FULL sync. */
  aspx_clear_in_memory_data(h);
  for (int i = 0; i < FILES; ++i) {
    if (!present[i]) continue;
    char id[64];
    snprintf(id, sizeof(id), "/etc/demo/file-%04d", i);
    EXPECT(aspx_persist_diff_in_memory(h, id, ASPX_OPERATION_CREATE, INDEX, documents[i], 3) == 0);
  }
  aspx_sync_result_t full = aspx_sync_module(h, ASPX_MODE_FULL);
  EXPECT(full.code == ASPX_SYNC_OK);
  EXPECT(aspx_requires_full_sync(h, INDEX, checksum) == 0);

  /* A binary document (an embedded NUL) reaches the manager whole through a FULL sync:
   * its checksum matches the whole bytes, not the part before the NUL. */
  const char blob[] = {'b', 'i', 'n', '\0', 'a', 'r', 'y'};
  aspx_clear_in_memory_data(h);
  EXPECT(aspx_persist_diff_in_memory_bytes(h, "/bin/blob", ASPX_OPERATION_CREATE, BINARY_INDEX,
                                           blob, sizeof(blob), 1) == 0);
  EXPECT(aspx_sync_module(h, ASPX_MODE_FULL).code == ASPX_SYNC_OK);
  char whole[41], cut[41];
  const void* blob_data[] = {blob};
  const size_t whole_size[] = {sizeof(blob)};
  const size_t cut_size[] = {strlen(blob)};
  EXPECT(aspx_index_checksum(blob_data, whole_size, 1, whole) == 0);
  EXPECT(aspx_index_checksum(blob_data, cut_size, 1, cut) == 0);
  EXPECT(aspx_requires_full_sync(h, BINARY_INDEX, whole) == 0);
  EXPECT(aspx_requires_full_sync(h, BINARY_INDEX, cut) == 1);

  /* Metadata and groups. */
  const char* indices[] = {INDEX};
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_METADATA_DELTA, indices, 1, 7).code ==
         ASPX_SYNC_OK);
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_METADATA_CHECK, indices, 1, 7).code ==
         ASPX_SYNC_OK);
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_GROUP_DELTA, indices, 1, 8).code ==
         ASPX_SYNC_OK);
  EXPECT(aspx_sync_metadata_or_groups(h, ASPX_MODE_GROUP_CHECK, indices, 1, 8).code ==
         ASPX_SYNC_OK);

  /* The module stops watching the index: a clean empties it on the manager. */
  aspx_sync_result_t clean = aspx_notify_data_clean(h, indices, 1);
  EXPECT(clean.code == ASPX_SYNC_OK);
  char empty[41];
  EXPECT(aspx_index_checksum(NULL, NULL, 0, empty) == 0);
  EXPECT(aspx_requires_full_sync(h, INDEX, empty) == 0);

  aspx_stats_t stats;
  EXPECT(aspx_get_stats(h, &stats) == 0);
  EXPECT(stats.sessions_failed == 0);
  EXPECT(stats.values_sent >= FILES);
  aspx_destroy(h);

  /* A session with the manager gone fails fast and keeps the change queued. */
  stop_manager();
  h = open_module();
  record(h, 2, ASPX_OPERATION_MODIFY, 4);
  aspx_sync_result_t down = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(down.code == ASPX_SYNC_TRANSPORT_ERROR);
  start_manager();
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).code == ASPX_SYNC_OK);
  aspx_destroy(h);
  stop_manager();
}

/* What aspx_read_pending handed over, page after page. */
typedef struct {
  int changes;
  int contexts;
  int in_flight;
  char last_context[32];
} pending_tally_t;

static void tally(const aspx_pending_item_t* item, void* user_data) {
  pending_tally_t* t = (pending_tally_t*)user_data;
  if (item->is_context) {
    ++t->contexts;
    snprintf(t->last_context, sizeof(t->last_context), "%.*s", (int)item->data_size,
             (const char*)item->data);
  } else {
    ++t->changes;
  }
  if (item->in_flight) ++t->in_flight;
}

/* Reads every pending item in pages of `page_size`; returns how many pages it took. */
static int read_all_pending(AspxHandle* h, size_t page_size, bool with_context,
                            pending_tally_t* t) {
  memset(t, 0, sizeof(*t));
  uint64_t after = 0;
  bool done = false;
  int pages = 0;
  while (!done && pages < 1000) {
    EXPECT(aspx_read_pending(h, after, page_size, with_context, tally, t, &after, &done) == 0);
    ++pages;
  }
  return pages;
}

/* A vulnerability-detection-style module in C: bounded sessions, the failure streak,
 * context documents and reading what is pending (docs/protocol.md §5, §6, §7). */
static void bounded_sessions_streak_contexts_and_pending_in_c(void) {
  start_manager();
  AspxHandle* h = open_module_as("vd", 100); /* at most 100 values per session */
  for (int i = 0; i < 250; ++i) {
    char id[32];
    snprintf(id, sizeof(id), "pkg-%03d", i);
    EXPECT(aspx_persist_diff(h, id, ASPX_OPERATION_CREATE, "states-packages", "{}", 1) == 0);
  }
  EXPECT(aspx_record_context(h, "os", ASPX_OPERATION_MODIFY, "states-os", "debian-12", 9, 1) == 0);
  EXPECT(aspx_record_context(h, "os", ASPX_OPERATION_MODIFY, "states-os", "debian-13", 9, 2) == 0);

  pending_tally_t t;
  EXPECT(read_all_pending(h, 100, false, &t) == 3);
  EXPECT(t.changes == 250 && t.contexts == 0 && t.in_flight == 0);
  read_all_pending(h, 1000, true, &t);
  EXPECT(t.changes == 250 && t.contexts == 1); /* the same (index, id) replaced */
  EXPECT(strcmp(t.last_context, "debian-13") == 0);

  uint64_t after = 0;
  bool done = false;
  EXPECT(aspx_read_pending(h, 0, 0, false, tally, &t, &after, &done) == -1);
  EXPECT_CONTAINS(aspx_last_error(), "max_items 0");
  EXPECT(aspx_read_pending(h, 0, 10, false, NULL, &t, &after, &done) == -1);

  /* 250 changes in sessions of at most 100 (each also carrying the context): three. */
  aspx_sync_result_t r = aspx_sync_module_with_option(h, ASPX_MODE_DELTA, ASPX_OPTION_VD_FIRST);
  EXPECT(r.code == ASPX_SYNC_OK);
  EXPECT(r.sessions == 3);
  EXPECT(r.changes == 253); /* data messages: 250 values and the context once per session */
  EXPECT(r.consecutive_failures == 0);
  read_all_pending(h, 1000, true, &t);
  EXPECT(t.changes == 0 && t.contexts == 1); /* only aspx_clear_contexts drops it */
  EXPECT(aspx_clear_contexts(h) == 0);
  read_all_pending(h, 1000, true, &t);
  EXPECT(t.changes == 0 && t.contexts == 0);

  /* The streak: each failed call counts, a success resets it. */
  stop_manager();
  EXPECT(aspx_persist_diff(h, "pkg-000", ASPX_OPERATION_MODIFY, "states-packages", "{}", 2) == 0);
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).consecutive_failures == 1);
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).consecutive_failures == 2);
  start_manager();
  r = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(r.code == ASPX_SYNC_OK && r.consecutive_failures == 0 && r.sessions == 1);

  /* VD_CLEAN belongs to cleans; a sync with it is refused, a clean with it runs. */
  EXPECT(aspx_sync_module_with_option(h, ASPX_MODE_DELTA, ASPX_OPTION_VD_CLEAN).code ==
         ASPX_SYNC_INVALID_ARGUMENT);
  const char* indices[] = {"states-packages"};
  EXPECT(aspx_notify_data_clean_with_option(h, indices, 1, ASPX_OPTION_VD_CLEAN).code ==
         ASPX_SYNC_OK);
  EXPECT(aspx_notify_data_clean_with_option(h, indices, 1, (aspx_option_t)7).code ==
         ASPX_SYNC_INVALID_ARGUMENT);
  aspx_destroy(h);
  stop_manager();
}

static int warnings = 0;
static void counting(aspx_log_level_t level, const char* message) {
  (void)message;
  if (level == ASPX_LOG_WARNING) ++warnings;
}

/* The options a long-running C agent sets: the identity it does not know yet, sessions
 * without a bound, the streak from which failures are warnings. */
static void prerequisites_unbounded_sessions_and_warnings_in_c(void) {
  start_manager();
  aspx_options_t options;
  memset(&options, 0, sizeof(options));
  options.max_session_values = ASPX_NO_BOUND;
  options.prerequisite_wait = 1;
  options.failure_warning_threshold = 2;
  options.logger = counting;
  AspxHandle* h = open_module_with("sca", &options);
  for (int i = 0; i < 250; ++i) {
    char id[32];
    snprintf(id, sizeof(id), "check-%03d", i);
    EXPECT(aspx_persist_diff(h, id, ASPX_OPERATION_CREATE, "states-sca", "{}", 1) == 0);
  }
  /* Still enrolling: the call waits up to prerequisite_wait, sends nothing, keeps all. */
  EXPECT(aspx_set_agent_info_unavailable(h) == 0);
  aspx_sync_result_t r = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(r.code == ASPX_SYNC_AWAITING_PREREQUISITE);
  EXPECT(r.session == 0);
  set_agent(h);
  r = aspx_sync_module(h, ASPX_MODE_DELTA);
  EXPECT(r.code == ASPX_SYNC_OK);
  EXPECT(r.sessions == 1 && r.changes == 250); /* ASPX_NO_BOUND: one session */

  /* The first failure of a streak is info, the second (the threshold) a warning. */
  stop_manager();
  EXPECT(aspx_persist_diff(h, "check-000", ASPX_OPERATION_MODIFY, "states-sca", "{}", 2) == 0);
  warnings = 0;
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).consecutive_failures == 1);
  EXPECT(warnings == 0);
  EXPECT(aspx_sync_module(h, ASPX_MODE_DELTA).consecutive_failures == 2);
  EXPECT(warnings >= 1);
  aspx_destroy(h);
}

int main(void) {
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  const char* names[] = {"a_c_module_end_to_end",
                         "bounded_sessions_streak_contexts_and_pending_in_c",
                         "prerequisites_unbounded_sessions_and_warnings_in_c"};
  const test_fn tests[] = {a_c_module_end_to_end, bounded_sessions_streak_contexts_and_pending_in_c,
                           prerequisites_unbounded_sessions_and_warnings_in_c};
  const int result = run_tests(names, tests, 3);
  char command[256];
  snprintf(command, sizeof(command), "rm -rf %s", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return result;
}
