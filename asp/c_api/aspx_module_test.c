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

static AspxHandle* open_module(void) {
  char db[160];
  snprintf(db, sizeof(db), "%s/fim_sync.db", dir);
  aspx_options_t options;
  memset(&options, 0, sizeof(options));
  options.module = "fim";
  options.db_path = db;
  options.mq = NULL; /* the built-in socket */
  options.queue_path = socket_path;
  options.logger = quiet;
  options.timeout = 5;
  options.retries = 3;
  AspxHandle* h = aspx_create_with_options(&options);
  EXPECT(h != NULL);
  const char* groups[] = {"default"};
  aspx_agent_info_t agent;
  memset(&agent, 0, sizeof(agent));
  agent.id = "c01";
  agent.name = "c-module-agent";
  agent.groups = groups;
  agent.groups_count = 1;
  EXPECT(aspx_set_agent_info(h, &agent) == 0);
  return h;
}

static void a_c_module_end_to_end(void) {
  EXPECT(mkdtemp(dir) != NULL);
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

int main(void) {
  const char* names[] = {"a_c_module_end_to_end"};
  const test_fn tests[] = {a_c_module_end_to_end};
  const int result = run_tests(names, tests, 1);
  char command[256];
  snprintf(command, sizeof(command), "rm -rf %s", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return result;
}
