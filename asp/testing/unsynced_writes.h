// UnsyncedWrites: what a power loss takes back from the files FaultVfs (fault_vfs.h)
// writes, in the manner of LevelDB's DropUnsyncedFileData.
//
// Per file, by path: the size it had at its last sync and, for each write or truncation
// since, the synced bytes it replaced. dropAll() puts every file back the way its last
// sync left it. The model, and what it leaves out:
//  - A file that already existed when opened counts as synced as it is; one created
//    by the open starts empty and synced. A file is forgotten when its last handle
//    closes with nothing unsynced (so what other connections do to it in between, not
//    through FaultVfs, is taken as it is at the next open).
//  - Nothing written since a sync survives (the harshest case: no write reaches the
//    platter early, so nothing unsynced can be half there either).
//  - Deleting a file is durable at once (SQLite deletes a WAL or journal only after
//    syncing what it protected); a directory sync is not modelled.
//  - The WAL index of a database (its -shm file) lives in shared memory: a power loss
//    zeroes it (in place: connections still map it), and the next connection after all
//    the old ones have closed rebuilds it from the WAL.
//
// Not thread-safe: FaultVfs serializes every call (and the real I/O beside it).
#ifndef ASP_TESTING_UNSYNCED_WRITES_H_
#define ASP_TESTING_UNSYNCED_WRITES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace asp::testing {

class UnsyncedWrites {
 public:
  // Reads `length` bytes at `offset` of the file about to change, through the handle
  // that changes it (a descriptor of our own, once closed, would drop SQLite's POSIX
  // locks on the file). Bytes past the end of the file read as zeros.
  using ReadAt = std::function<void(char* buffer, int64_t length, int64_t offset)>;

  // `path` was opened; `size_before_open` is its size before the open, -1 when the
  // open created it. A file still tracked (another handle has it open, or it was
  // closed with writes unsynced) keeps its state: a power loss takes those writes back
  // all the same.
  void opened(const std::string& path, int64_t size_before_open, bool is_database);
  // A handle of `path` was closed.
  void closed(const std::string& path);
  // Before `length` bytes are written at `offset` of `path`.
  void beforeWrite(const std::string& path, int64_t offset, int64_t length, const ReadAt& read);
  // Before `path`, now `current_size` bytes long, is truncated to `size`.
  void beforeTruncate(const std::string& path, int64_t size, int64_t current_size,
                      const ReadAt& read);
  // `path` was synced when `size` bytes long: all of it is durable now.
  void synced(const std::string& path, int64_t size);
  void deleted(const std::string& path);

  // The power goes off: every tracked file gets back the bytes of its last sync, and
  // every database's -shm file is zeroed. Returns how many bytes were written since
  // the last syncs, over all files (what the power loss took back).
  uint64_t dropAll();

  // Bytes written to `path` since its last sync (0 when untracked).
  uint64_t unsyncedBytes(const std::string& path) const;

 private:
  struct Saved {
    int64_t offset;
    std::string bytes;  // what the synced file held there
  };
  struct File {
    int64_t synced_size = 0;
    bool is_database = false;
    uint64_t unsynced_bytes = 0;
    std::vector<Saved> saved;  // oldest first
    int handles = 0;           // open through FaultVfs
  };

  // Keeps the synced bytes of [begin, end) of `file` before they change.
  static void save(File& file, int64_t begin, int64_t end, const ReadAt& read);
  static void restore(const std::string& path, File& file);
  static void zeroWalIndex(const std::string& database_path);

  std::map<std::string, File> files_;
};

}  // namespace asp::testing

#endif  // ASP_TESTING_UNSYNCED_WRITES_H_
