#include "bench/comparison_reporter.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"

namespace asp::bench {
namespace {

constexpr char kRate[] = "items_per_second";

// The median of `values` (the mean of the middle two for an even count); 0 if empty.
double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

}  // namespace

ComparisonReporter::ComparisonReporter(std::vector<Comparison> comparisons)
    : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_Color : OO_None),
      comparisons_(std::move(comparisons)) {}

void ComparisonReporter::ReportRuns(const std::vector<Run>& runs) {
  std::vector<Run> annotated = runs;
  for (Run& run : annotated) {
    if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
    // function_name is the name registered, without "/real_time" or "/threads:8".
    addRatio(run.run_name.args, &run);
    runs_[run.run_name.function_name][run.run_name.args] = run.counters;
  }
  ConsoleReporter::ReportRuns(annotated);
}

void ComparisonReporter::addRatio(const std::string& args, Run* run) const {
  for (const Comparison& comparison : comparisons_) {
    if (comparison.candidate != run->run_name.function_name) continue;
    const double baseline = rate(comparison.baseline, args);
    const auto candidate = run->counters.find(kRate);
    if (baseline <= 0 || candidate == run->counters.end()) return;
    run->counters["pct_of_base"] = benchmark::Counter(100 * candidate->second.value / baseline);
    run->counters["target_pct"] = benchmark::Counter(100 * comparison.target);
    return;
  }
}

double ComparisonReporter::rate(const std::string& benchmark, const std::string& args) const {
  const auto rounds = runs_.find(benchmark);
  if (rounds == runs_.end()) return 0;
  const auto counters = rounds->second.find(args);
  if (counters == rounds->second.end()) return 0;
  const auto rate = counters->second.find(kRate);
  return rate == counters->second.end() ? 0 : rate->second.value;
}

ComparisonOutcome ComparisonReporter::outcome(const Comparison& comparison) const {
  ComparisonOutcome outcome;
  const auto candidate_rounds = runs_.find(comparison.candidate);
  if (candidate_rounds == runs_.end()) return outcome;
  std::vector<double> candidates, baselines, ratios;
  for (const auto& [args, counters] : candidate_rounds->second) {
    const double candidate = rate(comparison.candidate, args);
    const double baseline = rate(comparison.baseline, args);
    if (candidate <= 0 || baseline <= 0) continue;
    outcome.rounds.push_back(RoundOutcome{candidate, baseline, candidate / baseline});
    candidates.push_back(candidate);
    baselines.push_back(baseline);
    ratios.push_back(candidate / baseline);
  }
  if (!outcome.ran()) return outcome;
  outcome.candidate_per_second = median(candidates);
  outcome.baseline_per_second = median(baselines);
  outcome.ratio = median(ratios);
  outcome.min_ratio = *std::min_element(ratios.begin(), ratios.end());
  outcome.max_ratio = *std::max_element(ratios.begin(), ratios.end());
  outcome.pass = outcome.ratio >= comparison.target;
  return outcome;
}

std::vector<double> ComparisonReporter::counterPerRound(const std::string& benchmark,
                                                        const std::string& counter) const {
  std::vector<double> values;
  const auto rounds = runs_.find(benchmark);
  if (rounds == runs_.end()) return values;
  for (const auto& [args, counters] : rounds->second) {
    const auto value = counters.find(counter);
    if (value != counters.end()) values.push_back(value->second.value);
  }
  return values;
}

const char* verdict(bool pass) { return pass ? "PASS" : "FAIL"; }

void printSessionComparison(std::ostream& out, const Comparison& comparison,
                            const ComparisonOutcome& o, int measure_width) {
  if (!o.ran()) {
    out << absl::StrFormat("%-*s (not run, or failed: see the errors above)\n", measure_width,
                           comparison.measure);
    return;
  }
  out << absl::StrFormat("%-*s %10.0f/s %10.0f/s %6.2fx %14s %9s  %s (%d rounds)\n", measure_width,
                         comparison.measure, o.candidate_per_second, o.baseline_per_second, o.ratio,
                         absl::StrFormat("[%.2f .. %.2f]", o.min_ratio, o.max_ratio),
                         absl::StrFormat(">= %.1f", comparison.target), verdict(o.pass),
                         o.rounds.size());
}

void ComparisonReporter::printSummary(std::ostream& out) const {
  out << absl::StrFormat("%-42s %11s %11s %7s %16s %7s  %s\n", "measure (medians over rounds)",
                         "queue/s", "sqlite/s", "ratio", "[min .. max]", "target", "result");
  for (const Comparison& comparison : comparisons_) {
    const ComparisonOutcome o = outcome(comparison);
    if (!o.ran()) {
      out << absl::StrFormat("%-42s (not run)\n", comparison.measure);
      continue;
    }
    out << absl::StrFormat("%-42s %11.0f %11.0f %6.2fx %16s %7s  %s (%d rounds)\n",
                           comparison.measure, o.candidate_per_second, o.baseline_per_second,
                           o.ratio, absl::StrFormat("[%.2f .. %.2f]", o.min_ratio, o.max_ratio),
                           absl::StrFormat(">=%.1f", comparison.target), verdict(o.pass),
                           o.rounds.size());
  }
}

}  // namespace asp::bench
