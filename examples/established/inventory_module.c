#include "established/inventory_module.h"

#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inventory_module {
  AgentSyncProtocolHandle* asp;
  package_t held[INVENTORY_MAX_PACKAGES];
  size_t held_count;
  uint64_t version;
  _Atomic int accepted; /* counted on the agent's receiver thread */
  _Atomic int refused;
};

static void document_of(const package_t* p, char* out, size_t size) {
  snprintf(out, size, "{\"name\":\"%s\",\"version\":\"%s\"}", p->name, p->version);
}

/* Lowercase hex SHA-1 of `size` bytes into out[41]. */
static void sha1_hex(const void* data, size_t size, char out[41]) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data, size, digest, &length, EVP_sha1(), NULL);
  for (unsigned int i = 0; i < length && i < 20; ++i) sprintf(out + 2 * i, "%02x", digest[i]);
  out[40] = '\0';
}

static int compare_checksums(const void* a, const void* b) {
  return strcmp((const char*)a, (const char*)b);
}

/* The index checksum the manager computes: SHA-1 of the documents' sorted SHA-1s. */
static void index_checksum(const inventory_module_t* m, char out[41]) {
  char sums[INVENTORY_MAX_PACKAGES][41];
  char all[INVENTORY_MAX_PACKAGES * 40 + 1] = "";
  for (size_t i = 0; i < m->held_count; ++i) {
    char document[160];
    document_of(&m->held[i], document, sizeof(document));
    sha1_hex(document, strlen(document), sums[i]);
  }
  qsort(sums, m->held_count, sizeof(sums[0]), compare_checksums);
  for (size_t i = 0; i < m->held_count; ++i) strcat(all, sums[i]);
  sha1_hex(all, strlen(all), out);
}

inventory_module_t* inventory_module_open(const char* db_path, const MQ_Functions* mq,
                                          asp_logger_t logger) {
  AgentSyncProtocolHandle* asp = asp_create("inventory", db_path, mq, logger, 0, 5, 3, 0);
  if (asp == NULL) return NULL;
  inventory_module_t* m = calloc(1, sizeof(*m));
  m->asp = asp;
  return m;
}

void inventory_module_close(inventory_module_t* m) {
  if (m == NULL) return;
  asp_destroy(m->asp);
  free(m);
}

AgentSyncProtocolHandle* inventory_module_protocol(inventory_module_t* m) { return m->asp; }

void inventory_module_on_answer(void* module, const uint8_t* data, size_t length) {
  inventory_module_t* m = module;
  if (asp_parse_response_buffer(m->asp, data, length)) {
    ++m->accepted;
  } else {
    ++m->refused;
  }
}

int inventory_module_answers(inventory_module_t* m, bool accepted) {
  return accepted ? m->accepted : m->refused;
}

static const package_t* find(const package_t* packages, size_t count, const char* name) {
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(packages[i].name, name) == 0) return &packages[i];
  }
  return NULL;
}

static void record(inventory_module_t* m, const package_t* p, Operation_t operation) {
  char document[160];
  document_of(p, document, sizeof(document));
  asp_persist_diff(m->asp, p->name, operation, INVENTORY_INDEX, document, ++m->version);
}

int inventory_module_collect(inventory_module_t* m, const package_t* packages, size_t count) {
  int recorded = 0;
  for (size_t i = 0; i < m->held_count; ++i) {
    if (find(packages, count, m->held[i].name) == NULL) {
      record(m, &m->held[i], OPERATION_DELETE);
      ++recorded;
    }
  }
  for (size_t i = 0; i < count && i < INVENTORY_MAX_PACKAGES; ++i) {
    const package_t* before = find(m->held, m->held_count, packages[i].name);
    if (before == NULL || strcmp(before->version, packages[i].version) != 0) {
      record(m, &packages[i], before == NULL ? OPERATION_CREATE : OPERATION_MODIFY);
      ++recorded;
    }
  }
  m->held_count = count < INVENTORY_MAX_PACKAGES ? count : INVENTORY_MAX_PACKAGES;
  memcpy(m->held, packages, m->held_count * sizeof(package_t));
  return recorded;
}

SyncModuleResult_t inventory_module_sync(inventory_module_t* m) {
  return asp_sync_module(m->asp, MODE_DELTA);
}

bool inventory_module_requires_full_sync(inventory_module_t* m) {
  char checksum[41];
  index_checksum(m, checksum);
  return asp_requires_full_sync(m->asp, INVENTORY_INDEX, checksum);
}

SyncModuleResult_t inventory_module_recover(inventory_module_t* m) {
  asp_clear_in_memory_data(m->asp);
  for (size_t i = 0; i < m->held_count; ++i) {
    char document[160];
    document_of(&m->held[i], document, sizeof(document));
    asp_persist_diff_in_memory(m->asp, m->held[i].name, OPERATION_CREATE, INVENTORY_INDEX, document,
                               m->version);
  }
  SyncModuleResult_t r = asp_sync_module(m->asp, MODE_FULL);
  asp_clear_in_memory_data(m->asp);
  return r;
}

SyncModuleResult_t inventory_module_sync_metadata(inventory_module_t* m, uint64_t global_version) {
  const char* indices[] = {INVENTORY_INDEX};
  return asp_sync_metadata_or_groups(m->asp, MODE_METADATA_DELTA, indices, 1, global_version);
}

SyncModuleResult_t inventory_module_sync_groups(inventory_module_t* m, uint64_t global_version) {
  const char* indices[] = {INVENTORY_INDEX};
  return asp_sync_metadata_or_groups(m->asp, MODE_GROUP_DELTA, indices, 1, global_version);
}

bool inventory_module_clean(inventory_module_t* m) {
  const char* indices[] = {INVENTORY_INDEX};
  return asp_notify_data_clean(m->asp, indices, 1);
}
