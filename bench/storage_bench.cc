// //bench:storage_bench: SqliteChangeQueue against plain SQLite doing the same work.
//
//   ./bazelw run -c opt //bench:storage_bench [-- --benchmark_filter=... --session_changes=N]
//
// Every comparison pairs a queue benchmark with a baseline that writes the same rows
// into a table with the queue's schema, with the same pragmas and prepared statements
// (BaselineDb), on real files in a scratch directory under $TMPDIR. The ratio
// queue/baseline is the cost of what the queue adds: the per-id coalescing lookup,
// explicit transactions, locking, group commit, the asynchronous buffer. Targets:
//   1. record() one change at a time vs one autocommit INSERT each     >= 0.9
//   2. recordBatch(1000) vs 1000 INSERTs in one transaction            >= 0.8
//   3. 8 threads record() at kPowerLoss vs 1 thread autocommit FULL    >= 4x (group commit)
//      and, for reference, the ceiling: 1 thread, 8 INSERTs per FULL transaction
//   4. asynchronous: 100k record() + flush() vs one transaction        >= 0.8 (issue 19)
//   5. beginSession + paged readInFlight over 1M pending changes: peak RSS < 64 MiB
//   6. the file after draining 1M in sessions of 100k: <= 2x what is still queued + 4 MiB
//      (bench/drain_space.h; --session_changes=N sizes 5 and 6)
// Method, for steadier figures on a small shared VM:
//  - each pair runs kRounds times, baseline and queue alternating; the summary takes
//    medians and shows the spread of the per-round ratios;
//  - both sides do the same fixed number of changes per run (same table sizes), timed
//    in real (wall-clock) time, since I/O is what is measured;
//  - comparisons 1-3 start from a warmed-up file (warmUp()), so that what is timed is
//    the steady state of a long-lived queue, not the first growth of a fresh WAL.
// The ratios appear as counters (pct_of_base, target_pct) and in a summary at the end,
// with PASS/FAIL per target. The exit status does not depend on the verdicts: this is a
// measurement, and the figures vary with the machine (docs/performance.md).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "asp/storage/sqlite_change_queue.h"
#include "bench/comparison_reporter.h"
#include "bench/drain_space.h"
#include "bench/session_memory_probe.h"
#include "bench/storage_bench_support.h"
#include "bench/storage_benchmarks.h"
#include "benchmark/benchmark.h"

