#include "inventory_c/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inventory {
  AspxHandle* asp;
  package_t held[INVENTORY_MAX_PACKAGES];
  size_t held_count;
  uint64_t collections;
};

static void describe(const package_t* p, char* out, size_t size) {
  snprintf(out, size, "{\"name\":\"%s\",\"version\":\"%s\",\"architecture\":\"%s\"}", p->name,
           p->version, p->architecture);
}

static const package_t* find(const package_t* packages, size_t count, const char* name) {
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(packages[i].name, name) == 0) return &packages[i];
  }
  return NULL;
}

inventory_t* inventory_open(const char* db_path, const char* queue_path, const char* agent_id,
                            aspx_logger_t logger) {
  aspx_options_t options;
  memset(&options, 0, sizeof(options));
  options.module = "syscollector";
  options.db_path = db_path;
  options.mq = NULL; /* the built-in socket */
  options.queue_path = queue_path;
  options.logger = logger;
  options.timeout = 5;
  options.retries = 3;
  AspxHandle* asp = aspx_create_with_options(&options);
  if (asp == NULL) return NULL;
  static const char* const groups[] = {"default"}; /* an enrolled agent has at least one */
  aspx_agent_info_t agent;
  memset(&agent, 0, sizeof(agent));
  agent.id = agent_id;
  agent.groups = groups;
  agent.groups_count = 1;
  if (aspx_set_agent_info(asp, &agent) != 0) {
    aspx_destroy(asp);
    return NULL;
  }
  inventory_t* inventory = calloc(1, sizeof(inventory_t));
  if (inventory == NULL) {
    aspx_destroy(asp);
    return NULL;
  }
  inventory->asp = asp;
  return inventory;
}

void inventory_close(inventory_t* inventory) {
  if (inventory == NULL) return;
  aspx_destroy(inventory->asp);
  free(inventory);
}

int inventory_collect(inventory_t* inventory, const package_t* packages, size_t count) {
  if (inventory == NULL || count > INVENTORY_MAX_PACKAGES) return -1;
  ++inventory->collections;
  int changes = 0;
  char document[160];
  for (size_t i = 0; i < count; ++i) {
    const package_t* before = find(inventory->held, inventory->held_count, packages[i].name);
    if (before != NULL && memcmp(before, &packages[i], sizeof(package_t)) == 0) continue;
    describe(&packages[i], document, sizeof(document));
    const aspx_operation_t op = before == NULL ? ASPX_OPERATION_CREATE : ASPX_OPERATION_MODIFY;
    if (aspx_persist_diff(inventory->asp, packages[i].name, op, INVENTORY_INDEX, document,
                          inventory->collections) != 0) {
      return -1;
    }
    ++changes;
  }
  for (size_t i = 0; i < inventory->held_count; ++i) {
    if (find(packages, count, inventory->held[i].name) != NULL) continue;
    if (aspx_persist_diff(inventory->asp, inventory->held[i].name, ASPX_OPERATION_DELETE,
                          INVENTORY_INDEX, NULL, inventory->collections) != 0) {
      return -1;
    }
    ++changes;
  }
  memcpy(inventory->held, packages, count * sizeof(package_t));
  inventory->held_count = count;
  return changes;
}

aspx_sync_result_t inventory_sync(inventory_t* inventory) {
  return aspx_sync_module(inventory->asp, ASPX_MODE_DELTA);
}

static int checksum(const inventory_t* inventory, char out[41]) {
  static char documents[INVENTORY_MAX_PACKAGES][160];
  const void* datas[INVENTORY_MAX_PACKAGES];
  size_t sizes[INVENTORY_MAX_PACKAGES];
  for (size_t i = 0; i < inventory->held_count; ++i) {
    describe(&inventory->held[i], documents[i], sizeof(documents[i]));
    datas[i] = documents[i];
    sizes[i] = strlen(documents[i]);
  }
  return aspx_index_checksum(datas, sizes, inventory->held_count, out);
}

int inventory_check(inventory_t* inventory) {
  char sum[41];
  if (checksum(inventory, sum) != 0) return -1;
  const int mismatch = aspx_requires_full_sync(inventory->asp, INVENTORY_INDEX, sum);
  if (mismatch != 1) return mismatch;
  if (inventory->held_count == 0) {
    const char* indices[] = {INVENTORY_INDEX};
    return aspx_notify_data_clean(inventory->asp, indices, 1).success ? 1 : -1;
  }
  aspx_clear_in_memory_data(inventory->asp);
  char document[160];
  for (size_t i = 0; i < inventory->held_count; ++i) {
    describe(&inventory->held[i], document, sizeof(document));
    if (aspx_persist_diff_in_memory(inventory->asp, inventory->held[i].name, ASPX_OPERATION_CREATE,
                                    INVENTORY_INDEX, document, inventory->collections) != 0) {
      return -1;
    }
  }
  return aspx_sync_module(inventory->asp, ASPX_MODE_FULL).success ? 1 : -1;
}

aspx_sync_result_t inventory_sync_groups(inventory_t* inventory, uint64_t global_version) {
  const char* indices[] = {INVENTORY_INDEX};
  return aspx_sync_metadata_or_groups(inventory->asp, ASPX_MODE_GROUP_DELTA, indices, 1,
                                      global_version);
}
