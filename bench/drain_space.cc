#include "bench/drain_space.h"

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asp/storage/sqlite_change_queue.h"
#include "bench/comparison_reporter.h"
#include "bench/storage_bench_support.h"

namespace asp::bench {
namespace {

constexpr uint64_t kSessionChanges = 100000;
constexpr uint64_t kFillBatch = 10000;
constexpr int64_t kAllowanceBytes = int64_t{4} << 20;

int64_t bytesOnDisk(const std::string& path) {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    struct stat st;
    if (stat((path + suffix).c_str(), &st) == 0) total += static_cast<int64_t>(st.st_blocks) * 512;
  }
  return total;
}

absl::Status fill(SqliteChangeQueue& queue, absl::string_view prefix, uint64_t changes) {
  std::vector<Change> batch;
  uint64_t next = 0;
  while (next < changes) {
    batch.resize(std::min(kFillBatch, changes - next));
    fillBatch(prefix, &next, &batch);
    if (absl::Status s = queue.recordBatch(batch); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// One bounded session, read whole and committed; `during` runs while it is in flight.
// Returns how many changes it carried.
absl::StatusOr<uint64_t> oneSession(SqliteChangeQueue& queue,
                                    const std::function<absl::Status()>& during,
                                    DrainSpaceResult* result) {
  SessionScope scope;
  scope.max_changes = kSessionChanges;
  absl::StatusOr<SessionInfo> info = queue.beginSession(scope);
  if (!info.ok()) return info.status();
  for (uint64_t seq = 0; seq < info->size;) {
    absl::StatusOr<SessionPage> page = queue.readInFlight(seq, info->size - 1, 256 * 1024);
    if (!page.ok()) return page.status();
    seq = page->changes.back().seq + 1;
  }
  if (absl::Status s = during(); !s.ok()) return s;
  const absl::Time start = absl::Now();
  if (absl::Status s = queue.commitSession(); !s.ok()) return s;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  result->commit_seconds_other += seconds;
  result->commit_seconds_max = std::max(result->commit_seconds_max, seconds);
  return info->size;
}

}  // namespace

absl::StatusOr<DrainSpaceResult> measureDrainSpace(const std::string& path, uint64_t changes) {
  DrainSpaceResult result;
  result.changes = changes;
  result.queued_changes = changes / 100;
  SqliteChangeQueue::Options options;
  options.path = path;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue = SqliteChangeQueue::open(options);
  if (!queue.ok()) return queue.status();
  if (absl::Status s = fill(**queue, "doc-", changes); !s.ok()) return s;
  result.bytes_before = bytesOnDisk(path);
  const absl::Time start = absl::Now();
  for (uint64_t left = changes; left > 0; ++result.sessions) {
    const bool last = left <= kSessionChanges;
    absl::StatusOr<uint64_t> sent = oneSession(
        **queue,
        [&] { return last ? fill(**queue, "late-", result.queued_changes) : absl::OkStatus(); },
        &result);
    if (!sent.ok()) return sent.status();
    left -= *sent;
  }
  result.drain_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  result.commit_seconds_other -= result.commit_seconds_max;
  // The rows are removed and the space given back by the queue's reclaimer, after the
  // commits: the file is measured once it is done.
  const absl::Time reclaiming = absl::Now();
  (*queue)->awaitReclaim();
  result.reclaim_seconds = absl::ToDoubleSeconds(absl::Now() - reclaiming);
  result.bytes_after = bytesOnDisk(path);
  Change sample;
  fillChange("late-", 0, &sample);
  result.queued_bytes = static_cast<int64_t>(
      result.queued_changes * (sample.id.size() + sample.index.size() + sample.data.size()));
  queue->reset();
  removeDbFiles(path);
  return result;
}

void printDrainSpace(std::ostream& out, const DrainSpaceResult& r) {
  const int64_t limit = 2 * r.queued_bytes + kAllowanceBytes;
  out << absl::StrFormat(
      "6 file after draining %d changes in %d sessions of %d (%d recorded meanwhile stay "
      "queued, %.1f MiB): %.1f MiB on disk (file + WAL; %.1f MiB before), %.2fx what is "
      "queued; target <= 2x + 4 MiB = %.1f MiB  %s\n",
      r.changes, r.sessions, kSessionChanges, r.queued_changes, r.queued_bytes / kMiB,
      r.bytes_after / kMiB, r.bytes_before / kMiB,
      r.queued_bytes > 0 ? static_cast<double>(r.bytes_after) / r.queued_bytes : 0.0, limit / kMiB,
      verdict(r.bytes_after <= limit));
  out << absl::StrFormat(
      "  6: drain %.2f s; commits: the slowest %.3f s, the %d others %.3f s together; then "
      "the reclaimer removing the dead rows (off the commits' path) %.3f s\n",
      r.drain_seconds, r.commit_seconds_max, r.sessions - 1, r.commit_seconds_other,
      r.reclaim_seconds);
}

}  // namespace asp::bench
