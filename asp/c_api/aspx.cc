// The C skin over asp::AgentSyncProtocol: argument checks, conversions, and a catch-all
// at every entry point. No protocol logic lives here.
#include "asp/c_api/aspx.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"
#include "asp/c_api/c_api_support.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/transport/mq_functions_transport.h"

namespace {

using asp::c_api::errorResult;
using asp::c_api::fail;
using asp::c_api::failure;
using asp::c_api::guarded;
using asp::c_api::last_logger;
using asp::c_api::makeResult;
using asp::c_api::readIndices;
using asp::c_api::text;
using asp::c_api::toC;
using asp::c_api::toMode;
using asp::c_api::toOperation;
using asp::c_api::toOption;

constexpr char kDefaultQueuePath[] = "/var/ossec/queue/sockets/queue";

std::string queuePath(const aspx_options_t& o) {
  std::string queue = text(o.queue_path);
  if (queue.empty()) queue = text(std::getenv("ASP_QUEUE_PATH"));
  return queue.empty() ? kDefaultQueuePath : queue;
}

// A zero field keeps the core's default; ASPX_NO_BOUND is the core's 0 (no bound).
uint64_t bound(uint64_t c_value, uint64_t core_default) {
  if (c_value == 0) return core_default;
  return c_value == ASPX_NO_BOUND ? 0 : c_value;
}

void applySessionExtras(const aspx_options_t& o, asp::SessionOptions* session) {
  const asp::SessionOptions defaults;
  session->max_session_values = bound(o.max_session_values, defaults.max_session_values);
  session->max_session_bytes = bound(o.max_session_bytes, defaults.max_session_bytes);
  if (o.failure_warning_threshold != 0) {
    session->failure_warning_threshold = static_cast<int>(o.failure_warning_threshold);
  }
  if (o.prerequisite_wait != 0) session->prerequisite_wait = absl::Seconds(o.prerequisite_wait);
  session->mismatch_rechecks = static_cast<int>(o.mismatch_rechecks);
  if (o.mismatch_recheck_delay != 0) {
    session->mismatch_recheck_delay = absl::Seconds(o.mismatch_recheck_delay);
  }
}

asp::AgentSyncProtocol::Options coreOptions(const aspx_options_t& o, AspxHandle* raw) {
  asp::AgentSyncProtocol::Options options;
  options.module = o.module;
  options.database_path = text(o.db_path);
  options.session.sync_end_delay = absl::Seconds(o.sync_end_delay);
  options.session.timeout =
      o.timeout == 0 ? asp::SessionOptions().timeout : absl::Seconds(o.timeout);
  options.session.retries = static_cast<int>(o.retries);
  options.session.max_eps = static_cast<double>(o.max_eps);
  applySessionExtras(o, &options.session);
  options.durability =
      o.power_loss_durability ? asp::Durability::kPowerLoss : asp::Durability::kProcessCrash;
  options.agent_info = [raw]() -> absl::StatusOr<asp::AgentInfo> {
    std::lock_guard<std::mutex> lock(raw->agent_mu);
    if (!raw->agent_known) {
      return absl::UnavailableError(
          "the agent's identity is not known yet (aspx_set_agent_info_unavailable)");
    }
    return raw->agent;
  };
  if (o.logger != nullptr) {
    const aspx_logger_t logger = o.logger;
    options.logger = [logger](asp::LogLevel level, absl::string_view message) {
      logger(asp::c_api::toC(level), std::string(message).c_str());
    };
  }
  return options;
}

// Wires the core to its transport: the built-in socket (SocketSyncProtocol, which also
// feeds the manager's answers to the protocol) when `mq` is NULL, else the module's
// MQ_Functions (the module feeds the answers).
absl::Status wire(const aspx_options_t& o, AspxHandle* handle) {
  asp::AgentSyncProtocol::Options options = coreOptions(o, handle);
  if (o.mq == nullptr) {
    auto wired = asp::SocketSyncProtocol::create(std::move(options), queuePath(o));
    if (!wired.ok()) return wired.status();
    handle->socket = *std::move(wired);
    handle->protocol = &handle->socket->protocol();
    return absl::OkStatus();
  }
  auto transport = asp::MqFunctionsTransport::create(*o.mq, queuePath(o));
  if (!transport.ok()) return transport.status();
  handle->transport = *std::move(transport);
  options.transport = handle->transport.get();
  auto protocol = asp::AgentSyncProtocol::create(std::move(options));
  if (!protocol.ok()) return protocol.status();
  handle->owned_protocol = *std::move(protocol);
  handle->protocol = handle->owned_protocol.get();
  return absl::OkStatus();
}

AspxHandle* create(const aspx_options_t* o) {
  if (o == nullptr) return (fail(nullptr, "aspx_create: options are NULL"), nullptr);
  if (o->logger != nullptr) last_logger = o->logger;
  if (o->module == nullptr) return (fail(nullptr, "aspx_create: module is NULL"), nullptr);
  if (o->mq != nullptr && (o->mq->start == nullptr || o->mq->send_binary == nullptr)) {
    return (fail(nullptr, "aspx_create: MQ_Functions.start and send_binary must both be set"),
            nullptr);
  }
  auto handle = std::make_unique<AspxHandle>();
  handle->logger = o->logger;
  handle->agent = asp::defaultAgentInfo();
  if (absl::Status s = wire(*o, handle.get()); !s.ok()) {
    return (fail(handle.get(), absl::StrCat("aspx_create: ", s.message())), nullptr);
  }
  return handle.release();
}

#define REQUIRE_HANDLE(function, on_error)                     \
  if (handle == nullptr) {                                     \
    fail(nullptr, std::string(function) + ": handle is NULL"); \
    return on_error;                                           \
  }

aspx_sync_result_t nullHandleResult(const char* function) {
  return errorResult(nullptr, ASPX_SYNC_INVALID_ARGUMENT,
                     std::string(function) + ": handle is NULL");
}

// The C arguments of a change as one, or InvalidArgument naming `function` and the bad one.
absl::StatusOr<asp::Change> toChange(const char* function, const char* id,
                                     aspx_operation_t operation, const char* index,
                                     const void* data, size_t size, uint64_t version) {
  asp::Change change;
  if (!toOperation(operation, &change.operation)) {
    return absl::InvalidArgumentError(
        absl::StrCat(function, ": unknown operation ", static_cast<int>(operation)));
  }
  if (id == nullptr || index == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(function, ": ", id == nullptr ? "id" : "index", " is NULL"));
  }
  if (data == nullptr && size > 0) {
    return absl::InvalidArgumentError(absl::StrCat(function, ": data is NULL"));
  }
  change.id = id;
  change.index = index;
  if (data != nullptr) change.data.assign(static_cast<const char*>(data), size);
  change.version = version;
  return change;
}

