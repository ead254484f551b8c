// The benchmark functions of //bench:storage_bench: one per side of each comparison
// between SqliteChangeQueue and plain SQLite (BaselineDb). storage_bench.cc pairs,
// registers and summarizes them.
//
// Every function opens its own database file in the directory given to
// setScratchDir() and deletes it when done. Both sides of a comparison do the same
// work with the same ids, data and durability; the sizes below are shared so that
// registration (iteration counts) and reporting agree with what the functions do.
#ifndef BENCH_STORAGE_BENCHMARKS_H_
#define BENCH_STORAGE_BENCHMARKS_H_

#include <cstddef>
#include <cstdint>

#include "asp/storage/sqlite_change_queue.h"
#include "bench/session_memory_probe.h"
#include "bench/storage_bench_support.h"
#include "benchmark/benchmark.h"

namespace asp::bench {

// Changes per recordBatch() in comparison 2.
inline constexpr size_t kBatchChanges = 1000;
// Changes recorded before each flush() in comparison 4.
inline constexpr int64_t kAsyncChanges = 100000;
// Changes written, in one transaction, before timing comparisons 1-3 (see warmUp()).
inline constexpr size_t kWarmUpChanges = 20000;

// Where the functions below create their files. Set before running any of them.
void setScratchDir(ScratchDir* dir);

// 1 and 3, baseline: one INSERT per iteration, each its own transaction. `streams`
// interleaved id streams ("t<k>-doc-<n>"): 8 writes the ids the 8 threads of 3 write.
void sqliteAutocommit(benchmark::State& state, Durability durability, int streams);
// 1: record() per iteration, kProcessCrash.
void queueRecord(benchmark::State& state);

// 2: one transaction (or recordBatch) of kBatchChanges per iteration.
void sqliteBatch(benchmark::State& state);
void queueBatch(benchmark::State& state);

// 3: record() per iteration from every benchmark thread into one shared kPowerLoss queue.
void queueRecordConcurrently(benchmark::State& state);
// 3, the ceiling: one thread INSERTs the same changes as the baseline (`streams` id
// streams), `streams` per FULL transaction: the most a group of that many can gain over
// one INSERT per transaction, with no thread to wake between commits.
void sqliteGroupsOfStreams(benchmark::State& state, int streams);

// 4: kAsyncChanges INSERTs in one transaction, or kAsyncChanges record() then flush() in
// asynchronous mode, per iteration, each into a fresh file. queueAsync also reports
// the growth of the peak resident set (peak_rss_growth_MiB).
void sqliteOneTransaction(benchmark::State& state);
void queueAsync(benchmark::State& state);

// 5: reports what runSessionProbeInChild() measured (manual time: begin + read).
void sessionOverBacklog(benchmark::State& state, const SessionProbeResult* probe,
                        double peak_limit_mib);

}  // namespace asp::bench

#endif  // BENCH_STORAGE_BENCHMARKS_H_
