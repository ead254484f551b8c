// AsyncCommitter: the opt-in asynchronous recording mode of a change queue.
//
// add() returns as soon as the changes are in a bounded in-memory buffer; a background
// thread hands them to `commit` in batches (one transaction each) in the order they
// were added. When adding would take the buffer over `buffer_bytes`, add() blocks until
// the committer makes room (an empty buffer always admits one unit): backpressure,
// never unbounded growth.
//
// Durability: a change is durable only once a flush() that started after its add()
// has returned OK. Until then it lives only in this process's memory and a crash loses
// it. flush() returns the commit error if committing fails (disk full, say); the
// changes stay buffered and the committer retries them with exponential backoff
// (`retry_initial` doubling up to `retry_max`), so nothing is dropped while the process
// lives. The destructor drains the buffer; if that fails, what is left is discarded
// (it was never acknowledged as durable).
//
// Thread-safety: add() and flush() may be called from any number of threads.
#ifndef ASP_STORAGE_ASYNC_COMMITTER_H_
#define ASP_STORAGE_ASYNC_COMMITTER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asp/base/clock.h"
#include "asp/storage/change.h"

namespace asp {

class AsyncCommitter {
 public:
  // Commits the given parts, in order, in one transaction: all or none.
  using CommitFn = std::function<absl::Status(const std::vector<absl::Span<const Change>>&)>;

  struct Options {
    size_t buffer_bytes = 4 << 20;
    size_t max_batch_changes = 8192;
    absl::Duration retry_initial = absl::Milliseconds(50);
    absl::Duration retry_max = absl::Seconds(5);
    Clock* clock = nullptr;  // systemClock() when null
  };

  AsyncCommitter(CommitFn commit, Options options);
  ~AsyncCommitter();
  AsyncCommitter(const AsyncCommitter&) = delete;
  AsyncCommitter& operator=(const AsyncCommitter&) = delete;

  // Buffers `changes` as one unit (committed in one transaction). Blocks while the
  // buffer is full. Never fails today; returns a status for future limits.
  absl::Status add(std::vector<Change> changes);

  // Returns OK once everything added before the call is committed, or the error of
  // the first commit attempt begun after the call that fails (the changes stay buffered
  // and are retried; call flush() again to wait for them). An attempt already under way
  // when flush() is called does not count: once the cause is gone (disk space freed), a
  // new flush() reports the outcome of a commit tried after it.
  absl::Status flush();

  // Bytes currently buffered (approximate memory held).
  size_t bufferedBytes() const;

 private:
  struct Unit {
    std::vector<Change> changes;
    size_t bytes = 0;
  };

  void run();
  // Takes the next batch (front units, not popped) under `lock`.
  std::vector<absl::Span<const Change>> nextBatch(size_t* units) const;

  const CommitFn commit_;
  const Options options_;
  Clock* const clock_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // committer: units or stop
  std::condition_variable space_cv_;  // add(): room in the buffer
  std::condition_variable done_cv_;   // flush(): a commit attempt finished
  std::deque<Unit> buffer_;
  size_t buffered_bytes_ = 0;
  uint64_t added_ = 0;             // units ever added
  uint64_t committed_ = 0;         // units ever committed
  uint64_t attempts_started_ = 0;  // commit attempts begun (numbered from 1)
  uint64_t failed_attempt_ = 0;    // number of the latest attempt that failed
  absl::Status failure_;           // and its error
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace asp

#endif  // ASP_STORAGE_ASYNC_COMMITTER_H_
