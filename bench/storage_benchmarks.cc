#include "bench/storage_benchmarks.h"

#include <malloc.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace asp::bench {
namespace {

ScratchDir* g_scratch = nullptr;  // see setScratchDir()

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

// Id prefixes of `streams` interleaved streams of changes, "t<k>-doc-": one per writer
// thread, so that the single-threaded baseline of comparison 3 writes the same ids as
// the eight threads (ids decide which index pages each commit touches).
std::vector<std::string> streamPrefixes(int streams) {
  std::vector<std::string> prefixes;
  for (int k = 0; k < streams; ++k) prefixes.push_back(absl::StrFormat("t%d-doc-", k));
  return prefixes;
}

// The i-th change of the interleaved streams: stream i % streams, its (i / streams)-th.
void fillStreamChange(const std::vector<std::string>& prefixes, uint64_t i, Change* change) {
  fillChange(prefixes[i % prefixes.size()], i / prefixes.size(), change);
}

// False (and the benchmark marked failed) unless `status` is OK.
bool ok(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(std::string(status.message()).c_str());
  return false;
}

// Brings a fresh file to the steady state of a long-lived queue before timing: one
// transaction of more WAL frames than the autocheckpoint (1000 pages) makes the WAL reach
// its working size, so later commits overwrite it in place. While a WAL still grows,
// every fsync must also write the file's new size, which on the reference machine
// doubles an autocommit's latency for its first few hundred commits.
std::vector<Change> warmUpChanges() {
  std::vector<Change> changes(kWarmUpChanges);
  uint64_t next = 0;
  fillBatch("warm-", &next, &changes);
  return changes;
}

absl::Status warmUp(BaselineDb& db) {
  absl::Status status = db.begin();
  for (const Change& change : warmUpChanges()) {
    if (status.ok()) status = db.insert(change);
  }
  return status.ok() ? db.commit() : status;
}

absl::Status warmUp(SqliteChangeQueue& queue) { return queue.recordBatch(warmUpChanges()); }

std::unique_ptr<SqliteChangeQueue> openQueue(benchmark::State& state, const std::string& path,
                                             Durability durability, bool asynchronous) {
  SqliteChangeQueue::Options options;
  options.path = path;
  options.durability = durability;
  options.asynchronous = asynchronous;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue =
      SqliteChangeQueue::open(std::move(options));
  if (!ok(state, queue.status())) return nullptr;
  if (!asynchronous && !ok(state, warmUp(**queue))) return nullptr;
  return *std::move(queue);
}

std::unique_ptr<BaselineDb> openBaseline(benchmark::State& state, const std::string& path,
                                         Durability durability, bool warm) {
  absl::StatusOr<std::unique_ptr<BaselineDb>> db = BaselineDb::open(path, durability);
  if (!ok(state, db.status())) return nullptr;
  if (warm && !ok(state, warmUp(**db))) return nullptr;
  return *std::move(db);
}

// The queue all threads of queueRecordConcurrently() share. Thread 0 sets it before the
// benchmark loop and resets it after; Google Benchmark holds every thread at a barrier
// when the loop starts and when it ends, so no thread sees it half made.
std::unique_ptr<ScratchDb> g_shared_file;
std::unique_ptr<SqliteChangeQueue> g_shared_queue;

absl::Status insertInOneTransaction(BaselineDb& db, uint64_t* n) {
  absl::Status status = db.begin();
  Change change;
  for (int64_t i = 0; status.ok() && i < kAsyncChanges; ++i) {
    fillChange("doc-", (*n)++, &change);
    status = db.insert(change);
  }
  return status.ok() ? db.commit() : status;
}

absl::Status recordThenFlush(SqliteChangeQueue& queue, uint64_t* n) {
  Change change;
  for (int64_t i = 0; i < kAsyncChanges; ++i) {
    fillChange("doc-", (*n)++, &change);
    if (absl::Status s = queue.record(change); !s.ok()) return s;
  }
  return queue.flush();
}

}  // namespace

void setScratchDir(ScratchDir* dir) { g_scratch = dir; }

// ---- 1 and 3 (baseline): one change per transaction ----

