// Helpers of //bench:storage_bench: scratch files, the changes it records, the plain
// SQLite baseline and readings of this process's memory.
//
// The baseline (BaselineDb) is what the queue is compared against: the same table and
// indices as SqliteChangeQueue (its schema is copied here verbatim), the same pragmas
// (WAL; synchronous NORMAL or FULL by Durability), the same open flags, and prepared
// statements, but nothing else: no coalescing lookup, no locks, no group commit. The
// ratio queue/baseline is therefore the price of the queue's bookkeeping.
//
// Not thread-safe: each object belongs to one thread.
#ifndef BENCH_STORAGE_BENCH_SUPPORT_H_
#define BENCH_STORAGE_BENCH_SUPPORT_H_

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "asp/storage/change.h"
#include "asp/storage/sqlite_change_queue.h"

namespace asp::bench {

// Bytes of Change::data in every benchmark: a typical small document.
inline constexpr size_t kDataBytes = 200;

// A fresh directory under $TMPDIR (else /tmp), removed with its contents when
// destroyed. Benchmarks need real files on a real file system: fsync is what is measured.
class ScratchDir {
 public:
  static absl::StatusOr<std::unique_ptr<ScratchDir>> create(absl::string_view prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // A database path not handed out before: "<dir>/<stem>-<n>.db".
  std::string newDbPath(absl::string_view stem);
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  uint64_t next_ = 0;
};

// Deletes a database file and its -wal and -shm companions. Benchmarks write hundreds
// of MiB; deleting each file as soon as it is done keeps the scratch directory small.
void removeDbFiles(const std::string& path);

// Our own flags, taken out of argv before Google Benchmark sees it (it rejects flags it
// does not know). takeFlags() removes every "<prefix><value>" whose value `take`
// accepts and keeps the others in place, in order.
void takeFlags(absl::string_view prefix, int* argc, char** argv,
               const std::function<bool(absl::string_view value)>& take);
// Removes "<prefix><n>" (e.g. "--changes=1000"); returns n, or `fallback` when absent.
// An unparsable value stays in argv, for Google Benchmark to refuse.
uint64_t takeUintFlag(absl::string_view prefix, uint64_t fallback, int* argc, char** argv);

// How fillChange() spells ids. kCounter: "<id_prefix><n>", in recorded order. kHex40:
// 40 lowercase hex digits derived from (id_prefix, n), like the SHA-1 keys of a
// file-integrity module, so the ids come in random order (issue 19 asks for the same
// workload as the published figures). Process-wide; set once, before any work.
enum class IdShape { kCounter, kHex40 };
void setIdShape(IdShape shape);
IdShape idShape();
const char* idShapeName(IdShape shape);

// Sets `change` to the n-th change of a stream: its id as idShape() says, one of 8
// indices, kDataBytes of data, a create. Reuses the strings' capacity, so after the
// first call it allocates nothing: generating changes must not weigh on either side of
// a ratio.
void fillChange(absl::string_view id_prefix, uint64_t n, Change* change);

// Fills every element of `batch` with the next changes of the stream, advancing `*next`.
void fillBatch(absl::string_view id_prefix, uint64_t* next, std::vector<Change>* batch);

class BaselineDb {
 public:
  // Creates `path` with the queue's schema; kProcessCrash -> synchronous=NORMAL,
  // kPowerLoss -> synchronous=FULL, as SqliteChangeQueue::open does.
  static absl::StatusOr<std::unique_ptr<BaselineDb>> open(const std::string& path,
                                                          Durability durability);
  ~BaselineDb();
  BaselineDb(const BaselineDb&) = delete;
  BaselineDb& operator=(const BaselineDb&) = delete;

  // One INSERT of the row the queue would write for a new create. Outside begin() and
  // commit() SQLite wraps it in its own (autocommit) transaction.
  absl::Status insert(const Change& change);
  // BEGIN IMMEDIATE and COMMIT, as the queue's transactions.
  absl::Status begin();
  absl::Status commit();

 private:
  BaselineDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status exec(const char* sql);
  absl::Status prepare(const char* sql, sqlite3_stmt** statement);
  absl::Status run(sqlite3_stmt* statement);
  absl::Status error(absl::string_view action, int rc) const;

  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

// This process's resident set (VmRSS) and its peak (VmHWM), in bytes, from
// /proc/self/status; -1 when unreadable.
int64_t residentBytes();
int64_t peakResidentBytes();

// Resets the peak (VmHWM) to the current resident set (Linux >= 4.0, by writing "5" to
// /proc/self/clear_refs), so that a later peakResidentBytes() covers only what follows.
// False when the kernel refuses; the peak then covers the whole process lifetime.
bool resetPeakResident();

// getrusage(RUSAGE_SELF).ru_maxrss in bytes: the lifetime peak, never reset.
int64_t maxResidentBytesEver();

inline constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace asp::bench

#endif  // BENCH_STORAGE_BENCH_SUPPORT_H_
