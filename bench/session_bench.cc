// //bench:session_bench: a DELTA session through AgentSyncProtocol against a plain
// program doing the same encoding work.
//
//   ./bazelw run -c opt //bench:session_bench [-- --changes=N --ids=hex40
//                                             --benchmark_filter=...]
//
// 1. Throughput. A DELTA session of N (default 1,000,000) changes of 200-byte data,
//    distinct ids, through AgentSyncProtocol with its real SQLite queue (a file in a
//    scratch directory), sync_end_delay 0, the system clock, to an in-process sink
//    manager (SinkTransport: answers Start and End at once, checks that every seq
//    arrived exactly once). Baseline: a plain program reads the same rows of the same
//    queue file with plain SQL in pages and packs them into serialized DataBatch frames
//    of the same budget (readAndPack()), handing each frame to the same sink scan.
//    Changes per second, both sides; target ratio ASP/plain >= 0.9 (issue 19).
//    --ids=hex40 spells ids as 40 hex digits in random order (file-integrity keys).
// 2. Memory. In a child forked at start-up: record the N changes (recordBatch), then
//    synchronizeModule(kDelta) to a sink. The child's peak resident set (VmHWM) over
//    its whole life must stay < 64 MiB.
// 3. Bounded sessions (docs/protocol.md §5). The same backlog drained by one DELTA call
//    that runs consecutive sessions of 100,000 changes (the default bound) vs the one
//    session of 1; target ratio bounded/one >= 0.9. The sink checks that every session
//    was complete and every change arrived once.
// Method as //bench:storage_bench: rounds of (plain, ASP) alternating, each on a
// freshly filled queue file (filling is not timed), medians over rounds, a summary with
// PASS/FAIL. The exit status does not depend on the verdicts (docs/performance.md).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "asp/core/agent_sync_protocol.h"
#include "asp/proto/limits.h"
#include "asp/testing/sink_transport.h"
#include "bench/comparison_reporter.h"
#include "bench/forked_child.h"
#include "bench/storage_bench_support.h"
#include "bench/sync_bench_support.h"
#include "benchmark/benchmark.h"

