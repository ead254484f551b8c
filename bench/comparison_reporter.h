// ComparisonReporter: console output of a benchmark program that compares pairs of
// benchmarks, with each pair's throughput ratio added as counters and summarized.
//
// A Comparison pairs a candidate benchmark (here: the queue) with its baseline (here:
// plain SQLite). Both are registered once per round, with the round as their only
// argument ("name/round:3"), baseline first, alternating: on a shared machine the disk
// and the CPUs drift, and interleaving spreads the drift over both sides. When a
// candidate's run is reported, the reporter adds the counters `pct_of_base` (its
// items/s over the same round's baseline items/s, in percent) and `target_pct` before
// printing it. Percent, because Google Benchmark prints counters with SI prefixes (0.93
// as "930m"). printSummary() then gives per comparison the median over rounds.
//
// Not thread-safe: Google Benchmark reports from the thread that runs the benchmarks.
#ifndef BENCH_COMPARISON_REPORTER_H_
#define BENCH_COMPARISON_REPORTER_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace asp::bench {

struct Comparison {
  std::string measure;    // what the summary line calls it
  std::string candidate;  // benchmark names, as registered
  std::string baseline;
  double target = 0;  // the candidate's minimum throughput, as a multiple of the baseline's
};

struct RoundOutcome {
  double candidate_per_second = 0;
  double baseline_per_second = 0;
  double ratio = 0;  // candidate / baseline
};

struct ComparisonOutcome {
  std::vector<RoundOutcome> rounds;  // rounds where both sides ran without error
  // Medians over `rounds` (each taken separately), and the spread of the ratio.
  double candidate_per_second = 0;
  double baseline_per_second = 0;
  double ratio = 0;
  double min_ratio = 0;
  double max_ratio = 0;
  bool pass = false;  // the median ratio meets the target

  bool ran() const { return !rounds.empty(); }
};

// Registers round `round` of a benchmark that times one whole session itself (manual
// time, one iteration, milliseconds), as the comparisons expect: "name/round:N".
template <typename Fn, typename... Args>
void registerSessionRound(const char* name, int round, Fn fn, Args... args) {
  benchmark::RegisterBenchmark(name, fn, args...)
      ->ArgName("round")
      ->Arg(round)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

// "PASS" or "FAIL".
const char* verdict(bool pass);

// One summary line of a comparison whose candidate is a whole session: the measure padded
// to `measure_width`, the median changes/s of both sides, the median ratio [min .. max],
// the target and the verdict; or "(not run ...)" when no round ran.
void printSessionComparison(std::ostream& out, const Comparison& comparison,
                            const ComparisonOutcome& outcome, int measure_width);

class ComparisonReporter : public benchmark::ConsoleReporter {
 public:
  // Colours when standard output is a terminal.
  explicit ComparisonReporter(std::vector<Comparison> comparisons);

  void ReportRuns(const std::vector<Run>& runs) override;

  ComparisonOutcome outcome(const Comparison& comparison) const;
  // The named counter of every successful run of `benchmark`, one per round.
  std::vector<double> counterPerRound(const std::string& benchmark,
                                      const std::string& counter) const;
  // One line per comparison: median throughputs, median ratio [min..max], target, verdict.
  void printSummary(std::ostream& out) const;

 private:
  // The counters of one successful run, by its argument string ("round:3").
  using Rounds = std::map<std::string, benchmark::UserCounters>;

  void addRatio(const std::string& args, Run* run) const;
  double rate(const std::string& benchmark, const std::string& args) const;  // 0: none

  const std::vector<Comparison> comparisons_;
  std::map<std::string, Rounds> runs_;  // by benchmark name, as registered
};

}  // namespace asp::bench

#endif  // BENCH_COMPARISON_REPORTER_H_
