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
//   4. asynchronous: 100k record() + flush() vs one transaction        >= 0.5
//   5. beginSession + paged readInFlight over 1M pending changes: peak RSS < 64 MiB
// The ratios appear as counters (pct_of_base, target_pct) and in a summary at the end.
// Only real (wall-clock) time matters for I/O, so every benchmark uses it.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "asp/storage/sqlite_change_queue.h"
#include "benchmark/benchmark.h"
#include "bench/comparison_reporter.h"
#include "bench/session_memory_probe.h"
#include "bench/storage_bench_support.h"

namespace asp::bench {
namespace {

constexpr size_t kBatchChanges = 1000;
constexpr int kWriterThreads = 8;
constexpr int64_t kAsyncChanges = 100000;
constexpr uint64_t kDefaultSessionChanges = 1000000;
constexpr size_t kSessionPageBytes = 256 * 1024;
constexpr double kSessionPeakLimitMiB = 64;

constexpr char kSingleSqlite[] = "1_single/sqlite_autocommit_insert";
constexpr char kSingleQueue[] = "1_single/queue_record";
constexpr char kBatchSqlite[] = "2_batch/sqlite_1000_inserts_in_txn";
constexpr char kBatchQueue[] = "2_batch/queue_recordBatch_1000";
constexpr char kPowerLossSqlite[] = "3_power_loss/sqlite_full_autocommit_1_thread";
constexpr char kPowerLossQueue[] = "3_power_loss/queue_record_8_threads";
constexpr char kAsyncSqlite[] = "4_async/sqlite_100k_inserts_in_txn";
constexpr char kAsyncQueue[] = "4_async/queue_100k_record_then_flush";
constexpr char kSession[] = "5_session/begin_and_read_1M_in_child";

ScratchDir* g_scratch = nullptr;  // set by main() before any benchmark runs

// A scratch database path whose files are deleted when it goes out of scope. Declare it
// before the queue or connection using it, so that it outlives them.
class ScratchDb {
 public:
  explicit ScratchDb(absl::string_view stem) : path_(g_scratch->newDbPath(stem)) {}
  ~ScratchDb() { removeDbFiles(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// False (and the benchmark marked failed) unless `status` is OK.
bool ok(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(std::string(status.message()).c_str());
  return false;
}

std::unique_ptr<SqliteChangeQueue> openQueue(benchmark::State& state, const std::string& path,
                                             Durability durability, bool asynchronous) {
  SqliteChangeQueue::Options options;
  options.path = path;
  options.durability = durability;
  options.asynchronous = asynchronous;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue =
      SqliteChangeQueue::open(std::move(options));
  if (!ok(state, queue.status())) return nullptr;
  return *std::move(queue);
}

std::unique_ptr<BaselineDb> openBaseline(benchmark::State& state, const std::string& path,
                                         Durability durability) {
  absl::StatusOr<std::unique_ptr<BaselineDb>> db = BaselineDb::open(path, durability);
  if (!ok(state, db.status())) return nullptr;
  return *std::move(db);
}

// ---- 1 and 3 (baseline): one change per transaction ----

void sqliteAutocommit(benchmark::State& state, Durability durability) {
  ScratchDb file("autocommit");
  std::unique_ptr<BaselineDb> db = openBaseline(state, file.path(), durability);
  if (db == nullptr) return;
  Change change;
  uint64_t n = 0;
  for (auto _ : state) {
    fillChange("doc-", n++, &change);
    if (!ok(state, db->insert(change))) break;
  }
  state.SetItemsProcessed(state.iterations());
}

void queueRecord(benchmark::State& state) {
  ScratchDb file("record");
  std::unique_ptr<SqliteChangeQueue> queue =
      openQueue(state, file.path(), Durability::kProcessCrash, /*asynchronous=*/false);
  if (queue == nullptr) return;
  Change change;
  uint64_t n = 0;
  for (auto _ : state) {
    fillChange("doc-", n++, &change);
    if (!ok(state, queue->record(change))) break;
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- 2: batches of kBatchChanges ----

void sqliteBatch(benchmark::State& state) {
  ScratchDb file("batch-sqlite");
  std::unique_ptr<BaselineDb> db = openBaseline(state, file.path(), Durability::kProcessCrash);
  if (db == nullptr) return;
  std::vector<Change> batch(kBatchChanges);
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();  // building the changes is the caller's work, not storage's
    fillBatch("doc-", &n, &batch);
    state.ResumeTiming();
    absl::Status status = db->begin();
    for (size_t i = 0; status.ok() && i < batch.size(); ++i) status = db->insert(batch[i]);
    if (status.ok()) status = db->commit();
    if (!ok(state, status)) break;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatchChanges));
}

void queueBatch(benchmark::State& state) {
  ScratchDb file("batch-queue");
  std::unique_ptr<SqliteChangeQueue> queue =
      openQueue(state, file.path(), Durability::kProcessCrash, /*asynchronous=*/false);
  if (queue == nullptr) return;
  std::vector<Change> batch(kBatchChanges);
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fillBatch("doc-", &n, &batch);
    state.ResumeTiming();
    if (!ok(state, queue->recordBatch(batch))) break;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatchChanges));
}

// ---- 3: concurrent writers at kPowerLoss, sharing one queue ----

// Set by thread 0 before the benchmark loop and reset after it; Google Benchmark
// holds every thread at a barrier when the loop starts and when it ends.
std::unique_ptr<ScratchDb> g_shared_file;
std::unique_ptr<SqliteChangeQueue> g_shared_queue;

void queueRecordConcurrently(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_shared_file = std::make_unique<ScratchDb>("concurrent");
    g_shared_queue =
        openQueue(state, g_shared_file->path(), Durability::kPowerLoss, /*asynchronous=*/false);
  }
  // Distinct ids per thread: coalescing would otherwise merge the threads' changes.
  const std::string prefix = absl::StrFormat("t%d-doc-", state.thread_index());
  Change change;
  uint64_t n = 0;
  for (auto _ : state) {
    if (g_shared_queue == nullptr) {
      state.SkipWithError("the shared queue did not open");
      break;
    }
    fillChange(prefix, n++, &change);
    if (!ok(state, g_shared_queue->record(change))) break;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    g_shared_queue.reset();
    g_shared_file.reset();
  }
}

// ---- 4: 100k changes, then durable ----

void sqliteOneTransaction(benchmark::State& state) {
  Change change;
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();  // a fresh file each time, as for the queue below
    ScratchDb file("txn-sqlite");
    std::unique_ptr<BaselineDb> db = openBaseline(state, file.path(), Durability::kProcessCrash);
    state.ResumeTiming();
    if (db == nullptr) break;
    absl::Status status = db->begin();
    for (int64_t i = 0; status.ok() && i < kAsyncChanges; ++i) {
      fillChange("doc-", n++, &change);
      status = db->insert(change);
    }
    if (status.ok()) status = db->commit();
    state.PauseTiming();
    db.reset();
    state.ResumeTiming();
    if (!ok(state, status)) break;
  }
  state.SetItemsProcessed(state.iterations() * kAsyncChanges);
}

absl::Status recordThenFlush(SqliteChangeQueue& queue, uint64_t* n) {
  Change change;
  for (int64_t i = 0; i < kAsyncChanges; ++i) {
    fillChange("doc-", (*n)++, &change);
    if (absl::Status s = queue.record(change); !s.ok()) return s;
  }
  return queue.flush();
}

void queueAsync(benchmark::State& state) {
  // The buffer is bounded (AsyncCommitter::Options::buffer_bytes) but not observable
  // from outside the queue, so the process's peak resident growth stands in for it.
  const bool peak_reset = resetPeakResident();
  const int64_t resident_before = residentBytes();
  const int64_t max_before = maxResidentBytesEver();
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ScratchDb file("async-queue");
    std::unique_ptr<SqliteChangeQueue> queue =
        openQueue(state, file.path(), Durability::kProcessCrash, /*asynchronous=*/true);
    state.ResumeTiming();
    if (queue == nullptr) break;
    const absl::Status status = recordThenFlush(*queue, &n);
    state.PauseTiming();
    queue.reset();
    state.ResumeTiming();
    if (!ok(state, status)) break;
  }
  state.SetItemsProcessed(state.iterations() * kAsyncChanges);
  const int64_t growth = peak_reset ? peakResidentBytes() - resident_before
                                    : maxResidentBytesEver() - max_before;
  state.counters["peak_rss_growth_MiB"] = benchmark::Counter(static_cast<double>(growth) / kMiB);
  state.counters["buffer_bound_MiB"] = benchmark::Counter(
      static_cast<double>(AsyncCommitter::Options().buffer_bytes) / kMiB);
}

