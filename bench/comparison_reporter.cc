#include "bench/comparison_reporter.h"

#include <utility>

namespace asp::bench {
namespace {

constexpr char kRate[] = "items_per_second";

}  // namespace

ComparisonReporter::ComparisonReporter(std::vector<Comparison> comparisons,
                                       OutputOptions options)
    : ConsoleReporter(options), comparisons_(std::move(comparisons)) {}

void ComparisonReporter::ReportRuns(const std::vector<Run>& runs) {
  std::vector<Run> annotated = runs;
  for (Run& run : annotated) {
    if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
    addRatio(&run);
    // The function name, without "/real_time" or "/threads:8": the name registered.
    counters_[run.run_name.function_name] = run.counters;
  }
  ConsoleReporter::ReportRuns(annotated);
}

void ComparisonReporter::addRatio(Run* run) const {
  for (const Comparison& comparison : comparisons_) {
    if (comparison.candidate != run->run_name.function_name) continue;
    const std::optional<double> baseline = counter(comparison.baseline, kRate);
    const auto candidate = run->counters.find(kRate);
    if (!baseline.has_value() || *baseline <= 0 || candidate == run->counters.end()) return;
    run->counters["pct_of_base"] = benchmark::Counter(100 * candidate->second.value / *baseline);
    run->counters["target_pct"] = benchmark::Counter(100 * comparison.target);
    return;
  }
}

ComparisonOutcome ComparisonReporter::outcome(const Comparison& comparison) const {
  ComparisonOutcome outcome;
  const std::optional<double> candidate = counter(comparison.candidate, kRate);
  const std::optional<double> baseline = counter(comparison.baseline, kRate);
  if (!candidate.has_value() || !baseline.has_value() || *baseline <= 0) return outcome;
  outcome.ran = true;
  outcome.candidate_per_second = *candidate;
  outcome.baseline_per_second = *baseline;
  outcome.ratio = *candidate / *baseline;
  outcome.pass = outcome.ratio >= comparison.target;
  return outcome;
}

std::optional<double> ComparisonReporter::counter(const std::string& benchmark,
                                                  const std::string& name) const {
  const auto run = counters_.find(benchmark);
  if (run == counters_.end()) return std::nullopt;
  const auto counter = run->second.find(name);
  if (counter == run->second.end()) return std::nullopt;
  return counter->second.value;
}

}  // namespace asp::bench