namespace asp::bench {
namespace {

// Each run does a fixed amount of work, the same on both sides, sized to take about half
// a second on the reference machine, so that the whole program stays near a minute.
constexpr int kRounds = 7;
constexpr int64_t kSingleChanges = 30000;    // comparison 1, per run
constexpr int64_t kBatches = 200;            // comparison 2, batches per run
constexpr int kWriterThreads = 8;            // comparison 3
constexpr int64_t kPowerLossChanges = 4000;  // comparison 3, per run (all threads together)
constexpr int64_t kAsyncIterations = 2;      // comparison 4, kAsyncChanges each
constexpr uint64_t kDefaultSessionChanges = 1000000;
constexpr size_t kSessionPageBytes = 256 * 1024;
constexpr double kSessionPeakLimitMiB = 64;

constexpr char kSingleSqlite[] = "1_single/sqlite_autocommit_insert";
constexpr char kSingleQueue[] = "1_single/queue_record";
constexpr char kBatchSqlite[] = "2_batch/sqlite_1000_inserts_in_txn";
constexpr char kBatchQueue[] = "2_batch/queue_recordBatch_1000";
constexpr char kPowerLossSqlite[] = "3_power_loss/sqlite_full_autocommit_1_thread";
constexpr char kPowerLossQueue[] = "3_power_loss/queue_record_8_threads";
constexpr char kPowerLossCeiling[] = "3_power_loss/sqlite_full_8_per_txn_1_thread";
constexpr char kAsyncSqlite[] = "4_async/sqlite_100k_inserts_in_txn";
constexpr char kAsyncQueue[] = "4_async/queue_100k_record_then_flush";
constexpr char kSession[] = "5_session/begin_and_read_backlog_in_child";

// ---- registration ----

using Registered = benchmark::internal::Benchmark;

// The round is the benchmark's only argument: "<name>/round:<n>".
Registered* inRound(Registered* benchmark, int round, int64_t iterations) {
  return benchmark->ArgName("round")->Arg(round)->Iterations(iterations)->UseRealTime();
}

void registerComparisons() {
  using benchmark::RegisterBenchmark;
  const auto us = benchmark::kMicrosecond;
  const auto ms = benchmark::kMillisecond;
  for (int round = 1; round <= kRounds; ++round) {
    inRound(RegisterBenchmark(kSingleSqlite, sqliteAutocommit, Durability::kProcessCrash, 1), round,
            kSingleChanges)
        ->Unit(us);
    inRound(RegisterBenchmark(kSingleQueue, queueRecord), round, kSingleChanges)->Unit(us);
  }
  for (int round = 1; round <= kRounds; ++round) {
    inRound(RegisterBenchmark(kBatchSqlite, sqliteBatch), round, kBatches)->Unit(ms);
    inRound(RegisterBenchmark(kBatchQueue, queueBatch), round, kBatches)->Unit(ms);
  }
  for (int round = 1; round <= kRounds; ++round) {
    inRound(RegisterBenchmark(kPowerLossSqlite, sqliteAutocommit, Durability::kPowerLoss,
                              kWriterThreads),
            round, kPowerLossChanges)
        ->Unit(us);
    // Iterations are per thread.
    inRound(RegisterBenchmark(kPowerLossQueue, queueRecordConcurrently), round,
            kPowerLossChanges / kWriterThreads)
        ->Threads(kWriterThreads)
        ->Unit(us);
    inRound(RegisterBenchmark(kPowerLossCeiling, sqliteGroupsOfStreams, kWriterThreads), round,
            kPowerLossChanges)
        ->Unit(us);
  }
  for (int round = 1; round <= kRounds; ++round) {
    inRound(RegisterBenchmark(kAsyncSqlite, sqliteOneTransaction), round, kAsyncIterations)
        ->Unit(ms);
    inRound(RegisterBenchmark(kAsyncQueue, queueAsync), round, kAsyncIterations)->Unit(ms);
  }
}

std::vector<Comparison> comparisons() {
  return {
      {"1 record() vs autocommit INSERT", kSingleQueue, kSingleSqlite, 0.9},
      {"2 recordBatch(1000) vs INSERTs in 1 txn", kBatchQueue, kBatchSqlite, 0.8},
      {"3 8 threads kPowerLoss vs 1 thread FULL", kPowerLossQueue, kPowerLossSqlite, 4.0},
      {"4 async 100k record()+flush() vs 1 txn", kAsyncQueue, kAsyncSqlite, 0.8},
  };
}

// ---- summary ----

// Comparison 3 against what the disk allows: one thread committing the same changes
// eight per transaction gains this much over one per transaction, with nothing to wake;
// what the eight writers reach of it is what the handoff between groups leaves.
void printGroupCommitCeiling(std::ostream& out, const ComparisonReporter& reporter) {
  const ComparisonOutcome ceiling = reporter.outcome({"", kPowerLossCeiling, kPowerLossSqlite, 0});
  const ComparisonOutcome reached = reporter.outcome({"", kPowerLossQueue, kPowerLossCeiling, 0});
  if (!ceiling.ran() || !reached.ran()) return;
  out << absl::StrFormat(
      "  3: the ceiling, one thread committing the same changes %d per FULL transaction (no "
      "thread to wake): %.2fx [%.2f .. %.2f] the baseline; the %d writers reach %.2f "
      "[%.2f .. %.2f] of it (docs/performance.md, \"group commit\")\n",
      kWriterThreads, ceiling.ratio, ceiling.min_ratio, ceiling.max_ratio, kWriterThreads,
      reached.ratio, reached.min_ratio, reached.max_ratio);
}

void printAsyncMemory(std::ostream& out, const ComparisonReporter& reporter) {
  std::vector<double> growth = reporter.counterPerRound(kAsyncQueue, "peak_rss_growth_MiB");
  if (growth.empty()) return;
  std::sort(growth.begin(), growth.end());
  out << absl::StrFormat(
      "  4: peak RSS growth while recording %d changes asynchronously: median %.1f MiB, "
      "max %.1f MiB over %d rounds (async buffer bound %.0f MiB)\n",
      kAsyncChanges, growth[growth.size() / 2], growth.back(), growth.size(),
      static_cast<double>(AsyncCommitter::Options().buffer_bytes) / kMiB);
}

void printSession(std::ostream& out, const SessionProbeResult& probe) {
  if (!probe.ran) {
    out << "5 session over a backlog: not run" << (probe.error.empty() ? "" : ": ") << probe.error
        << "\n";
    return;
  }
  const double peak_mib = static_cast<double>(probe.peak_bytes) / kMiB;
  out << absl::StrFormat(
      "5 session over %d pending changes: begin %.2f s, read %.2f s (%d pages of %d KiB); "
      "child peak RSS %.1f MiB, target < %.0f MiB  %s\n",
      probe.changes, probe.begin_seconds, probe.read_seconds, probe.pages, probe.page_bytes / 1024,
      peak_mib, kSessionPeakLimitMiB, verdict(peak_mib < kSessionPeakLimitMiB));
  out << absl::StrFormat(
      "  5: fill (recordBatch of 10k) %.1f s; RSS at start %.1f MiB, peak after fill %.1f MiB, "
      "peak over begin+read %.1f MiB%s; SQLite heap peak over begin+read %.1f MiB\n",
      probe.fill_seconds, static_cast<double>(probe.start_rss_bytes) / kMiB,
      static_cast<double>(probe.fill_peak_bytes) / kMiB,
      static_cast<double>(probe.session_peak_bytes) / kMiB,
      probe.peak_reset ? "" : " (peak not resettable: includes the fill)",
      static_cast<double>(probe.sqlite_heap_peak_bytes) / kMiB);
}

// ---- main ----

// Whether to run a part outside Google Benchmark (the session probe, the drain) under
// --benchmark_filter: they take seconds, so only when the filter selects everything or
// names `part` (a leading '-' negates, as in Google Benchmark). A substring test rather
// than Google Benchmark's regular expression: std::regex trips a GCC 12 false warning in
// sanitizer builds.
bool filterSelects(const char* part) {
  std::string filter = benchmark::GetBenchmarkFilter();
  if (filter.empty() || filter == "all" || filter == "." || filter == ".*") return true;
  const bool negated = filter[0] == '-';
  if (negated) filter.erase(0, 1);
  return (filter.find(part) != std::string::npos) != negated;
}

SessionProbeResult probeSession(uint64_t changes) {
  SessionProbeResult probe;
  if (changes == 0 || !filterSelects("session")) {
    probe.error = "skipped (--session_changes=0 or --benchmark_filter)";
    return probe;
  }
  std::cout << "Measuring a session over " << changes << " pending changes in a child process"
            << std::endl;
  return runSessionProbeInChild(changes, kSessionPageBytes);
}

int run(int argc, char** argv) {
  const uint64_t session_changes =
      takeUintFlag("--session_changes=", kDefaultSessionChanges, &argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // First, while this process is still small: the child starts with our resident set.
  const SessionProbeResult probe = probeSession(session_changes);

  absl::StatusOr<std::unique_ptr<ScratchDir>> scratch = ScratchDir::create("asp-storage-bench");
  if (!scratch.ok()) {
    std::cerr << scratch.status() << "\n";
    return 1;
  }
  setScratchDir(scratch->get());
  std::cout << "Scratch directory: " << (*scratch)->path() << std::endl;

  registerComparisons();
  benchmark::RegisterBenchmark(kSession, sessionOverBacklog, &probe, kSessionPeakLimitMiB)
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  ComparisonReporter reporter(comparisons());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::cout << "\n==== Summary: SqliteChangeQueue vs plain SQLite (same schema, pragmas and "
               "prepared statements) ====\n";
  reporter.printSummary(std::cout);
  printGroupCommitCeiling(std::cout, reporter);
  printAsyncMemory(std::cout, reporter);
  printSession(std::cout, probe);
  if (session_changes > 0 && filterSelects("drain")) {
    std::cout << "Measuring the file after draining " << session_changes << " changes" << std::endl;
    absl::StatusOr<DrainSpaceResult> drain =
        measureDrainSpace((*scratch)->newDbPath("drain"), session_changes);
    if (drain.ok()) {
      printDrainSpace(std::cout, *drain);
    } else {
      std::cout << "6 file after a drain: not run: " << drain.status() << "\n";
    }
  }
  return 0;
}

}  // namespace
}  // namespace asp::bench

int main(int argc, char** argv) { return asp::bench::run(argc, argv); }
