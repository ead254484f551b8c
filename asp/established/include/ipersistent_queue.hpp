// The value types of the established C++ interface (Operation, Mode, Option,
// PersistedData) and its IPersistentQueue, with the established names and values.
// See docs/porting.md.
#ifndef ASP_ESTABLISHED_IPERSISTENT_QUEUE_HPP_
#define ASP_ESTABLISHED_IPERSISTENT_QUEUE_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent_sync_protocol_c_interface_types.h"

enum class Operation : int {
  CREATE = OPERATION_CREATE,
  MODIFY = OPERATION_MODIFY,
  DELETE_ = OPERATION_DELETE,
  NO_OP = OPERATION_NO_OP  // refused by persistDifference: a change is one of the three above
};

enum class Mode : int {
  FULL = MODE_FULL,
  DELTA = MODE_DELTA,
  CHECK = MODE_CHECK,
  METADATA_DELTA = MODE_METADATA_DELTA,
  METADATA_CHECK = MODE_METADATA_CHECK,
  GROUP_DELTA = MODE_GROUP_DELTA,
  GROUP_CHECK = MODE_GROUP_CHECK
};

enum class Option : int { SYNC = OPTION_SYNC, VDFIRST = OPTION_VD_FIRST, VDSYNC = OPTION_VD_SYNC };

// One recorded change, as fetchPendingItems() returns it.
struct PersistedData {
  uint64_t seq{};  // its position in the queue (scoped per module)
  std::string id;
  std::string index;
  std::string data;
  Operation operation{Operation::NO_OP};
  uint64_t version{};
  bool is_data_context = false;  // a context document (vulnerability detection), not a value
};

// The established queue interface. ASP keeps its own queue (a SQLite file per module,
// docs/storage.md); AgentSyncProtocol's constructor refuses a queue passed to it, so this
// interface exists for source compatibility only.
class IPersistentQueue {
 public:
  virtual ~IPersistentQueue() = default;
  virtual void submit(const std::string& id, const std::string& index, const std::string& data,
                      Operation operation, uint64_t version, bool isDataContext = false) = 0;
  virtual std::vector<PersistedData> fetchAndMarkForSync() = 0;
  virtual std::vector<PersistedData> fetchPendingItems(bool onlyDataValues = true) = 0;
  virtual void clearSyncedItems() = 0;
  virtual void resetSyncingItems() = 0;
  virtual void clearItemsByIndex(const std::string& index) = 0;
  virtual void clearAllDataContext() = 0;
  virtual void deleteDatabase() = 0;
};

#endif  // ASP_ESTABLISHED_IPERSISTENT_QUEUE_HPP_
