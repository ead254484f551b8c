// IAgentSyncProtocol: the established C++ interface of the agent sync protocol, with the
// established names, signatures and default arguments (wazuh/wazuh v5.0.0-beta4). Modules
// depend on it, so their unit tests can mock it. AgentSyncProtocol
// (agent_sync_protocol.hpp) implements it on ASP; docs/porting.md lists every call with
// ASP's meaning and guarantees.
//
// No method throws. A call that cannot do its job logs why at LOG_ERROR, and the
// implementation's lastError() (an ASP extension) returns the reason.
#ifndef ASP_ESTABLISHED_IAGENT_SYNC_PROTOCOL_HPP_
#define ASP_ESTABLISHED_IAGENT_SYNC_PROTOCOL_HPP_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agent_sync_protocol_types.hpp"
#include "ipersistent_queue.hpp"

class IAgentSyncProtocol {
 public:
  // Records a change durably in the queue: on return it is committed and will reach the
  // manager, even across a crash of the agent. isDataContext: a context document
  // (vulnerability detection, e.g. the OS or a package), stored apart from the changes
  // and sent after the values of every session with Option::VDFIRST or VDSYNC until
  // clearAllDataContext(); never sent by itself.
  virtual void persistDifference(const std::string& id, Operation operation, const std::string& index,
                                 const std::string& data, uint64_t version, bool isDataContext = false) = 0;

  // Adds a document to the in-memory recovery set a FULL sync sends.
  virtual void persistDifferenceInMemory(const std::string& id, Operation operation, const std::string& index,
                                         const std::string& data, uint64_t version) = 0;

  // Mode::DELTA sends the queue's pending changes, Mode::FULL the recovery set.
  virtual SyncModuleResult synchronizeModule(Mode mode, Option option = Option::SYNC) = 0;

  // true only when the manager answers that the index's checksum differs; false when it
  // matches and on every error (lastError() tells them apart).
  virtual bool requiresFullSync(const std::string& index, const std::string& checksum) = 0;

  // Empties the in-memory recovery set.
  virtual void clearInMemoryData() = 0;

  // Metadata or groups session (METADATA_DELTA, METADATA_CHECK, GROUP_DELTA, GROUP_CHECK).
  virtual SyncModuleResult synchronizeMetadataOrGroups(Mode mode, const std::vector<std::string>& indices,
                                                       uint64_t globalVersion = 0) = 0;

  // Tells the manager to drop every document of `indices`; on success the queue drops
  // their pending changes. true on success.
  virtual bool notifyDataClean(const std::vector<std::string>& indices, Option option = Option::SYNC) = 0;

  // ASP sends context documents inside its own sessions: a DELTA (or FULL) with
  // Option::VDFIRST or VDSYNC sends every stored one after its values. There is no
  // session to send into from outside, so this stores `data` as context documents
  // (replacing those with the same index and id) for the next such session; `session` is
  // not used. true when every one is stored durably.
  virtual bool sendDataContextMessages(uint64_t session, const std::vector<PersistedData>& data) = 0;

  // What is pending, in the order it was first recorded, without beginning a session:
  // the changes (in flight ones too), and with onlyDataValues false the context documents
  // after them. PersistedData::seq numbers the items from 1. Empty on error (lastError()).
  virtual std::vector<PersistedData> fetchPendingItems(bool onlyDataValues = true) = 0;

  // Drops every context document (before storing a new set).
  virtual void clearAllDataContext() = 0;

  // Deletes the queue database and opens an empty one.
  virtual void deleteDatabase() = 0;

  // Wakes any session wait at once (the session fails with stopped = true; changes stay
  // queued) and makes later sessions fail the same way until reset().
  virtual void stop() = 0;
  virtual void reset() = 0;
  virtual bool shouldStop() const = 0;

  virtual ~IAgentSyncProtocol() = default;

  // Hands one answer from the manager (the "<module>_sync " header removed) to the
  // session: true for a valid answer, false for bytes that are not one.
  virtual bool parseResponseBuffer(const uint8_t* data, size_t length) = 0;
};

#endif  // ASP_ESTABLISHED_IAGENT_SYNC_PROTOCOL_HPP_
