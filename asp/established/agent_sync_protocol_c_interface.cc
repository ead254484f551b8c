// The established C interface on the established C++ class (agent_sync_protocol.hpp):
// NULL checks, conversions and a catch-all at every entry point. No protocol logic.
// AgentSyncProtocolHandle is the class itself, so a handle is the instance.
#include "agent_sync_protocol_c_interface.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent_sync_protocol.hpp"
#include "asp/established/access.h"
#include "asp/established/last_call.h"

namespace {

using asp::established::beginCall;
using asp::established::lastFailure;
using asp::established::recordFailure;

SyncModuleResult_t toC(const SyncModuleResult& r) {
  SyncModuleResult_t out{};
  out.success = r.success;
  std::snprintf(out.failure_reason, sizeof(out.failure_reason), "%s", r.failureReason.c_str());
  out.stopped = r.stopped;
  out.manager_not_ready = r.managerNotReady;
  out.consecutive_failures = r.consecutiveFailures;
  return out;
}

SyncModuleResult failed(const std::string& reason) {
  SyncModuleResult r;
  r.failureReason = reason;
  return r;
}

// Runs `body` on `handle`; a NULL handle or an escaping exception is a failure named
// after `function`, returned as `on_error`.
template <typename Result, typename Body>
Result call(const AgentSyncProtocolHandle* handle, const char* function, Result on_error,
            Body body) {
  if (handle == nullptr) {
    recordFailure(nullptr, absl::StrCat(function, ": handle is NULL"));
    return on_error;
  }
  try {
    return body();
  } catch (const std::exception& e) {
    AgentSyncProtocolAccess::fail(*handle, absl::StrCat(function, ": internal error: ", e.what()));
  } catch (...) {
    AgentSyncProtocolAccess::fail(*handle, absl::StrCat(function, ": internal error"));
  }
  return on_error;
}

// False, with the reason logged, when a required string is NULL.
bool present(AgentSyncProtocolHandle* handle, const char* function, const char* name,
             const char* value) {
  if (value != nullptr) return true;
  AgentSyncProtocolAccess::fail(*handle, absl::StrCat(function, ": ", name, " is NULL"));
  return false;
}

// The `count` strings of `names` (called `what` in the reason when one is NULL).
std::optional<std::vector<std::string>> readStrings(AgentSyncProtocolHandle* handle,
                                                    const char* function, const char* what,
                                                    const char** names, size_t count) {
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    if (names == nullptr || names[i] == nullptr) {
      AgentSyncProtocolAccess::fail(*handle,
                                    absl::StrCat(function, ": ", what, "[", i, "] is NULL"));
      return std::nullopt;
    }
    out.emplace_back(names[i]);
  }
  return out;
}

}  // namespace

