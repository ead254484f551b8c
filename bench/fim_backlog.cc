#include "bench/fim_backlog.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/str_format.h"
#include "asp/base/checksum.h"
#include "asp/storage/sqlite_change_queue.h"

namespace asp::bench {

Change fimChange(uint64_t n) {
  Change change;
  change.id = absl::StrFormat("/var/lib/bench/dir-%03d/file-%07d.conf", n % 997, n);
  change.index = kFimIndex;
  change.operation = Operation::kCreate;
  change.data = absl::StrFormat(
      R"({"path":"%s","size":%d,"mode":"0644","uid":0,"gid":0,"mtime":%d,"sha1":"%s"})", change.id,
      (n * 7919) % 1048576, 1700000000 + n, sha1Hex(change.id));
  change.version = 1;
  return change;
}

absl::StatusOr<double> fillFimQueue(const std::string& path, uint64_t first, uint64_t count) {
  const auto start = std::chrono::steady_clock::now();
  SqliteChangeQueue::Options options;
  options.path = path;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue =
      SqliteChangeQueue::open(std::move(options));
  if (!queue.ok()) return queue.status();
  std::vector<Change> batch;
  for (uint64_t next = first; next < first + count;) {
    batch.clear();
    for (; next < first + count && batch.size() < 10000; ++next) batch.push_back(fimChange(next));
    if (absl::Status s = (*queue)->recordBatch(batch); !s.ok()) return s;
  }
  queue->reset();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace asp::bench
