// A file-integrity-like backlog for //bench:relay_bench: the documents a FIM module
// records, JSON with a path, size, mode, owner, mtime and a SHA-1 of the content:
//
//   {"path":"/var/lib/bench/dir-042/file-0001234.conf","size":40961,"mode":"0644",
//    "uid":0,"gid":0,"mtime":1700001234,"sha1":"<40 hex digits>"}
//
// id = the path, index "states-fim-files", a create, version 1. The SHA-1 is of the path,
// so the 40 hex digits are as incompressible as real digests (half their bytes).
#ifndef BENCH_FIM_BACKLOG_H_
#define BENCH_FIM_BACKLOG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "asp/storage/change.h"

namespace asp::bench {

inline constexpr char kFimIndex[] = "states-fim-files";

// The n-th change of the stream.
Change fimChange(uint64_t n);

// Records changes [first, first + count) into the queue file at `path` (created when
// missing) with recordBatch(), then closes it. The seconds it took.
absl::StatusOr<double> fillFimQueue(const std::string& path, uint64_t first, uint64_t count);

}  // namespace asp::bench

#endif  // BENCH_FIM_BACKLOG_H_