extern "C" {

AgentSyncProtocolHandle* asp_create(const char* module, const char* db_path,
                                    const MQ_Functions* mq_funcs, asp_logger_t logger,
                                    unsigned int syncEndDelay, unsigned int timeout,
                                    unsigned int retries, size_t maxEps) {
  beginCall(nullptr);
  if (module == nullptr || mq_funcs == nullptr || logger == nullptr) {
    const std::string reason = absl::StrCat("asp_create: ",
                                            module == nullptr     ? "module"
                                            : mq_funcs == nullptr ? "mq_funcs"
                                                                  : "logger",
                                            " is NULL");
    recordFailure(nullptr, reason);
    if (logger != nullptr) logger(LOG_ERROR, reason.c_str());
    return nullptr;
  }
  try {
    LoggerFunc log = [logger](modules_log_level_t level, const std::string& message) {
      logger(level, message.c_str());
    };
    std::optional<std::string> path =
        db_path != nullptr ? std::optional<std::string>(db_path) : std::nullopt;
    return new AgentSyncProtocol(module, std::move(path), *mq_funcs, std::move(log),
                                 std::chrono::seconds(syncEndDelay), std::chrono::seconds(timeout),
                                 retries, maxEps);
  } catch (const std::exception& e) {
    recordFailure(nullptr, absl::StrCat("asp_create: ", e.what()));  // the constructor logged it
  } catch (...) {
    recordFailure(nullptr, "asp_create: internal error");
    logger(LOG_ERROR, "asp_create: internal error");
  }
  return nullptr;
}

void asp_destroy(AgentSyncProtocolHandle* handle) {
  beginCall(nullptr);
  if (handle == nullptr) return;
  try {
    delete handle;
  } catch (...) {
    recordFailure(nullptr, "asp_destroy: internal error");
  }
}

void asp_persist_diff(AgentSyncProtocolHandle* handle, const char* id, Operation_t operation,
                      const char* index, const char* data, uint64_t version) {
  call(handle, "asp_persist_diff", 0, [&] {
    beginCall(handle);
    if (present(handle, "asp_persist_diff", "id", id) &&
        present(handle, "asp_persist_diff", "index", index) &&
        present(handle, "asp_persist_diff", "data", data)) {
      handle->persistDifference(id, static_cast<Operation>(operation), index, data, version);
    }
    return 0;
  });
}

void asp_persist_diff_in_memory(AgentSyncProtocolHandle* handle, const char* id,
                                Operation_t operation, const char* index, const char* data,
                                uint64_t version) {
  call(handle, "asp_persist_diff_in_memory", 0, [&] {
    beginCall(handle);
    const char* f = "asp_persist_diff_in_memory";
    if (present(handle, f, "id", id) && present(handle, f, "index", index) &&
        present(handle, f, "data", data)) {
      handle->persistDifferenceInMemory(id, static_cast<Operation>(operation), index, data,
                                        version);
    }
    return 0;
  });
}

SyncModuleResult_t asp_sync_module(AgentSyncProtocolHandle* handle, Mode_t mode) {
  return toC(call(handle, "asp_sync_module", failed("asp_sync_module: handle is NULL"),
                  [&] { return handle->synchronizeModule(static_cast<Mode>(mode)); }));
}

bool asp_requires_full_sync(AgentSyncProtocolHandle* handle, const char* index,
                            const char* checksum) {
  return call(handle, "asp_requires_full_sync", false, [&] {
    beginCall(handle);
    if (!present(handle, "asp_requires_full_sync", "index", index) ||
        !present(handle, "asp_requires_full_sync", "checksum", checksum)) {
      return false;
    }
    return handle->requiresFullSync(index, checksum);
  });
}

bool asp_parse_response_buffer(AgentSyncProtocolHandle* handle, const uint8_t* data,
                               size_t length) {
  return call(handle, "asp_parse_response_buffer", false, [&] {
    if (data == nullptr && length > 0) {
      recordFailure(handle, "asp_parse_response_buffer: data is NULL");
      return false;
    }
    return handle->parseResponseBuffer(data, length);
  });
}

void asp_clear_in_memory_data(AgentSyncProtocolHandle* handle) {
  call(handle, "asp_clear_in_memory_data", 0, [&] {
    handle->clearInMemoryData();
    return 0;
  });
}

SyncModuleResult_t asp_sync_metadata_or_groups(AgentSyncProtocolHandle* handle, Mode_t mode,
                                               const char** indices, size_t indices_count,
                                               uint64_t global_version) {
  const char* f = "asp_sync_metadata_or_groups";
  return toC(call(handle, f, failed(absl::StrCat(f, ": handle is NULL")), [&] {
    beginCall(handle);
    auto names = readStrings(handle, f, "indices", indices, indices_count);
    if (!names) return failed(lastFailure(handle));
    return handle->synchronizeMetadataOrGroups(static_cast<Mode>(mode), *names, global_version);
  }));
}

bool asp_notify_data_clean(AgentSyncProtocolHandle* handle, const char** indices,
                           size_t indices_count) {
  return call(handle, "asp_notify_data_clean", false, [&] {
    beginCall(handle);
    auto names = readStrings(handle, "asp_notify_data_clean", "indices", indices, indices_count);
    return names.has_value() && handle->notifyDataClean(*names);
  });
}

void asp_delete_database(AgentSyncProtocolHandle* handle) {
  call(handle, "asp_delete_database", 0, [&] {
    handle->deleteDatabase();
    return 0;
  });
}

void asp_stop(AgentSyncProtocolHandle* handle) {
  call(handle, "asp_stop", 0, [&] {
    handle->stop();
    return 0;
  });
}

void asp_reset(AgentSyncProtocolHandle* handle) {
  call(handle, "asp_reset", 0, [&] {
    handle->reset();
    return 0;
  });
}

bool asp_should_stop(const AgentSyncProtocolHandle* handle) {
  return call(handle, "asp_should_stop", false, [&] { return handle->shouldStop(); });
}

bool asp_set_agent_identity(AgentSyncProtocolHandle* handle, const char* id, const char* name,
                            const char** groups, size_t groups_count) {
  const char* f = "asp_set_agent_identity";
  return call(handle, f, false, [&] {
    beginCall(handle);
    if (!present(handle, f, "id", id) || !present(handle, f, "name", name)) return false;
    auto names = readStrings(handle, f, "groups", groups, groups_count);
    return names.has_value() && handle->setAgentIdentity(id, name, *names);
  });
}

const char* asp_last_error(const AgentSyncProtocolHandle* handle) {
  return lastFailure(handle).c_str();
}

}  // extern "C"
