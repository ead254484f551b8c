// FaultVfs: an SQLite VFS for tests that wraps the default one, counts writes, syncs
// and opens, makes chosen operations fail (EIO, ENOSPC) now or after a count, and
// simulates a power loss: what was written but not synced is lost (LevelDB's
// DropUnsyncedFileData; see losePower()).
//
// Register once per process with FaultVfs::get(), then open databases with the VFS
// name kName (SqliteChangeQueue::Options::vfs). Faults apply to every file opened
// through it. Counters, faults and the power are process-wide; reset() clears the
// faults and counters and turns the power back on.
// Thread-safe.
#ifndef ASP_TESTING_FAULT_VFS_H_
#define ASP_TESTING_FAULT_VFS_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace asp::testing {

class FaultVfs {
 public:
  static constexpr const char* kName = "asp-fault";

  enum class Error {
    kIo,    // SQLITE_IOERR (EIO)
    kFull,  // SQLITE_FULL (ENOSPC)
  };

  // The process-wide instance, registered with SQLite on first use.
  static FaultVfs& get();

  // After `successes` more successful writes (or syncs), every further one fails with
  // `error` until reset(). successes = 0 fails the next one.
  void failWritesAfter(int64_t successes, Error error = Error::kIo);
  void failSyncsAfter(int64_t successes, Error error = Error::kIo);
  void failReadsAfter(int64_t successes);
  // Every open through the VFS fails while set.
  void failOpens(bool fail);
  // Every delete through the VFS fails with EACCES (permission denied) while set; the
  // file stays.
  void failDeletes(bool fail);
  // Bit rot: every read comes back with the first byte of each occurrence of `pattern`
  // flipped (the file itself is unchanged). Empty: off.
  void flipOnRead(const std::string& pattern);
  // Clears faults and counters; after a power loss, the power is back on.
  void reset();

  // ---- Power loss ----
  // From its first open, every named file opened through the VFS is tracked: the bytes
  // it held at its last sync (xSync) are on the disk, what was written or truncated
  // since is in the page cache only (the model: unsynced_writes.h).
  //
  // The power goes off now: every tracked file gets back the bytes of its last sync,
  // the WAL index of every database (its -shm file, shared memory) is zeroed so SQLite
  // rebuilds it from the WAL, and the machine stays off until reset(): writes,
  // truncations, syncs and deletes through the VFS are discarded (and reported done),
  // opens fail. Connections still open stand for processes that died with the machine:
  // close them all before reset() and before opening the files again.
  void losePower();
  // The power goes off inside the write that follows `successes` more writes (0: the
  // next one); that write is discarded with everything after it.
  void losePowerAfterWrites(int64_t successes);
  // Whether the power is off (since losePower() or its trigger, until reset()). A call
  // that returns OK while the power is off acknowledged nothing durable.
  bool powerLost() const;
  // Bytes written since their file's last sync that the last power loss took back.
  uint64_t bytesDropped() const;

  uint64_t reads() const { return reads_.load(); }
  uint64_t writes() const { return writes_.load(); }
  uint64_t syncs() const { return syncs_.load(); }
  uint64_t opens() const { return opens_.load(); }
  uint64_t faultsInjected() const { return faults_.load(); }

  // Used by the VFS shims: counts the operation and says whether it must fail.
  bool shouldFailRead();
  bool shouldFailWrite();
  bool shouldFailSync();
  bool shouldFailOpen();
  bool shouldFailDelete();
  // Applies flipOnRead() to a buffer just read.
  void damageRead(void* buffer, int length);
  int writeError() const;
  int syncError() const;

 private:
  FaultVfs() = default;

  std::atomic<uint64_t> reads_{0}, writes_{0}, syncs_{0}, opens_{0}, faults_{0};
  // Remaining successes before failing; negative = never fail.
  std::atomic<int64_t> writes_left_{-1}, syncs_left_{-1}, reads_left_{-1};
  std::atomic<bool> fail_opens_{false};
  std::atomic<bool> fail_deletes_{false};
  std::atomic<int> write_error_{0}, sync_error_{0};
  std::mutex flip_mu_;
  std::string flip_pattern_;
  std::atomic<bool> flipping_{false};
};

}  // namespace asp::testing

#endif  // ASP_TESTING_FAULT_VFS_H_
