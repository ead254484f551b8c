// JSON-lines conversion for aspctl, with Protobuf's JSON utilities (aspctl.proto).
#ifndef ASP_TOOLS_JSONL_H_
#define ASP_TOOLS_JSONL_H_

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "asp/storage/change.h"
#include "asp/storage/sqlite_change_queue.h"

namespace asp::tools {

// Reads one ChangeLine per non-empty line. InvalidArgument naming the line number for
// malformed JSON, unknown fields, an unknown operation, or both data and dataBase64.
absl::StatusOr<std::vector<Change>> readChangeLines(std::istream& in);

// One DumpLine as compact JSON.
absl::StatusOr<std::string> dumpLine(const SqliteChangeQueue::StoredChange& change);

}  // namespace asp::tools

#endif  // ASP_TOOLS_JSONL_H_
