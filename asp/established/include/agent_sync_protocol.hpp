// AgentSyncProtocol: the established C++ class of the agent sync protocol, implemented by
// ASP (asp::AgentSyncProtocol underneath; nothing of it shows here). See
// iagent_sync_protocol.hpp for each call and docs/porting.md for ASP's guarantees.
//
//   AgentSyncProtocol fim("fim", "/var/ossec/queue/fim/db/fim_sync.db", mqFuncs, logger,
//                         std::chrono::seconds(1), std::chrono::seconds(30), 3, 0);
//   fim.persistDifference(id, Operation::CREATE, "wazuh-states-fim-files", json, 1);
//   SyncModuleResult r = fim.synchronizeModule(Mode::DELTA);
//
// Thread-safe. Sessions run one at a time per instance.
#ifndef ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_HPP_
#define ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_HPP_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent_sync_protocol_c_interface_types.h"
#include "agent_sync_protocol_types.hpp"
#include "iagent_sync_protocol.hpp"

class AgentSyncProtocol : public IAgentSyncProtocol {
 public:
  // moduleName: 1..64 bytes of [A-Za-z0-9_-]. dbPath: the queue's SQLite file; nullopt:
  // no queue (in-memory recovery, metadata, groups and checks only). mqFuncs: the agent's
  // MQueue; the instance calls start("queue/sockets/queue", 1, 0) and
  // send_binary(queue, msg, len, moduleName, 's'); the module hands every answer to
  // parseResponseBuffer(). timeout 0: 30 s.
  // Throws, as the established constructor does: std::invalid_argument for a null logger
  // or a non-null `queue` (ASP keeps its own), std::runtime_error naming the reason when
  // the instance cannot be created (an invalid module name, a queue file that cannot be
  // opened). No other call throws.
  explicit AgentSyncProtocol(const std::string& moduleName, std::optional<std::string> dbPath, MQ_Functions mqFuncs,
                             LoggerFunc logger, std::chrono::seconds syncEndDelay, std::chrono::seconds timeout,
                             unsigned int retries, size_t maxEps, std::shared_ptr<IPersistentQueue> queue = nullptr);
  ~AgentSyncProtocol() override;

  AgentSyncProtocol(const AgentSyncProtocol&) = delete;
  AgentSyncProtocol& operator=(const AgentSyncProtocol&) = delete;

  void persistDifference(const std::string& id, Operation operation, const std::string& index, const std::string& data,
                         uint64_t version, bool isDataContext = false) override;
  void persistDifferenceInMemory(const std::string& id, Operation operation, const std::string& index,
                                 const std::string& data, uint64_t version) override;
  SyncModuleResult synchronizeModule(Mode mode, Option option = Option::SYNC) override;
  bool requiresFullSync(const std::string& index, const std::string& checksum) override;
  void clearInMemoryData() override;
  SyncModuleResult synchronizeMetadataOrGroups(Mode mode, const std::vector<std::string>& indices,
                                               uint64_t globalVersion) override;
  bool notifyDataClean(const std::vector<std::string>& indices, Option option = Option::SYNC) override;
  bool sendDataContextMessages(uint64_t session, const std::vector<PersistedData>& data) override;
  std::vector<PersistedData> fetchPendingItems(bool onlyDataValues = true) override;
  void clearAllDataContext() override;
  void deleteDatabase() override;
  void stop() override;
  void reset() override;
  bool shouldStop() const override;
  bool parseResponseBuffer(const uint8_t* data, size_t length) override;

  // ASP extension (not in the established interface): the reason the most recent call
  // from this thread on this instance failed, "" if it succeeded (or if the thread's most
  // recent call was on another instance). requiresFullSync() false is a match when this
  // is "", an error otherwise.
  std::string lastError() const;

  // ASP extension: who the agent is, sent in every Start (the established library asks
  // the agent's metadata provider). Default: this host's name and system, id "000", no
  // groups; a groups session without groups waits up to 30 s for them, then fails.
  // Returns false (lastError() says why) for a field that is not valid UTF-8.
  bool setAgentIdentity(const std::string& id, const std::string& name, const std::vector<std::string>& groups);

 private:
  friend struct AgentSyncProtocolAccess;  // the C interface's way to the instance's logger
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

#endif  // ASP_ESTABLISHED_AGENT_SYNC_PROTOCOL_HPP_
