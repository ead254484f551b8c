// A configuration-assessment module in C++, written only against the established C++
// interface (agent_sync_protocol.hpp), as the Quick Start says. It holds the result of
// each check, records what changed with persistDifference(), syncs, checks the manager's
// copy and recovers it in memory with a FULL sync.
#ifndef EXAMPLES_ESTABLISHED_SCA_MODULE_H_
#define EXAMPLES_ESTABLISHED_SCA_MODULE_H_

#include <cstdint>
#include <map>
#include <string>

#include "agent_sync_protocol.hpp"

class ScaModule {
 public:
  static constexpr char kIndex[] = "states-sca-checks";

  // `protocol` must outlive the module.
  explicit ScaModule(IAgentSyncProtocol& protocol) : protocol_(protocol) {}

  // The results of one assessment, check id -> "passed" / "failed"; records what changed
  // (new, changed and vanished checks). Returns how many differences were recorded.
  int assess(const std::map<std::string, std::string>& results);

  SyncModuleResult sync() { return protocol_.synchronizeModule(Mode::DELTA); }
  // Whether the manager's copy differs from what the module holds.
  bool requiresFullSync();
  // Sends everything the module holds in a FULL sync.
  SyncModuleResult recover();
  SyncModuleResult syncMetadata(uint64_t version) {
    return protocol_.synchronizeMetadataOrGroups(Mode::METADATA_DELTA, {kIndex}, version);
  }
  SyncModuleResult syncGroups(uint64_t version) {
    return protocol_.synchronizeMetadataOrGroups(Mode::GROUP_DELTA, {kIndex}, version);
  }
  bool clean() { return protocol_.notifyDataClean({kIndex}); }

  static std::string document(const std::string& id, const std::string& result);

 private:
  IAgentSyncProtocol& protocol_;
  std::map<std::string, std::string> held_;
  uint64_t version_ = 0;
};

#endif  // EXAMPLES_ESTABLISHED_SCA_MODULE_H_
