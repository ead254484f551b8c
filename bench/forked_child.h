// Runs a measurement in a forked child process and hands its report back by pipe.
//
// Peak resident memory (VmHWM) is a whole-process figure: measured in a freshly
// forked child, it shows what the measured code costs, not what the benchmark process
// allocated before. Fork early, while the parent is still small and has no threads:
// the child starts with the parent's resident set, and only the forking thread
// survives the fork.
//
// Not thread-safe: call from the main thread, before starting any thread.
#ifndef BENCH_FORKED_CHILD_H_
#define BENCH_FORKED_CHILD_H_

#include <cstddef>
#include <cstring>
#include <functional>
#include <type_traits>

#include "absl/status/status.h"

namespace asp::bench {

// Forks; the child runs `body(report)` on a zeroed buffer of `size` bytes, writes the
// buffer to the parent and exits with _exit (no atexit handlers, no flushing of the
// parent's buffered output). Blocks until the child has exited. An error when the
// fork failed or the child died without writing its report.
absl::Status runInForkedChild(const std::function<void(void* report)>& body, void* report,
                              size_t size);

// Typed form: `Report` must be plain data (it crosses the pipe as bytes).
template <typename Report>
absl::Status runInForkedChild(const std::function<void(Report*)>& body, Report* report) {
  static_assert(std::is_trivially_copyable_v<Report>, "a report crosses a pipe as bytes");
  return runInForkedChild(
      [&body](void* out) {
        Report child_report{};
        body(&child_report);
        std::memcpy(out, &child_report, sizeof(Report));
      },
      report, sizeof(Report));
}

}  // namespace asp::bench

#endif  // BENCH_FORKED_CHILD_H_