int persist(AspxHandle* handle, const char* function, bool in_memory, const char* id,
            aspx_operation_t operation, const char* index, const void* data, size_t size,
            uint64_t version) {
  REQUIRE_HANDLE(function, -1);
  return guarded(handle, function, -1, [&] {
    absl::StatusOr<asp::Change> c = toChange(function, id, operation, index, data, size, version);
    if (!c.ok()) return fail(handle, std::string(c.status().message()));
    absl::Status s = in_memory ? handle->protocol->persistDifferenceInMemory(
                                     c->id, c->operation, c->index, c->data, c->version)
                               : handle->protocol->persistDifference(c->id, c->operation, c->index,
                                                                     c->data, c->version);
    return s.ok() ? 0 : fail(handle, absl::StrCat(function, ": ", s.message()));
  });
}

}  // namespace

extern "C" {

AspxHandle* aspx_create(const char* module, const char* db_path, const MQ_Functions* mq_funcs,
                        aspx_logger_t logger, unsigned int sync_end_delay, unsigned int timeout,
                        unsigned int retries, size_t max_eps) {
  aspx_options_t options;
  std::memset(&options, 0, sizeof(options));
  options.module = module;
  options.db_path = db_path;
  options.mq = mq_funcs;
  options.logger = logger;
  options.sync_end_delay = sync_end_delay;
  options.timeout = timeout;
  options.retries = retries;
  options.max_eps = max_eps;
  return aspx_create_with_options(&options);
}

AspxHandle* aspx_create_with_options(const aspx_options_t* options) {
  return guarded<AspxHandle*>(nullptr, "aspx_create", nullptr, [&] { return create(options); });
}

void aspx_destroy(AspxHandle* handle) {
  if (handle == nullptr) return;
  guarded(handle, "aspx_destroy", 0, [&] {
    // The socket's destructor stops answers before the protocol goes; with the module's
    // MQ_Functions the protocol goes before its transport.
    handle->protocol->stop();
    handle->socket.reset();
    handle->owned_protocol.reset();
    handle->transport.reset();
    delete handle;
    return 0;
  });
}

int aspx_persist_diff(AspxHandle* handle, const char* id, aspx_operation_t operation,
                      const char* index, const char* data, uint64_t version) {
  return persist(handle, "aspx_persist_diff", false, id, operation, index, data,
                 data != nullptr ? std::strlen(data) : 0, version);
}

int aspx_persist_diff_bytes(AspxHandle* handle, const char* id, aspx_operation_t operation,
                            const char* index, const void* data, size_t data_size,
                            uint64_t version) {
  return persist(handle, "aspx_persist_diff_bytes", false, id, operation, index, data, data_size,
                 version);
}

int aspx_persist_diff_in_memory(AspxHandle* handle, const char* id, aspx_operation_t operation,
                                const char* index, const char* data, uint64_t version) {
  return persist(handle, "aspx_persist_diff_in_memory", true, id, operation, index, data,
                 data != nullptr ? std::strlen(data) : 0, version);
}

int aspx_persist_diff_in_memory_bytes(AspxHandle* handle, const char* id,
                                      aspx_operation_t operation, const char* index,
                                      const void* data, size_t data_size, uint64_t version) {
  return persist(handle, "aspx_persist_diff_in_memory_bytes", true, id, operation, index, data,
                 data_size, version);
}

aspx_sync_result_t aspx_sync_module_with_option(AspxHandle* handle, aspx_mode_t mode,
                                                aspx_option_t option) {
  if (handle == nullptr) return nullHandleResult("aspx_sync_module");
  return guarded(handle, "aspx_sync_module", makeResult(ASPX_SYNC_PROTOCOL_ERROR, "internal error"),
                 [&] {
                   asp::Mode m;
                   asp::SyncOption o;
                   if (!toMode(mode, &m)) {
                     return errorResult(handle, ASPX_SYNC_INVALID_ARGUMENT,
                                        absl::StrCat("unknown mode ", static_cast<int>(mode)));
                   }
                   if (!toOption(option, &o)) {
                     return errorResult(handle, ASPX_SYNC_INVALID_ARGUMENT,
                                        absl::StrCat("unknown option ", static_cast<int>(option)));
                   }
                   return toC(handle, handle->protocol->synchronizeModule(m, o));
                 });
}

aspx_sync_result_t aspx_sync_module(AspxHandle* handle, aspx_mode_t mode) {
  return aspx_sync_module_with_option(handle, mode, ASPX_OPTION_SYNC);
}

int aspx_requires_full_sync(AspxHandle* handle, const char* index, const char* checksum) {
  REQUIRE_HANDLE("aspx_requires_full_sync", -1);
  return guarded(handle, "aspx_requires_full_sync", -1, [&] {
    if (index == nullptr || checksum == nullptr) {
      return fail(handle, "aspx_requires_full_sync: index and checksum must not be NULL");
    }
    asp::SyncResult r = handle->protocol->checkIntegrity(index, checksum);
    if (r.code == asp::SyncCode::kOk) return 0;
    if (r.code == asp::SyncCode::kChecksumMismatch) return 1;
    return fail(handle, absl::StrCat("aspx_requires_full_sync: ", asp::syncCodeName(r.code), ": ",
                                     r.message));
  });
}

aspx_sync_result_t aspx_sync_metadata_or_groups(AspxHandle* handle, aspx_mode_t mode,
                                                const char* const* indices, size_t count,
                                                uint64_t global_version) {
  if (handle == nullptr) return nullHandleResult("aspx_sync_metadata_or_groups");
  return guarded(
      handle, "aspx_sync_metadata_or_groups",
      makeResult(ASPX_SYNC_PROTOCOL_ERROR, "internal error"), [&] {
        asp::Mode m;
        std::vector<std::string> names;
        if (!toMode(mode, &m)) {
          return errorResult(handle, ASPX_SYNC_INVALID_ARGUMENT,
                             absl::StrCat("unknown mode ", static_cast<int>(mode)));
        }
        if (!readIndices(indices, count, &names)) {
          return errorResult(handle, ASPX_SYNC_INVALID_ARGUMENT,
                             "indices array or an index is NULL");
        }
        return toC(handle, handle->protocol->synchronizeMetadataOrGroups(m, names, global_version));
      });
}

aspx_sync_result_t aspx_notify_data_clean(AspxHandle* handle, const char* const* indices,
                                          size_t count) {
  return aspx_notify_data_clean_with_option(handle, indices, count, ASPX_OPTION_SYNC);
}

aspx_sync_result_t aspx_notify_data_clean_with_option(AspxHandle* handle,
                                                      const char* const* indices, size_t count,
                                                      aspx_option_t option) {
  if (handle == nullptr) return nullHandleResult("aspx_notify_data_clean");
  return guarded(handle, "aspx_notify_data_clean",
                 makeResult(ASPX_SYNC_PROTOCOL_ERROR, "internal error"), [&] {
                   std::vector<std::string> names;
                   if (!readIndices(indices, count, &names)) {
                     return errorResult(handle, ASPX_SYNC_INVALID_ARGUMENT,
                                        "indices array or an index is NULL");
                   }
                   asp::SyncOption o;
                   if (!toOption(option, &o)) {
                     return errorResult(handle, ASPX_SYNC_INVALID_ARGUMENT,
                                        absl::StrCat("unknown option ", static_cast<int>(option)));
                   }
                   return toC(handle, handle->protocol->notifyDataClean(names, o));
                 });
}

int aspx_parse_response_buffer(AspxHandle* handle, const uint8_t* data, size_t length) {
  REQUIRE_HANDLE("aspx_parse_response_buffer", -1);
  return guarded(handle, "aspx_parse_response_buffer", -1, [&] {
    absl::Status s = handle->protocol->parseResponseBuffer(data, length);
    return s.ok() ? 0 : fail(handle, absl::StrCat("aspx_parse_response_buffer: ", s.message()));
  });
}

int aspx_record_context(AspxHandle* handle, const char* id, aspx_operation_t operation,
                        const char* index, const void* data, size_t data_size, uint64_t version) {
  REQUIRE_HANDLE("aspx_record_context", -1);
  return guarded(handle, "aspx_record_context", -1, [&] {
    absl::StatusOr<asp::Change> document =
        toChange("aspx_record_context", id, operation, index, data, data_size, version);
    if (!document.ok()) return fail(handle, std::string(document.status().message()));
    absl::Status s = handle->protocol->queue().recordContext(*document);
    return s.ok() ? 0 : fail(handle, absl::StrCat("aspx_record_context: ", s.message()));
  });
}

int aspx_clear_contexts(AspxHandle* handle) {
  REQUIRE_HANDLE("aspx_clear_contexts", -1);
  return guarded(handle, "aspx_clear_contexts", -1, [&] {
    absl::Status s = handle->protocol->queue().clearContexts();
    return s.ok() ? 0 : fail(handle, absl::StrCat("aspx_clear_contexts: ", s.message()));
  });
}

int aspx_read_pending(AspxHandle* handle, uint64_t after, size_t max_items, bool with_context,
                      aspx_pending_item_fn fn, void* user_data, uint64_t* next_after, bool* done) {
  REQUIRE_HANDLE("aspx_read_pending", -1);
  return guarded(handle, "aspx_read_pending", -1, [&] {
    if (fn == nullptr || next_after == nullptr || done == nullptr) {
      return fail(handle, "aspx_read_pending: fn, next_after and done must not be NULL");
    }
    asp::PendingQuery query;
    query.after = after;
    query.max_items = max_items;
    query.with_context = with_context;
    absl::StatusOr<asp::PendingPage> page = handle->protocol->queue().readPending(query);
    if (!page.ok())
      return fail(handle, absl::StrCat("aspx_read_pending: ", page.status().message()));
    for (const asp::PendingItem& item : page->items) {
      const aspx_pending_item_t c{item.id.c_str(),
                                  item.index.c_str(),
                                  item.data.empty() ? nullptr : item.data.data(),
                                  item.data.size(),
                                  static_cast<aspx_operation_t>(item.operation),
                                  item.version,
                                  item.is_context,
                                  item.in_flight};
      fn(&c, user_data);
    }
    *next_after = page->next_after;
    *done = page->done;
    return 0;
  });
}

void aspx_clear_in_memory_data(AspxHandle* handle) {
  REQUIRE_HANDLE("aspx_clear_in_memory_data", );
  guarded(handle, "aspx_clear_in_memory_data", 0, [&] {
    handle->protocol->clearInMemoryData();
    return 0;
  });
}

int aspx_delete_database(AspxHandle* handle) {
  REQUIRE_HANDLE("aspx_delete_database", -1);
  return guarded(handle, "aspx_delete_database", -1, [&] {
    absl::Status s = handle->protocol->deleteDatabase();
    return s.ok() ? 0 : fail(handle, absl::StrCat("aspx_delete_database: ", s.message()));
  });
}

void aspx_stop(AspxHandle* handle) {
  REQUIRE_HANDLE("aspx_stop", );
  guarded(handle, "aspx_stop", 0, [&] {
    handle->protocol->stop();
    return 0;
  });
}

void aspx_reset(AspxHandle* handle) {
  REQUIRE_HANDLE("aspx_reset", );
  guarded(handle, "aspx_reset", 0, [&] {
    handle->protocol->reset();
    return 0;
  });
}

int aspx_set_agent_info(AspxHandle* handle, const aspx_agent_info_t* info) {
  REQUIRE_HANDLE("aspx_set_agent_info", -1);
  return guarded(handle, "aspx_set_agent_info", -1, [&] {
    if (info == nullptr) return fail(handle, "aspx_set_agent_info: info is NULL");
    if (info->groups == nullptr && info->groups_count > 0) {
      return fail(handle, "aspx_set_agent_info: groups is NULL but groups_count is not 0");
    }
    asp::AgentInfo agent;
    agent.id = text(info->id);
    agent.name = text(info->name);
    agent.version = text(info->version);
    agent.hostname = text(info->hostname);
    agent.architecture = text(info->architecture);
    agent.os_name = text(info->os_name);
    agent.os_platform = text(info->os_platform);
    agent.os_type = text(info->os_type);
    agent.os_version = text(info->os_version);
    for (size_t i = 0; i < info->groups_count; ++i) agent.groups.push_back(text(info->groups[i]));
    agent.cluster_name = text(info->cluster_name);
    agent.cluster_node = text(info->cluster_node);
    std::lock_guard<std::mutex> lock(handle->agent_mu);
    handle->agent = std::move(agent);
    handle->agent_known = true;
    return 0;
  });
}

int aspx_set_agent_info_unavailable(AspxHandle* handle) {
  REQUIRE_HANDLE("aspx_set_agent_info_unavailable", -1);
  return guarded(handle, "aspx_set_agent_info_unavailable", -1, [&] {
    std::lock_guard<std::mutex> lock(handle->agent_mu);
    handle->agent_known = false;
    return 0;
  });
}

int aspx_get_stats(AspxHandle* handle, aspx_stats_t* out) {
  REQUIRE_HANDLE("aspx_get_stats", -1);
  return guarded(handle, "aspx_get_stats", -1, [&] {
    if (out == nullptr) return fail(handle, "aspx_get_stats: out is NULL");
    const asp::Stats s = handle->protocol->stats();
    *out = aspx_stats_t{s.sessions_ok,     s.sessions_failed,   s.values_sent,
                        s.frames_sent,     s.bytes_sent,        s.retransmitted,
                        s.answers_ignored, s.answers_malformed, {}};
    std::snprintf(out->last_failure, sizeof(out->last_failure), "%s", s.last_failure.c_str());
    return 0;
  });
}

const char* aspx_last_error(void) { return asp::c_api::lastError().c_str(); }

const char* aspx_sync_code_name(aspx_sync_code_t code) { return asp::c_api::codeName(code); }

int aspx_document_checksum(const void* data, size_t size, char out[41]) {
  return guarded(nullptr, "aspx_document_checksum", -1, [&] {
    if (out == nullptr || (data == nullptr && size > 0)) {
      return fail(nullptr, "aspx_document_checksum: NULL argument");
    }
    const std::string hex = asp::documentChecksum(
        absl::string_view(static_cast<const char*>(data), data != nullptr ? size : 0));
    std::memcpy(out, hex.c_str(), 41);
    return 0;
  });
}

int aspx_index_checksum(const void* const* datas, const size_t* sizes, size_t count, char out[41]) {
  return guarded(nullptr, "aspx_index_checksum", -1, [&] {
    if (out == nullptr || (count > 0 && (datas == nullptr || sizes == nullptr))) {
      return fail(nullptr, "aspx_index_checksum: NULL argument");
    }
    asp::IndexChecksum checksum;
    for (size_t i = 0; i < count; ++i) {
      if (datas[i] == nullptr && sizes[i] > 0)
        return fail(nullptr, "aspx_index_checksum: NULL document");
      checksum.addDocument(absl::string_view(static_cast<const char*>(datas[i]),
                                             datas[i] != nullptr ? sizes[i] : 0));
    }
    const std::string hex = checksum.finish();
    std::memcpy(out, hex.c_str(), 41);
    return 0;
  });
}

}  // extern "C"