// ---- 5: measured in a child by runSessionProbeInChild(); reported here ----

void sessionOverBacklog(benchmark::State& state, const SessionProbeResult* probe) {
  if (!probe->ran) {
    state.SkipWithError(probe->error.c_str());
    return;
  }
  for (auto _ : state) state.SetIterationTime(probe->begin_seconds + probe->read_seconds);
  state.SetItemsProcessed(static_cast<int64_t>(probe->changes));
  state.counters["begin_s"] = benchmark::Counter(probe->begin_seconds);
  state.counters["read_s"] = benchmark::Counter(probe->read_seconds);
  state.counters["pages"] = benchmark::Counter(static_cast<double>(probe->pages));
  state.counters["peak_rss_MiB"] =
      benchmark::Counter(static_cast<double>(probe->peak_bytes) / kMiB);
  state.counters["limit_MiB"] = benchmark::Counter(kSessionPeakLimitMiB);
}

void registerBenchmarks(const SessionProbeResult* probe) {
  const auto ms = benchmark::kMillisecond;
  benchmark::RegisterBenchmark(kSingleSqlite, sqliteAutocommit, Durability::kProcessCrash)
      ->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(kSingleQueue, queueRecord)
      ->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(kBatchSqlite, sqliteBatch)->UseRealTime()->MinTime(1.0)->Unit(ms);
  benchmark::RegisterBenchmark(kBatchQueue, queueBatch)->UseRealTime()->MinTime(1.0)->Unit(ms);
  benchmark::RegisterBenchmark(kPowerLossSqlite, sqliteAutocommit, Durability::kPowerLoss)
      ->UseRealTime()->MinTime(2.0)->Unit(ms);
  benchmark::RegisterBenchmark(kPowerLossQueue, queueRecordConcurrently)
      ->Threads(kWriterThreads)->UseRealTime()->MinTime(2.0)->Unit(ms);
  benchmark::RegisterBenchmark(kAsyncSqlite, sqliteOneTransaction)
      ->UseRealTime()->Iterations(3)->Unit(ms);
  benchmark::RegisterBenchmark(kAsyncQueue, queueAsync)->UseRealTime()->Iterations(3)->Unit(ms);
  benchmark::RegisterBenchmark(kSession, sessionOverBacklog, probe)
      ->UseManualTime()->Iterations(1)->Unit(ms);
}

