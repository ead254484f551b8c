// The established C++ class on asp::AgentSyncProtocol: conversions, the established
// return conventions, and the reason of every failure logged and kept. No protocol logic.
#include "agent_sync_protocol.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/established/access.h"
#include "asp/established/last_call.h"
#include "asp/transport/mq_functions_transport.h"

namespace {

using asp::established::beginCall;
using asp::established::lastFailure;
using asp::established::recordFailure;

// The key the established library passes to the agent's start(): DEFAULTQUEUE, relative
// to the agent's installation directory, as the agent's own StartMQ expects.
constexpr char kQueueKey[] = "queue/sockets/queue";
// start()'s attempts, as the established library passes them.
constexpr short kStartAttempts = 0;

template <typename A, typename B>
constexpr bool same(A a, B b) {
  return static_cast<int>(a) == static_cast<int>(b);
}
// The established enums carry the core's values, so a conversion is a cast.
static_assert(same(Operation::CREATE, asp::Operation::kCreate) &&
                  same(Operation::MODIFY, asp::Operation::kModify) &&
                  same(Operation::DELETE_, asp::Operation::kDelete),
              "Operation and asp::Operation differ");
static_assert(same(Mode::FULL, asp::Mode::kFull) && same(Mode::DELTA, asp::Mode::kDelta) &&
                  same(Mode::CHECK, asp::Mode::kCheck) &&
                  same(Mode::METADATA_DELTA, asp::Mode::kMetadataDelta) &&
                  same(Mode::METADATA_CHECK, asp::Mode::kMetadataCheck) &&
                  same(Mode::GROUP_DELTA, asp::Mode::kGroupDelta) &&
                  same(Mode::GROUP_CHECK, asp::Mode::kGroupCheck),
              "Mode and asp::Mode differ");
static_assert(same(Option::SYNC, asp::SyncOption::kSync) &&
                  same(Option::VDFIRST, asp::SyncOption::kVdFirst) &&
                  same(Option::VDSYNC, asp::SyncOption::kVdSync) &&
                  same(OPTION_VD_CLEAN, asp::SyncOption::kVdClean),
              "Option and asp::SyncOption differ");
static_assert(same(LOG_DEBUG, asp::LogLevel::kDebug) && same(LOG_INFO, asp::LogLevel::kInfo) &&
                  same(LOG_WARNING, asp::LogLevel::kWarning) &&
                  same(LOG_ERROR, asp::LogLevel::kError),
              "modules_log_level_t and asp::LogLevel differ");

std::string reasonOf(const asp::SyncResult& r) {
  return r.ok() ? ""
                : absl::StrCat(asp::syncCodeName(r.code), r.message.empty() ? "" : ": ", r.message);
}

}  // namespace

struct AgentSyncProtocol::Impl {
  LoggerFunc logger;
  bool has_queue = false;
  std::unique_ptr<asp::MqFunctionsTransport> transport;
  std::unique_ptr<asp::AgentSyncProtocol> core;
  std::atomic<bool> stop_requested{false};
  std::mutex agent_mu;
  asp::AgentInfo agent = asp::defaultAgentInfo();

  // Logs `reason` at LOG_ERROR and keeps it for lastError().
  void fail(const AgentSyncProtocol* self, const std::string& reason) const {
    recordFailure(self, reason);
    try {
      logger(LOG_ERROR, reason);
    } catch (...) {
      // A logger that throws loses this line; the reason stays readable.
    }
  }

  // False, with the reason logged, for an instance created without a database path.
  bool requireQueue(const AgentSyncProtocol* self, const char* call) const {
    if (has_queue) return true;
    fail(self, absl::StrCat(
                   call, ": this instance has no queue (it was created without a database path)"));
    return false;
  }

  // A session's outcome in the established shape; a failure is kept for lastError() (the
  // core logs the session's outcome itself). A concurrent call returns success, as the
  // established one does: the running session sends what was pending, and what was
  // recorded since stays queued for the next call.
  SyncModuleResult result(const AgentSyncProtocol* self, const asp::SyncResult& r) const {
    SyncModuleResult out;
    out.success = r.ok() || r.code == asp::SyncCode::kAlreadyRunning;
    out.failureReason = out.success ? "" : reasonOf(r);
    out.stopped = r.code == asp::SyncCode::kStopped || stop_requested.load();
    out.managerNotReady =
        r.code == asp::SyncCode::kManagerNotReady || r.code == asp::SyncCode::kStartTimeout;
    out.consecutiveFailures = static_cast<unsigned int>(r.consecutive_failures);
    if (!out.success) recordFailure(self, out.failureReason);
    return out;
  }

