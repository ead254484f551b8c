// ComparisonReporter: console output of a benchmark program that compares pairs of
// benchmarks, with each pair's throughput ratio added as counters.
//
// A Comparison pairs a candidate benchmark (here: the queue) with its baseline (here:
// plain SQLite). Register the baseline first so that it runs first: when the
// candidate's run is reported, the reporter adds the counters `pct_of_base` (candidate
// items/s over baseline items/s, in percent) and `target_pct` before printing it.
// Percent, because Google Benchmark prints counters with SI prefixes (0.93 as "930m").
// It keeps every run's counters, so main() can print a summary afterwards.
//
// Not thread-safe: Google Benchmark reports from the thread that runs the benchmarks.
#ifndef BENCH_COMPARISON_REPORTER_H_
#define BENCH_COMPARISON_REPORTER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace asp::bench {

struct Comparison {
  std::string measure;    // what the summary line calls it
  std::string candidate;  // benchmark names, as registered
  std::string baseline;
  double target = 0;      // the candidate's minimum throughput, as a multiple of the baseline's
};

struct ComparisonOutcome {
  bool ran = false;  // both sides ran without error
  double candidate_per_second = 0;
  double baseline_per_second = 0;
  double ratio = 0;  // candidate / baseline
  bool pass = false;
};

class ComparisonReporter : public benchmark::ConsoleReporter {
 public:
  ComparisonReporter(std::vector<Comparison> comparisons, OutputOptions options);

  void ReportRuns(const std::vector<Run>& runs) override;

  ComparisonOutcome outcome(const Comparison& comparison) const;
  // A counter of the named benchmark's last successful run; nullopt if it did not run.
  std::optional<double> counter(const std::string& benchmark, const std::string& name) const;
  const std::vector<Comparison>& comparisons() const { return comparisons_; }

 private:
  void addRatio(Run* run) const;

  const std::vector<Comparison> comparisons_;
  std::map<std::string, benchmark::UserCounters> counters_;  // by benchmark name
};

}  // namespace asp::bench

#endif  // BENCH_COMPARISON_REPORTER_H_