std::vector<Comparison> comparisons() {
  return {
      {"1 record() vs autocommit INSERT", kSingleQueue, kSingleSqlite, 0.9},
      {"2 recordBatch(1000) vs INSERTs in 1 txn", kBatchQueue, kBatchSqlite, 0.8},
      {"3 8 threads kPowerLoss vs 1 thread FULL", kPowerLossQueue, kPowerLossSqlite, 4.0},
      {"4 async 100k record()+flush() vs 1 txn", kAsyncQueue, kAsyncSqlite, 0.5},
  };
}

const char* verdict(bool pass) { return pass ? "PASS" : "FAIL"; }

void printComparisons(std::ostream& out, const ComparisonReporter& reporter) {
  out << absl::StrFormat("%-42s %14s %14s %8s %8s  %s\n", "measure", "queue/s", "sqlite/s",
                         "ratio", "target", "result");
  for (const Comparison& comparison : reporter.comparisons()) {
    const ComparisonOutcome o = reporter.outcome(comparison);
    if (!o.ran) {
      out << absl::StrFormat("%-42s %s\n", comparison.measure, "(not run)");
      continue;
    }
    out << absl::StrFormat("%-42s %14.0f %14.0f %7.2fx %6s%.1f  %s\n", comparison.measure,
                           o.candidate_per_second, o.baseline_per_second, o.ratio,
                           ">=", comparison.target, verdict(o.pass));
  }
  const std::optional<double> growth =
      reporter.counter(kAsyncQueue, "peak_rss_growth_MiB");
  if (growth.has_value()) {
    out << absl::StrFormat("  4: peak RSS growth while recording %d changes: %.1f MiB "
                           "(async buffer bound %.0f MiB)\n",
                           kAsyncChanges, *growth,
                           static_cast<double>(AsyncCommitter::Options().buffer_bytes) / kMiB);
  }
}