  asp::AgentSyncProtocol::Options options(const std::string& module,
                                          const std::optional<std::string>& db_path,
                                          std::chrono::seconds sync_end_delay,
                                          std::chrono::seconds timeout, unsigned int retries,
                                          size_t max_eps) {
    asp::AgentSyncProtocol::Options o;
    o.module = module;
    o.database_path = db_path.value_or("");
    o.transport = transport.get();
    o.session.sync_end_delay = absl::Seconds(sync_end_delay.count());
    if (timeout.count() > 0) o.session.timeout = absl::Seconds(timeout.count());
    o.session.retries = static_cast<int>(retries);
    o.session.max_eps = static_cast<double>(max_eps);
    o.agent_info = [this] {
      std::lock_guard<std::mutex> lock(agent_mu);
      return agent;
    };
    const LoggerFunc log = logger;
    o.logger = [log](asp::LogLevel level, absl::string_view message) {
      log(static_cast<modules_log_level_t>(level), std::string(message));
    };
    return o;
  }
};

void AgentSyncProtocolAccess::fail(const AgentSyncProtocol& protocol, const std::string& reason) {
  protocol.m_impl->fail(&protocol, reason);
}

AgentSyncProtocol::AgentSyncProtocol(const std::string& moduleName,
                                     std::optional<std::string> dbPath, MQ_Functions mqFuncs,
                                     LoggerFunc logger, std::chrono::seconds syncEndDelay,
                                     std::chrono::seconds timeout, unsigned int retries,
                                     size_t maxEps, std::shared_ptr<IPersistentQueue> queue)
    : m_impl(std::make_unique<Impl>()) {
  if (!logger) throw std::invalid_argument("AgentSyncProtocol: the logger is null");
  m_impl->logger = std::move(logger);
  const std::string prefix = absl::StrCat("AgentSyncProtocol for module '", moduleName, "': ");
  if (queue != nullptr) {
    m_impl->fail(
        this,
        prefix + "ASP keeps its own queue (a SQLite file per module); pass no IPersistentQueue");
    throw std::invalid_argument(lastFailure(this));
  }
  auto transport = asp::MqFunctionsTransport::create(mqFuncs, kQueueKey, kStartAttempts);
  if (!transport.ok()) {
    m_impl->fail(this, prefix + std::string(transport.status().message()));
    throw std::invalid_argument(lastFailure(this));
  }
  m_impl->transport = *std::move(transport);
  m_impl->has_queue = dbPath.has_value();
  auto core = asp::AgentSyncProtocol::create(
      m_impl->options(moduleName, dbPath, syncEndDelay, timeout, retries, maxEps));
  if (!core.ok()) {
    m_impl->fail(this, prefix + std::string(core.status().message()));
    throw std::runtime_error(lastFailure(this));
  }
  m_impl->core = *std::move(core);
}

AgentSyncProtocol::~AgentSyncProtocol() {
  m_impl->core->stop();
  m_impl->core.reset();
  m_impl->transport.reset();
}

void AgentSyncProtocol::persistDifference(const std::string& id, Operation operation,
                                          const std::string& index, const std::string& data,
                                          uint64_t version, bool isDataContext) {
  beginCall(this);
  if (!m_impl->requireQueue(this, "persistDifference")) return;
  const asp::Operation op = static_cast<asp::Operation>(operation);
  absl::Status s =
      isDataContext ? m_impl->core->queue().recordContext(asp::Change{id, index, op, data, version})
                    : m_impl->core->persistDifference(id, op, index, data, version);
  if (!s.ok()) m_impl->fail(this, absl::StrCat("persistDifference: ", s.message()));
}

void AgentSyncProtocol::persistDifferenceInMemory(const std::string& id, Operation operation,
                                                  const std::string& index, const std::string& data,
                                                  uint64_t version) {
  beginCall(this);
  absl::Status s = m_impl->core->persistDifferenceInMemory(
      id, static_cast<asp::Operation>(operation), index, data, version);
  if (!s.ok()) m_impl->fail(this, absl::StrCat("persistDifferenceInMemory: ", s.message()));
}

SyncModuleResult AgentSyncProtocol::synchronizeModule(Mode mode, Option option) {
  beginCall(this);
  return m_impl->result(this,
                        m_impl->core->synchronizeModule(static_cast<asp::Mode>(mode),
                                                        static_cast<asp::SyncOption>(option)));
}

