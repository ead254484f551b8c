// FimModule: a small file-integrity module built on ASP, as a module author would
// write one. It scans a directory tree, records what changed since the last scan with
// persistDifference, ships the changes with DELTA syncs, and checks integrity,
// recovering with a FULL sync (or a clean, when it holds nothing) on a mismatch.
//
// It depends only on the protocol interface, so its unit tests use ASP's gmock mock.
#ifndef EXAMPLES_FIM_MODULE_FIM_MODULE_H_
#define EXAMPLES_FIM_MODULE_FIM_MODULE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "asp/core/agent_sync_protocol.h"

namespace fim {

struct ScanResult {
  int created = 0;
  int modified = 0;
  int deleted = 0;
};

class FimModule {
 public:
  FimModule(asp::AgentSyncProtocol& protocol, std::string root,
            std::string index = "states-fim-files");

  // Walks the tree and records every difference from the previous scan.
  absl::StatusOr<ScanResult> scan();

  // Ships the recorded differences (DELTA).
  asp::SyncResult sync();

  // Compares checksums with the manager; on a mismatch sends everything again (FULL),
  // or a clean when the module holds nothing. Returns whether a recovery ran.
  absl::StatusOr<bool> checkAndRecover();

  // The §5.1 checksum of what the module holds.
  std::string checksum() const;

  // path -> document (JSON) the module holds.
  const std::map<std::string, std::string>& documents() const { return documents_; }

 private:
  asp::AgentSyncProtocol& protocol_;
  const std::string root_;
  const std::string index_;
  std::map<std::string, std::string> documents_;
  uint64_t scans_ = 0;
};

}  // namespace fim

#endif  // EXAMPLES_FIM_MODULE_FIM_MODULE_H_