void printSession(std::ostream& out, const SessionProbeResult& probe) {
  if (!probe.ran) {
    out << "5 session over a backlog: not run" << (probe.error.empty() ? "" : ": ")
        << probe.error << "\n";
    return;
  }
  const double peak_mib = static_cast<double>(probe.peak_bytes) / kMiB;
  out << absl::StrFormat(
      "5 session over %d pending changes: begin %.2f s, read %.2f s (%d pages of %d KiB); "
      "child peak RSS %.1f MiB, target < %.0f MiB  %s\n",
      probe.changes, probe.begin_seconds, probe.read_seconds, probe.pages,
      probe.page_bytes / 1024, peak_mib, kSessionPeakLimitMiB,
      verdict(peak_mib < kSessionPeakLimitMiB));
  out << absl::StrFormat(
      "  5: fill (recordBatch of 10k) %.1f s; RSS at start %.1f MiB, peak after fill %.1f MiB, "
      "peak over begin+read %.1f MiB%s; SQLite heap peak over begin+read %.1f MiB\n",
      probe.fill_seconds, static_cast<double>(probe.start_rss_bytes) / kMiB,
      static_cast<double>(probe.fill_peak_bytes) / kMiB,
      static_cast<double>(probe.session_peak_bytes) / kMiB,
      probe.peak_reset ? "" : " (peak not resettable: includes the fill)",
      static_cast<double>(probe.sqlite_heap_peak_bytes) / kMiB);
}

// Whether --benchmark_filter selects `name`, as Google Benchmark reads it: a regular
// expression, negated by a leading '-'. The session probe is too slow to run for nothing.
bool filterSelects(const std::string& name) {
  std::string filter = benchmark::GetBenchmarkFilter();
  if (filter.empty() || filter == "all") return true;
  const bool negated = filter[0] == '-';
  if (negated) filter.erase(0, 1);
  return std::regex_search(name, std::regex(filter, std::regex::extended)) != negated;
}

// Removes our own --session_changes=N from argv (Google Benchmark rejects unknown flags).
uint64_t takeSessionChangesFlag(int* argc, char** argv) {
  uint64_t changes = kDefaultSessionChanges;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--session_changes=") && absl::SimpleAtoi(arg, &changes)) {
      continue;
    }
    argv[kept++] = argv[i];
  }
  *argc = kept;
  return changes;
}

int run(int argc, char** argv) {
  const uint64_t session_changes = takeSessionChangesFlag(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // First, while this process is still small: the child starts with our resident set.
  SessionProbeResult probe;
  if (session_changes == 0 || !filterSelects(kSession)) {
    probe.error = "skipped (--session_changes=0 or --benchmark_filter)";
  } else {
    std::cout << "Measuring a session over " << session_changes
              << " pending changes in a child process..." << std::endl;
    probe = runSessionProbeInChild(session_changes, kSessionPageBytes);
  }

  absl::StatusOr<std::unique_ptr<ScratchDir>> scratch = ScratchDir::create("asp-storage-bench");
  if (!scratch.ok()) {
    std::cerr << scratch.status() << "\n";
    return 1;
  }
  g_scratch = scratch->get();
  std::cout << "Scratch directory: " << g_scratch->path() << std::endl;

  registerBenchmarks(&probe);
  ComparisonReporter reporter(comparisons(), isatty(STDOUT_FILENO) != 0
                                                 ? benchmark::ConsoleReporter::OO_Color
                                                 : benchmark::ConsoleReporter::OO_None);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::cout << "\n==== Summary: SqliteChangeQueue vs plain SQLite (same schema, pragmas and "
               "prepared statements) ====\n";
  printComparisons(std::cout, reporter);
  printSession(std::cout, probe);
  return 0;
}

}  // namespace
}  // namespace asp::bench

int main(int argc, char** argv) { return asp::bench::run(argc, argv); }