bool AgentSyncProtocol::requiresFullSync(const std::string& index, const std::string& checksum) {
  beginCall(this);
  const asp::SyncResult r = m_impl->core->checkIntegrity(index, checksum);
  if (r.code == asp::SyncCode::kChecksumMismatch) return true;
  if (r.code != asp::SyncCode::kOk)
    recordFailure(this, absl::StrCat("requiresFullSync: ", reasonOf(r)));
  return false;
}

void AgentSyncProtocol::clearInMemoryData() {
  beginCall(this);
  m_impl->core->clearInMemoryData();
}

SyncModuleResult AgentSyncProtocol::synchronizeMetadataOrGroups(
    Mode mode, const std::vector<std::string>& indices, uint64_t globalVersion) {
  beginCall(this);
  return m_impl->result(this, m_impl->core->synchronizeMetadataOrGroups(
                                  static_cast<asp::Mode>(mode), indices, globalVersion));
}

bool AgentSyncProtocol::notifyDataClean(const std::vector<std::string>& indices, Option option) {
  beginCall(this);
  return m_impl
      ->result(this, m_impl->core->notifyDataClean(indices, static_cast<asp::SyncOption>(option)))
      .success;
}

bool AgentSyncProtocol::sendDataContextMessages(uint64_t /*session*/,
                                                const std::vector<PersistedData>& data) {
  beginCall(this);
  if (!m_impl->requireQueue(this, "sendDataContextMessages")) return false;
  for (const PersistedData& item : data) {
    const asp::Change document{item.id, item.index, static_cast<asp::Operation>(item.operation),
                               item.data, item.version};
    if (absl::Status s = m_impl->core->queue().recordContext(document); !s.ok()) {
      m_impl->fail(this, absl::StrCat("sendDataContextMessages: ", s.message()));
      return false;
    }
  }
  return true;
}

std::vector<PersistedData> AgentSyncProtocol::fetchPendingItems(bool onlyDataValues) {
  beginCall(this);
  std::vector<PersistedData> items;
  if (!m_impl->requireQueue(this, "fetchPendingItems")) return items;
  asp::PendingQuery query;
  query.with_context = !onlyDataValues;
  for (bool done = false; !done;) {
    absl::StatusOr<asp::PendingPage> page = m_impl->core->queue().readPending(query);
    if (!page.ok()) {
      m_impl->fail(this, absl::StrCat("fetchPendingItems: ", page.status().message()));
      return {};
    }
    for (asp::PendingItem& item : page->items) {
      items.push_back(PersistedData{items.size() + 1, std::move(item.id), std::move(item.index),
                                    std::move(item.data), static_cast<Operation>(item.operation),
                                    item.version, item.is_context});
    }
    query.after = page->next_after;
    done = page->done;
  }
  return items;
}

void AgentSyncProtocol::clearAllDataContext() {
  beginCall(this);
  if (!m_impl->requireQueue(this, "clearAllDataContext")) return;
  absl::Status s = m_impl->core->queue().clearContexts();
  if (!s.ok()) m_impl->fail(this, absl::StrCat("clearAllDataContext: ", s.message()));
}

void AgentSyncProtocol::deleteDatabase() {
  beginCall(this);
  absl::Status s = m_impl->core->deleteDatabase();
  if (!s.ok()) m_impl->fail(this, absl::StrCat("deleteDatabase: ", s.message()));
}

void AgentSyncProtocol::stop() {
  beginCall(this);
  m_impl->stop_requested = true;
  m_impl->core->stop();
}

void AgentSyncProtocol::reset() {
  beginCall(this);
  m_impl->stop_requested = false;
  m_impl->core->reset();
}

bool AgentSyncProtocol::shouldStop() const {
  beginCall(this);
  return m_impl->stop_requested.load();
}

bool AgentSyncProtocol::parseResponseBuffer(const uint8_t* data, size_t length) {
  beginCall(this);
  absl::Status s = m_impl->core->parseResponseBuffer(data, length);
  if (!s.ok()) recordFailure(this, absl::StrCat("parseResponseBuffer: ", s.message()));
  return s.ok();
}

bool AgentSyncProtocol::setAgentIdentity(const std::string& id, const std::string& name,
                                         const std::vector<std::string>& groups) {
  beginCall(this);
  asp::AgentInfo agent = asp::defaultAgentInfo();
  agent.id = id;
  agent.name = name;
  agent.groups = groups;
  if (absl::Status s = asp::validateAgentInfo(agent); !s.ok()) {
    m_impl->fail(this, absl::StrCat("setAgentIdentity: ", s.message()));
    return false;
  }
  std::lock_guard<std::mutex> lock(m_impl->agent_mu);
  m_impl->agent = std::move(agent);
  return true;
}

std::string AgentSyncProtocol::lastError() const { return lastFailure(this); }
