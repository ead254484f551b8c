// Helpers shared by //bench:session_bench and //bench:transport_bench.
//
// Both compare a DELTA session of AgentSyncProtocol with "a plain program" that does
// the same encoding work and nothing else: it reads the same pending rows of the same
// queue file with plain SQL, in pages, and packs them into serialized
// Message{data_batch} frames of the same budget with the generated protobuf classes
// (readAndPack()). No marking, no session, no answers, no commit.
//
// The rows are those of a SqliteChangeQueue file filled with recordBatch()
// (fillQueueFile()); RoundBacklog gives each round a fresh one, read by the baseline
// first and then synchronized (which empties it) by the session.
//
// Not thread-safe: each object belongs to one thread.
#ifndef BENCH_SYNC_BENCH_SUPPORT_H_
#define BENCH_SYNC_BENCH_SUPPORT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "asp/core/sync_types.h"
#include "bench/storage_bench_support.h"
#include "benchmark/benchmark.h"

namespace asp::bench {

// The module both programs synchronize: a short name, so the header "s:bench:" is 8 bytes.
inline constexpr char kModule[] = "bench";
inline constexpr uint64_t kDefaultChanges = 1000000;
// The session id the in-process sink answers and the baselines encode: a 64-bit value
// like those the reference manager draws, so values encode to the same size everywhere.
inline constexpr uint64_t kSessionId = 0x9e3779b97f4a7c15;
// Bytes of id + index + data per page read: what SessionRunner reads per readInFlight().
inline constexpr size_t kReadPageBytes = 1 << 20;
// Changes per recordBatch() when filling a backlog.
inline constexpr size_t kFillBatchChanges = 10000;

using SteadyClock = std::chrono::steady_clock;

inline double secondsBetween(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// The median (mean of the middle two for an even count) and the nearest-rank
// percentile (0 < p <= 100) of `values`; 0 when empty.
double median(std::vector<double> values);
double percentile(std::vector<double> values, double p);

// The agent both programs sync as (the reference manager keys its state by agent id).
AgentInfo benchAgentInfo();

// Removes "--ids=counter|hex40" from argv and sets idShape() (counter when absent); an
// error naming the value for any other.
absl::Status takeIdsFlag(int* argc, char** argv);

// Whether --benchmark_filter selects the benchmarks whose names contain `word`: when it
// selects everything, or names `word` (a leading '-' negates, as in Google Benchmark).
// A substring test, not Google Benchmark's regular expression: std::regex trips a
// GCC 12 false warning in sanitizer builds. For work done outside benchmark runs
// (forked probes), which the filter does not reach.
bool filterSelects(absl::string_view word);

// Records `changes` distinct creates (fillChange("doc-", n): ids "doc-<n>", 8 indices,
// kDataBytes of data, version n + 1) into a new queue file at `path`, by recordBatch()
// of kFillBatchChanges, then closes it. Returns the seconds it took.
absl::StatusOr<double> fillQueueFile(const std::string& path, uint64_t changes);

// What readAndPack() did.
struct PlainRunStats {
  uint64_t values = 0;
  uint64_t frames = 0;
  uint64_t message_bytes = 0;  // serialized Message bytes, without the prefix
  uint64_t pages = 0;
};

// The plain program: reads every pending change of the queue file at `path`, in
// first-recorded order, with one SELECT per page of about kReadPageBytes (each
// continuing after the last row read), numbers them 0..N-1 and packs them as
// DataValue{seq, kSessionId, operation, id, index, version, data} into
// Message{data_batch} frames whose serialization stays within `max_message_bytes`.
// Each frame is `prefix` followed by the serialized Message, handed to `emit`.
absl::StatusOr<PlainRunStats> readAndPack(
    const std::string& path, size_t max_message_bytes, absl::string_view prefix,
    const std::function<absl::Status(const std::string& frame)>& emit);

// What the candidate's rounds established, for the summary: how many ran, how many
// passed their checks (everything delivered exactly once, nothing left behind), and
// why the others did not.
struct RoundChecks {
  int ran = 0;
  int verified = 0;
  std::vector<std::string> failures;

  void pass() {
    ++ran;
    ++verified;
  }
  void fail(std::string why) {
    ++ran;
    failures.push_back(std::move(why));
  }
  bool allPassed() const { return ran > 0 && verified == ran; }
};

// True for OK; otherwise the benchmark is skipped with the status's message.
bool ok(benchmark::State& state, const absl::Status& status);
// As ok(), and a failed candidate round is recorded as such.
bool ok(benchmark::State& state, const absl::Status& status, RoundChecks* checks);

// The backlog of the current round, shared by its two sides: whichever runs first
// fills a fresh file; the baseline only reads it, the session empties it. Asking for a
// new round deletes the previous round's file.
class RoundBacklog {
 public:
  RoundBacklog(ScratchDir* dir, uint64_t changes) : dir_(dir), changes_(changes) {}
  ~RoundBacklog() { release(); }
  RoundBacklog(const RoundBacklog&) = delete;
  RoundBacklog& operator=(const RoundBacklog&) = delete;

  // The filled file of `round`.
  absl::StatusOr<std::string> fileFor(int64_t round);
  // Deletes the current file, if any.
  void release();

  uint64_t changes() const { return changes_; }
  // Seconds each fill took, in order.
  const std::vector<double>& fillSeconds() const { return fill_seconds_; }

 private:
  ScratchDir* const dir_;
  const uint64_t changes_;
  int64_t round_ = -1;
  std::string path_;
  std::vector<double> fill_seconds_;
};

}  // namespace asp::bench

#endif  // BENCH_SYNC_BENCH_SUPPORT_H_