void sqliteAutocommit(benchmark::State& state, Durability durability, int streams) {
  ScratchDb file("autocommit");
  std::unique_ptr<BaselineDb> db = openBaseline(state, file.path(), durability, /*warm=*/true);
  if (db == nullptr) return;
  const std::vector<std::string> prefixes = streamPrefixes(streams);
  Change change;
  uint64_t i = 0;
  for (auto _ : state) {
    fillStreamChange(prefixes, i++, &change);
    if (!ok(state, db->insert(change))) break;
  }
  state.SetItemsProcessed(state.iterations());
}

void queueRecord(benchmark::State& state) {
  ScratchDb file("record");
  std::unique_ptr<SqliteChangeQueue> queue =
      openQueue(state, file.path(), Durability::kProcessCrash, /*asynchronous=*/false);
  if (queue == nullptr) return;
  const std::string prefix = streamPrefixes(1)[0];
  Change change;
  uint64_t n = 0;
  for (auto _ : state) {
    fillChange(prefix, n++, &change);
    if (!ok(state, queue->record(change))) break;
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- 2: batches of kBatchChanges ----

void sqliteBatch(benchmark::State& state) {
  ScratchDb file("batch-sqlite");
  std::unique_ptr<BaselineDb> db =
      openBaseline(state, file.path(), Durability::kProcessCrash, /*warm=*/true);
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

void sqliteGroupsOfStreams(benchmark::State& state, int streams) {
  ScratchDb file("groups");
  std::unique_ptr<BaselineDb> db =
      openBaseline(state, file.path(), Durability::kPowerLoss, /*warm=*/true);
  if (db == nullptr) return;
  const std::vector<std::string> prefixes = streamPrefixes(streams);
  Change change;
  uint64_t i = 0;
  bool open = false;
  for (auto _ : state) {
    if (!open && !ok(state, db->begin())) break;
    open = true;
    fillStreamChange(prefixes, i++, &change);
    if (!ok(state, db->insert(change))) break;
    if (i % prefixes.size() == 0) {
      open = false;
      if (!ok(state, db->commit())) break;
    }
  }
  if (open) (void)ok(state, db->commit());
  state.SetItemsProcessed(state.iterations());
}

void queueRecordConcurrently(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_shared_file = std::make_unique<ScratchDb>("concurrent");
    g_shared_queue =
        openQueue(state, g_shared_file->path(), Durability::kPowerLoss, /*asynchronous=*/false);
  }
  // Distinct ids per thread: coalescing would otherwise merge the threads' changes.
  const std::string prefix = streamPrefixes(state.threads())[state.thread_index()];
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

// ---- 4: 100k changes, then durable; a fresh file for each ----

void sqliteOneTransaction(benchmark::State& state) {
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ScratchDb file("txn-sqlite");
    std::unique_ptr<BaselineDb> db =
        openBaseline(state, file.path(), Durability::kProcessCrash, /*warm=*/false);
    state.ResumeTiming();
    if (db == nullptr) break;
    const absl::Status status = insertInOneTransaction(*db, &n);
    state.PauseTiming();
    db.reset();
    state.ResumeTiming();
    if (!ok(state, status)) break;
  }
  state.SetItemsProcessed(state.iterations() * kAsyncChanges);
}

void queueAsync(benchmark::State& state) {
  // The buffer is bounded (AsyncCommitter::Options::buffer_bytes) but not observable
  // from outside the queue, so the process's peak resident growth stands in for it.
  // malloc_trim first: heap that earlier benchmarks freed but glibc kept resident would
  // otherwise absorb the buffer and hide it.
  malloc_trim(0);
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
  const int64_t growth =
      peak_reset ? peakResidentBytes() - resident_before : maxResidentBytesEver() - max_before;
  state.counters["peak_rss_growth_MiB"] = benchmark::Counter(static_cast<double>(growth) / kMiB);
  state.counters["buffer_bound_MiB"] =
      benchmark::Counter(static_cast<double>(AsyncCommitter::Options().buffer_bytes) / kMiB);
}

// ---- 5: measured in a child by runSessionProbeInChild(); reported here ----

void sessionOverBacklog(benchmark::State& state, const SessionProbeResult* probe,
                        double peak_limit_mib) {
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
  state.counters["limit_MiB"] = benchmark::Counter(peak_limit_mib);
}

}  // namespace asp::bench
