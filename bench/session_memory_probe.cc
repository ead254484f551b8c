#include "bench/session_memory_probe.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "asp/storage/sqlite_change_queue.h"
#include "bench/forked_child.h"
#include "bench/storage_bench_support.h"

namespace asp::bench {
namespace {

// Changes per recordBatch() while filling: large enough that filling a million takes
// seconds, small enough (about 3 MiB of Change objects) not to dominate the peak.
constexpr size_t kFillBatch = 10000;

// What the child sends back: plain data, so it can cross the pipe as bytes.
struct Report {
  bool ran;
  char error[512];
  uint64_t changes, pages, page_bytes;
  double fill_seconds, begin_seconds, read_seconds;
  int64_t start_rss_bytes, fill_peak_bytes, session_peak_bytes, peak_bytes;
  int64_t sqlite_heap_peak_bytes;
  bool peak_reset;
};

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

absl::Status fill(SqliteChangeQueue& queue, uint64_t changes) {
  std::vector<Change> batch;
  uint64_t next = 0;
  while (next < changes) {
    batch.resize(std::min<uint64_t>(kFillBatch, changes - next));
    fillBatch("doc-", &next, &batch);
    if (absl::Status s = queue.recordBatch(batch); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Reads seq 0..size-1 as a session does: each call continues after the last seq returned.
absl::Status readAll(SqliteChangeQueue& queue, uint64_t size, size_t page_bytes, Report* report) {
  uint64_t first = 0;
  while (first < size) {
    absl::StatusOr<SessionPage> page = queue.readInFlight(first, size - 1, page_bytes);
    if (!page.ok()) return page.status();
    if (page->changes.empty()) {
      return absl::InternalError(absl::StrCat("readInFlight(", first, ", ", size - 1,
                                              ") returned nothing; the session froze ", size));
    }
    first = page->changes.back().seq + 1;
    ++report->pages;
  }
  return absl::OkStatus();
}

// Resets both high-water marks so that they cover only what follows.
bool resetPeaks() {
  sqlite3_int64 current = 0, highwater = 0;
  sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &current, &highwater, /*resetFlag=*/1);
  return resetPeakResident();
}

absl::Status measureSession(SqliteChangeQueue& queue, uint64_t changes, Report* report) {
  report->fill_peak_bytes = peakResidentBytes();
  report->peak_reset = resetPeaks();

  Clock::time_point start = Clock::now();
  absl::StatusOr<SessionInfo> info = queue.beginSession({});
  report->begin_seconds = secondsSince(start);
  if (!info.ok()) return info.status();
  if (info->size != changes) {
    return absl::InternalError(
        absl::StrCat("the session froze ", info->size, " changes; ", changes, " were pending"));
  }
  report->changes = info->size;

  start = Clock::now();
  absl::Status status = readAll(queue, info->size, report->page_bytes, report);
  report->read_seconds = secondsSince(start);

  report->session_peak_bytes = peakResidentBytes();
  sqlite3_int64 current = 0, highwater = 0;
  sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &current, &highwater, 0);
  report->sqlite_heap_peak_bytes = highwater;
  report->peak_bytes = report->peak_reset
                           ? std::max(report->fill_peak_bytes, report->session_peak_bytes)
                           : report->session_peak_bytes;
  return status;
}

absl::Status measure(uint64_t changes, Report* report) {
  report->start_rss_bytes = residentBytes();
  absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::create("asp-session-probe");
  if (!dir.ok()) return dir.status();
  SqliteChangeQueue::Options options;
  options.path = (*dir)->newDbPath("backlog");
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue =
      SqliteChangeQueue::open(std::move(options));
  if (!queue.ok()) return queue.status();

  const Clock::time_point start = Clock::now();
  if (absl::Status s = fill(**queue, changes); !s.ok()) return s;
  report->fill_seconds = secondsSince(start);
  return measureSession(**queue, changes, report);
}

SessionProbeResult fromReport(const Report& report) {
  SessionProbeResult result;
  result.ran = report.ran;
  result.error = report.error;
  result.changes = report.changes;
  result.pages = report.pages;
  result.page_bytes = report.page_bytes;
  result.fill_seconds = report.fill_seconds;
  result.begin_seconds = report.begin_seconds;
  result.read_seconds = report.read_seconds;
  result.start_rss_bytes = report.start_rss_bytes;
  result.fill_peak_bytes = report.fill_peak_bytes;
  result.session_peak_bytes = report.session_peak_bytes;
  result.peak_bytes = report.peak_bytes;
  result.sqlite_heap_peak_bytes = report.sqlite_heap_peak_bytes;
  result.peak_reset = report.peak_reset;
  return result;
}

SessionProbeResult failed(std::string error) {
  SessionProbeResult result;
  result.error = std::move(error);
  return result;
}

}  // namespace

SessionProbeResult runSessionProbeInChild(uint64_t changes, size_t page_bytes) {
  Report report{};
  const absl::Status forked = runInForkedChild<Report>(
      [&](Report* out) {
        out->page_bytes = page_bytes;
        const absl::Status status = measure(changes, out);  // the queue and files are gone after
        out->ran = status.ok();
        std::snprintf(out->error, sizeof(out->error), "%s", std::string(status.message()).c_str());
      },
      &report);
  if (!forked.ok()) return failed(absl::StrCat("session probe: ", forked.message()));
  return fromReport(report);
}

}  // namespace asp::bench