namespace asp::bench {
namespace {

using testing::SinkTransport;

constexpr int kRounds = 5;
constexpr double kTargetRatio = 0.9;  // issue 19
constexpr double kPeakLimitMiB = 64;
constexpr double kBoundedTargetRatio = 0.9;
constexpr uint64_t kBoundedSessionValues = 100000;

constexpr char kPlain[] = "1_session/plain_read_and_pack";
constexpr char kAsp[] = "1_session/asp_delta_session";
constexpr char kMemory[] = "2_memory/asp_delta_session_in_child";
constexpr char kBounded[] = "3_bounded/asp_sessions_of_100k";

// The frame budget both sides pack to: the default datagram budget minus "s:bench:".
size_t maxMessageBytes() {
  return wire::kDefaultFrameBudgetBytes - wire::agentHeaderBytes(kModule);
}

// What the benchmarks share: the round's backlog, and what the ASP rounds verified.
struct Context {
  RoundBacklog* backlog = nullptr;
  RoundChecks checks;
};

// `session_values`: max_session_values (0: the whole backlog in one session).
absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> openProtocol(const std::string& path,
                                                                SinkTransport* sink,
                                                                uint64_t session_values = 0) {
  AgentSyncProtocol::Options options;
  options.module = kModule;
  options.database_path = path;
  options.transport = sink;
  options.agent_info = benchAgentInfo;
  options.session.sync_end_delay = absl::ZeroDuration();
  // One session of the whole backlog, as the plain side sends it (bounded sessions are
  // measured on their own in session_bench's 3_bounded).
  options.session.max_session_values = session_values;
  options.session.max_session_bytes = 0;
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol =
      AgentSyncProtocol::create(std::move(options));
  if (!protocol.ok()) return protocol.status();
  AgentSyncProtocol* p = protocol->get();
  sink->setAnswerHandler(
      [p](const uint8_t* data, size_t length) { return p->parseResponseBuffer(data, length); });
  return protocol;
}

// ---- 1: throughput, one round per run ----

void plainReadAndPack(benchmark::State& state, Context* context) {
  RoundBacklog* backlog = context->backlog;
  absl::StatusOr<std::string> path = backlog->fileFor(state.range(0));
  if (!ok(state, path.status())) return;
  SinkTransport sink(kModule, kSessionId);
  PlainRunStats stats;
  for (auto _ : state) {
    sink.reset();
    sink.expect(backlog->changes());
    const SteadyClock::time_point start = SteadyClock::now();
    absl::StatusOr<PlainRunStats> run =
        readAndPack(*path, maxMessageBytes(), "",
                    [&sink](const std::string& frame) { return sink.send(kModule, frame); });
    state.SetIterationTime(secondsBetween(start, SteadyClock::now()));
    if (!ok(state, run.status())) return;
    stats = *run;
  }
  if (!sink.tally().allValuesOnce()) {
    state.SkipWithError(("plain program: " + sink.describe()).c_str());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(stats.values));
  state.counters["frames"] = benchmark::Counter(static_cast<double>(stats.frames));
  state.counters["MiB"] = benchmark::Counter(static_cast<double>(stats.message_bytes) / kMiB);
  state.counters["pages"] = benchmark::Counter(static_cast<double>(stats.pages));
  state.counters["sink_s"] = benchmark::Counter(sink.tally().send_seconds);
}

// The session's phases as the sink saw them: beginSession (marking every row) until
// the Start; reading, packing and sending until the End; EndAck and commitSession after.
void reportPhases(benchmark::State& state, const SinkTransport::Tally& tally,
                  SteadyClock::time_point called, SteadyClock::time_point returned) {
  state.counters["begin_s"] = benchmark::Counter(secondsBetween(called, tally.start_at));
  state.counters["data_s"] = benchmark::Counter(secondsBetween(tally.start_at, tally.end_at));
  state.counters["end_s"] = benchmark::Counter(secondsBetween(tally.end_at, returned));
  state.counters["sink_s"] = benchmark::Counter(tally.send_seconds);
}

// Nothing may be left in the queue once the manager confirmed.
absl::Status expectEmptyQueue(AgentSyncProtocol& protocol) {
  absl::StatusOr<std::vector<IndexCounts>> counts = protocol.queue().counts();
  if (!counts.ok()) return counts.status();
  for (const IndexCounts& index : *counts) {
    if (index.pending + index.in_flight > 0) {
      return absl::InternalError(
          absl::StrFormat("after the session, index '%s' still holds %d "
                          "pending and %d in-flight changes",
                          index.index, index.pending, index.in_flight));
    }
  }
  return absl::OkStatus();
}

void aspDeltaSession(benchmark::State& state, Context* context) {
  RoundBacklog* backlog = context->backlog;
  RoundChecks* checks = &context->checks;
  absl::StatusOr<std::string> path = backlog->fileFor(state.range(0));
  if (!ok(state, path.status(), checks)) return;
  SinkTransport sink(kModule, kSessionId);
  const SteadyClock::time_point opening = SteadyClock::now();
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol = openProtocol(*path, &sink);
  if (!ok(state, protocol.status(), checks)) return;
  const double open_seconds = secondsBetween(opening, SteadyClock::now());
  SyncResult result;
  for (auto _ : state) {
    sink.reset();
    const SteadyClock::time_point called = SteadyClock::now();
    result = (*protocol)->synchronizeModule(Mode::kDelta);
    const SteadyClock::time_point returned = SteadyClock::now();
    state.SetIterationTime(secondsBetween(called, returned));
    reportPhases(state, sink.tally(), called, returned);
  }
  if (!ok(state, toStatus(result), checks)) return;
  if (!sink.tally().complete() || result.changes != backlog->changes()) {
    ok(state,
       absl::DataLossError(
           absl::StrFormat("session of %d changes: %s", result.changes, sink.describe())),
       checks);
    return;
  }
  if (!ok(state, expectEmptyQueue(**protocol), checks)) return;
  checks->pass();
  // Closing waits for the queue's reclaimer, which removes the confirmed rows after the
  // commit (off the session's path): untimed, and reported, so the work stays visible.
  const SteadyClock::time_point closing = SteadyClock::now();
  protocol->reset();
  state.counters["close_s"] = benchmark::Counter(secondsBetween(closing, SteadyClock::now()));
  backlog->release();  // the session emptied it
  state.SetItemsProcessed(static_cast<int64_t>(result.changes));
  state.counters["frames"] = benchmark::Counter(static_cast<double>(result.frames_sent));
  state.counters["MiB"] = benchmark::Counter(static_cast<double>(result.bytes_sent) / kMiB);
  state.counters["session_s"] = benchmark::Counter(absl::ToDoubleSeconds(result.duration));
  state.counters["open_s"] = benchmark::Counter(open_seconds);
}

// ---- 3: the same backlog in bounded sessions ----

void aspBoundedDrain(benchmark::State& state, Context* context) {
  RoundBacklog* backlog = context->backlog;
  RoundChecks* checks = &context->checks;
  absl::StatusOr<std::string> path = backlog->fileFor(state.range(0));
  if (!ok(state, path.status(), checks)) return;
  SinkTransport sink(kModule, kSessionId);
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol =
      openProtocol(*path, &sink, kBoundedSessionValues);
  if (!ok(state, protocol.status(), checks)) return;
  SyncResult result;
  for (auto _ : state) {
    sink.reset();
    const SteadyClock::time_point called = SteadyClock::now();
    result = (*protocol)->synchronizeModule(Mode::kDelta);
    state.SetIterationTime(secondsBetween(called, SteadyClock::now()));
  }
  if (!ok(state, toStatus(result), checks)) return;
  const SinkTransport::Drain drain = sink.drain();
  const uint64_t sessions =
      (backlog->changes() + kBoundedSessionValues - 1) / kBoundedSessionValues;
  if (drain.sessions != sessions || drain.complete_sessions != sessions ||
      drain.values != backlog->changes() || result.sessions != sessions) {
    ok(state,
       absl::DataLossError(absl::StrFormat(
           "%d changes in %d sessions: the sink saw %d sessions (%d complete), %d values",
           backlog->changes(), result.sessions, drain.sessions, drain.complete_sessions,
           drain.values)),
       checks);
    return;
  }
  if (!ok(state, expectEmptyQueue(**protocol), checks)) return;
  checks->pass();
  protocol->reset();
  backlog->release();
  state.SetItemsProcessed(static_cast<int64_t>(result.changes));
  state.counters["sessions"] = benchmark::Counter(static_cast<double>(result.sessions));
}

// ---- 2: memory, measured in a child forked at start-up ----

struct MemoryReport {
  bool ran;
  char error[512];
  uint64_t changes, frames, bytes;
  double fill_seconds, session_seconds;
  int64_t start_rss, fill_peak, session_peak, peak;
  bool peak_reset;
};

absl::Status fillThroughProtocol(AgentSyncProtocol& protocol, uint64_t changes) {
  std::vector<Change> batch;
  uint64_t next = 0;
  while (next < changes) {
    batch.resize(std::min<uint64_t>(kFillBatchChanges, changes - next));
    fillBatch("doc-", &next, &batch);
    if (absl::Status s = protocol.queue().recordBatch(batch); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status measureMemory(uint64_t changes, MemoryReport* report) {
  report->start_rss = residentBytes();
  absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::create("asp-session-memory");
  if (!dir.ok()) return dir.status();
  SinkTransport sink(kModule, kSessionId);
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol =
      openProtocol((*dir)->newDbPath("backlog"), &sink);
  if (!protocol.ok()) return protocol.status();

  SteadyClock::time_point start = SteadyClock::now();
  if (absl::Status s = fillThroughProtocol(**protocol, changes); !s.ok()) return s;
  report->fill_seconds = secondsBetween(start, SteadyClock::now());
  report->fill_peak = peakResidentBytes();
  report->peak_reset = resetPeakResident();

  start = SteadyClock::now();
  const SyncResult result = (*protocol)->synchronizeModule(Mode::kDelta);
  report->session_seconds = secondsBetween(start, SteadyClock::now());
  report->session_peak = peakResidentBytes();
  report->peak =
      report->peak_reset ? std::max(report->fill_peak, report->session_peak) : report->session_peak;
  report->changes = result.changes;
  report->frames = result.frames_sent;
  report->bytes = result.bytes_sent;
  if (!result.ok()) return toStatus(result);
  if (!sink.tally().complete()) return absl::InternalError(sink.describe());
  return absl::OkStatus();
}

MemoryReport probeMemory(uint64_t changes) {
  MemoryReport report{};
  if (!filterSelects("memory")) {
    std::snprintf(report.error, sizeof(report.error), "skipped (--benchmark_filter)");
    return report;
  }
  std::cout << "Measuring the memory of a " << changes << "-change session in a child process"
            << std::endl;
  const absl::Status forked = runInForkedChild<MemoryReport>(
      [changes](MemoryReport* child) {
        const absl::Status status = measureMemory(changes, child);
        child->ran = status.ok();
        std::snprintf(child->error, sizeof(child->error), "%s",
                      std::string(status.message()).c_str());
      },
      &report);
  if (!forked.ok()) {
    std::snprintf(report.error, sizeof(report.error), "%s", std::string(forked.message()).c_str());
  }
  return report;
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / kMiB; }

void reportMemory(benchmark::State& state, const MemoryReport* report) {
  if (!report->ran) {
    state.SkipWithError(report->error);
    return;
  }
  for (auto _ : state) state.SetIterationTime(report->session_seconds);
  state.SetItemsProcessed(static_cast<int64_t>(report->changes));
  state.counters["peak_MiB"] = benchmark::Counter(mib(report->peak));
  state.counters["session_peak_MiB"] = benchmark::Counter(mib(report->session_peak));
  state.counters["limit_MiB"] = benchmark::Counter(kPeakLimitMiB);
}

// ---- summary ----

double medianCounter(const ComparisonReporter& reporter, const char* name, const char* counter) {
  return median(reporter.counterPerRound(name, counter));
}

void printSummary(std::ostream& out, const ComparisonReporter& reporter,
                  const Comparison& comparison, const MemoryReport& memory,
                  const Context& context) {
  const RoundBacklog& backlog = *context.backlog;
  const RoundChecks& checks = context.checks;
  out << absl::StrFormat("%-46s %12s %12s %7s %14s %9s  %s\n", "measure (medians over rounds)",
                         "ASP", "plain", "ratio", "[min .. max]", "target", "result");
  const ComparisonOutcome o = reporter.outcome(comparison);
  printSessionComparison(out, comparison, o, 46);
  if (memory.ran) {
    const double peak = mib(memory.peak);
    out << absl::StrFormat("%-46s %10.1f MiB %38s %9s  %s\n", "2 peak RSS of the session (child)",
                           peak, "", absl::StrFormat("< %.0f MiB", kPeakLimitMiB),
                           verdict(peak < kPeakLimitMiB));
  } else {
    out << absl::StrFormat("%-46s (not run: %s)\n", "2 peak RSS of the session (child)",
                           memory.error);
  }
  if (checks.ran > 0) {
    out << absl::StrFormat("%-46s %12s %12s %7s %14s %9s  %s (%d of %d rounds)\n",
                           "  every seq delivered once, queue left empty", "", "", "", "", "all",
                           verdict(checks.allPassed()), checks.verified, checks.ran);
    for (const std::string& failure : checks.failures) out << "    failed: " << failure << "\n";
  }
  if (o.ran()) {
    out << absl::StrFormat(
        "  1: ASP session (medians): %.2f s = begin %.2f s (beginSession) + data %.2f s "
        "(read, pack, send) + end %.2f s (EndAck, commitSession); %.0f frames, %.1f MiB\n",
        static_cast<double>(backlog.changes()) / o.candidate_per_second,
        medianCounter(reporter, kAsp, "begin_s"), medianCounter(reporter, kAsp, "data_s"),
        medianCounter(reporter, kAsp, "end_s"), medianCounter(reporter, kAsp, "frames"),
        medianCounter(reporter, kAsp, "MiB"));
    out << absl::StrFormat(
        "  1: plain: %.2f s, %.0f frames, %.1f MiB, %.0f pages; sink scan %.3f s (ASP) / "
        "%.3f s (plain); untimed: opening the queue %.2f s, closing it %.2f s (the "
        "reclaimer removing the confirmed rows), filling each backlog %.1f s\n",
        static_cast<double>(backlog.changes()) / o.baseline_per_second,
        medianCounter(reporter, kPlain, "frames"), medianCounter(reporter, kPlain, "MiB"),
        medianCounter(reporter, kPlain, "pages"), medianCounter(reporter, kAsp, "sink_s"),
        medianCounter(reporter, kPlain, "sink_s"), medianCounter(reporter, kAsp, "open_s"),
        medianCounter(reporter, kAsp, "close_s"), median(backlog.fillSeconds()));
  }
  if (memory.ran) {
    out << absl::StrFormat(
        "  2: %d changes, %d frames, %.1f MiB; fill (recordBatch of %d) %.1f s, session %.2f s; "
        "RSS at start %.1f MiB, peak after fill %.1f MiB, peak over the session %.1f MiB%s\n",
        memory.changes, memory.frames, mib(static_cast<int64_t>(memory.bytes)), kFillBatchChanges,
        memory.fill_seconds, memory.session_seconds, mib(memory.start_rss), mib(memory.fill_peak),
        mib(memory.session_peak),
        memory.peak_reset ? "" : " (peak not resettable: includes the fill)");
  }
}

// ---- main ----

int run(int argc, char** argv) {
  const uint64_t changes = takeUintFlag("--changes=", kDefaultChanges, &argc, argv);
  if (absl::Status s = takeIdsFlag(&argc, argv); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // First, while this process is still small and has no threads.
  const MemoryReport memory = probeMemory(changes);

  absl::StatusOr<std::unique_ptr<ScratchDir>> scratch = ScratchDir::create("asp-session-bench");
  if (!scratch.ok()) {
    std::cerr << scratch.status() << "\n";
    return 1;
  }
  std::cout << "Scratch directory: " << (*scratch)->path() << std::endl;
  RoundBacklog backlog(scratch->get(), changes);
  Context context;
  context.backlog = &backlog;

  for (int round = 1; round <= kRounds; ++round) {
    registerSessionRound(kPlain, round, plainReadAndPack, &context);
    registerSessionRound(kAsp, round, aspDeltaSession, &context);
    registerSessionRound(kBounded, round, aspBoundedDrain, &context);
  }
  benchmark::RegisterBenchmark(kMemory, reportMemory, &memory)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);

  const Comparison comparison{"1 DELTA session vs plain read+pack (changes/s)", kAsp, kPlain,
                              kTargetRatio};
  const Comparison bounded{"3 the backlog in sessions of 100k vs in one (changes/s)", kBounded,
                           kAsp, kBoundedTargetRatio};
  ComparisonReporter reporter({comparison, bounded});
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  backlog.release();

  std::cout << absl::StrFormat(
      "\n==== Summary: DELTA session of %d changes through AgentSyncProtocol (SQLite queue, "
      "in-process sink manager) vs a plain program (plain SQL pages + protobuf DataBatch), ids: "
      "%s ====\n",
      changes, idShapeName(idShape()));
  printSummary(std::cout, reporter, comparison, memory, context);
  printSessionComparison(std::cout, bounded, reporter.outcome(bounded), 46);
  return 0;
}

}  // namespace
}  // namespace asp::bench

int main(int argc, char** argv) { return asp::bench::run(argc, argv); }
