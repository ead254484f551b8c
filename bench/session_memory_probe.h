// The memory target of a session over a large backlog, measured in a child process.
//
// A module that was offline for long may hold a million pending changes; beginning a
// session over them and reading them back page by page must not take memory in
// proportion to the backlog. Peak resident memory (VmHWM) is a whole-process figure,
// so it is measured in a freshly forked child: its peak then shows the queue's cost,
// not whatever the benchmark process allocated before. Fork early, while the parent is
// still small, because the child starts with the parent's resident set.
#ifndef BENCH_SESSION_MEMORY_PROBE_H_
#define BENCH_SESSION_MEMORY_PROBE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace asp::bench {

struct SessionProbeResult {
  bool ran = false;   // false: not run, or the child failed (see error)
  std::string error;  // why it did not run

  uint64_t changes = 0;      // changes the session froze (and read back)
  uint64_t pages = 0;        // readInFlight() calls needed
  size_t page_bytes = 0;     // max_bytes of each call
  double fill_seconds = 0;   // recordBatch() of the backlog
  double begin_seconds = 0;  // beginSession({})
  double read_seconds = 0;   // every page, in order

  int64_t start_rss_bytes = 0;         // the child's VmRSS when it started
  int64_t fill_peak_bytes = 0;         // VmHWM once the backlog was recorded
  int64_t session_peak_bytes = 0;      // VmHWM over begin + read alone (see peak_reset)
  int64_t peak_bytes = 0;              // VmHWM over the child's whole life: the target
  int64_t sqlite_heap_peak_bytes = 0;  // SQLite's own heap high-water over begin + read
  // Whether the kernel let the child reset VmHWM after filling; if not,
  // session_peak_bytes covers the fill too.
  bool peak_reset = false;
};

// Forks a child that records `changes` distinct changes into a fresh queue under
// $TMPDIR (recordBatch, for speed), begins a session over all of them and reads them
// back in pages of `page_bytes`, then reports through a pipe. Blocks until the child
// has exited; its files are gone by then.
SessionProbeResult runSessionProbeInChild(uint64_t changes, size_t page_bytes);

}  // namespace asp::bench

#endif  // BENCH_SESSION_MEMORY_PROBE_H_
