// MockAgentSyncProtocol: a gmock mock of AgentSyncProtocol for module authors' unit
// tests: expect the calls a module should make without running any session.
#ifndef ASP_TESTING_MOCK_AGENT_SYNC_PROTOCOL_H_
#define ASP_TESTING_MOCK_AGENT_SYNC_PROTOCOL_H_

#include <string>
#include <vector>

#include "asp/core/agent_sync_protocol.h"
#include "gmock/gmock.h"

namespace asp::testing {

class MockAgentSyncProtocol : public AgentSyncProtocol {
 public:
  MOCK_METHOD(absl::Status, persistDifference,
              (const std::string& id, Operation operation, const std::string& index,
               const std::string& data, uint64_t version),
              (override));
  MOCK_METHOD(absl::Status, persistDifferenceInMemory,
              (const std::string& id, Operation operation, const std::string& index,
               const std::string& data, uint64_t version),
              (override));
  MOCK_METHOD(SyncResult, synchronizeModule, (Mode mode, SyncOption option), (override));
  MOCK_METHOD(absl::StatusOr<bool>, requiresFullSync,
              (const std::string& index, const std::string& checksum), (override));
  MOCK_METHOD(SyncResult, checkIntegrity, (const std::string& index, const std::string& checksum),
              (override));
  MOCK_METHOD(SyncResult, synchronizeMetadataOrGroups,
              (Mode mode, const std::vector<std::string>& indices, uint64_t global_version),
              (override));
  MOCK_METHOD(SyncResult, notifyDataClean,
              (const std::vector<std::string>& indices, SyncOption option), (override));
  MOCK_METHOD(absl::Status, parseResponseBuffer, (const uint8_t* data, size_t length), (override));
  MOCK_METHOD(void, clearInMemoryData, (), (override));
  MOCK_METHOD(absl::Status, flush, (), (override));
  MOCK_METHOD(ChangeRecorder&, queue, (), (override));
  MOCK_METHOD(absl::Status, deleteDatabase, (), (override));
  MOCK_METHOD(void, stop, (), (override));
  MOCK_METHOD(void, reset, (), (override));
  MOCK_METHOD(Stats, stats, (), (const, override));
};

}  // namespace asp::testing

#endif  // ASP_TESTING_MOCK_AGENT_SYNC_PROTOCOL_H_
