#include "asp/testing/fault_vfs.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "asp/testing/unsynced_writes.h"

namespace asp::testing {
namespace {

// A file opened through the shim: our header, then the real file's storage.
struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real;
  std::string* path;  // tracked for power losses; nullptr for a temporary file (no name)
};

// The power supply, and the disk model behind every tracked file (unsynced_writes.h).
// `mu` also serializes the real writes, truncations and syncs of every file opened
// through the shim, so a power loss falls between two of them: a sync happened wholly
// before it (its bytes survive) or not at all.
struct Power {
  std::mutex mu;
  std::atomic<bool> off{false};
  int64_t writes_left = -1;  // before the power goes off by itself; negative: never
  std::atomic<uint64_t> bytes_dropped{0};
  UnsyncedWrites disk;

  // Requires mu.
  void cut() {
    if (off) return;
    bytes_dropped = disk.dropAll();
    off = true;
  }
  // Counts one write against losePowerAfterWrites(); true when this one cuts the power.
  // Requires mu.
  bool dueAtThisWrite() {
    if (writes_left < 0) return false;
    if (writes_left-- > 0) return false;
    writes_left = -1;
    return true;
  }
};

Power& power() {
  static Power* instance = new Power();
  return *instance;
}

sqlite3_vfs* realVfs() { return static_cast<sqlite3_vfs*>(sqlite3_vfs_find(nullptr)); }

ShimFile* shimOf(sqlite3_file* file) { return reinterpret_cast<ShimFile*>(file); }
sqlite3_file* real(sqlite3_file* file) { return shimOf(file)->real; }

// Reads the real file's bytes before they change (UnsyncedWrites::ReadAt).
UnsyncedWrites::ReadAt readerOf(sqlite3_file* file) {
  return [r = real(file)](char* buffer, int64_t length, int64_t offset) {
    const int rc = r->pMethods->xRead(r, buffer, static_cast<int>(length), offset);
    // A short read is zero-filled by SQLite; anything else we zero ourselves.
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
      std::memset(buffer, 0, static_cast<size_t>(length));
    }
  };
}

int64_t sizeOf(sqlite3_file* file) {
  sqlite3_int64 size = 0;
  return real(file)->pMethods->xFileSize(real(file), &size) == SQLITE_OK ? size : 0;
}

int shimClose(sqlite3_file* f) {
  sqlite3_file* r = real(f);
  int rc = r->pMethods != nullptr ? r->pMethods->xClose(r) : SQLITE_OK;
  sqlite3_free(r);
  if (const std::string* path = shimOf(f)->path) {
    Power& p = power();
    std::lock_guard<std::mutex> lock(p.mu);
    p.disk.closed(*path);
    delete path;
  }
  return rc;
}
int shimRead(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  if (FaultVfs::get().shouldFailRead()) return SQLITE_IOERR_READ;
  const int rc = real(f)->pMethods->xRead(real(f), buf, n, off);
  if (rc == SQLITE_OK) FaultVfs::get().damageRead(buf, n);
  return rc;
}
// While the power is off, writes, truncations, syncs and deletes are discarded and
// reported done: nothing the dead machine's connections do reaches a file.
int shimWrite(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  FaultVfs& vfs = FaultVfs::get();
  if (vfs.shouldFailWrite()) return vfs.writeError();
  Power& p = power();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.dueAtThisWrite()) p.cut();
  if (p.off) return SQLITE_OK;
  if (const std::string* path = shimOf(f)->path) p.disk.beforeWrite(*path, off, n, readerOf(f));
  return real(f)->pMethods->xWrite(real(f), buf, n, off);
}
int shimTruncate(sqlite3_file* f, sqlite3_int64 size) {
  Power& p = power();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.off) return SQLITE_OK;
  if (const std::string* path = shimOf(f)->path) {
    p.disk.beforeTruncate(*path, size, sizeOf(f), readerOf(f));
  }
  return real(f)->pMethods->xTruncate(real(f), size);
}
int shimSync(sqlite3_file* f, int flags) {
  FaultVfs& vfs = FaultVfs::get();
  if (vfs.shouldFailSync()) return vfs.syncError();
  Power& p = power();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.off) return SQLITE_OK;
  const int rc = real(f)->pMethods->xSync(real(f), flags);
  if (const std::string* path = shimOf(f)->path; rc == SQLITE_OK && path != nullptr) {
    p.disk.synced(*path, sizeOf(f));
  }
  return rc;
}
int shimFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int shimLock(sqlite3_file* f, int lock) { return real(f)->pMethods->xLock(real(f), lock); }
int shimUnlock(sqlite3_file* f, int lock) { return real(f)->pMethods->xUnlock(real(f), lock); }
int shimCheckReservedLock(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int shimFileControl(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int shimSectorSize(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int shimDeviceCharacteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int shimShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
}
int shimShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void shimShmBarrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int shimShmUnmap(sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }
int shimFetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return real(f)->pMethods->xFetch(real(f), off, n, out);
}
int shimUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real(f)->pMethods->xUnfetch(real(f), off, p);
}

const sqlite3_io_methods kShimMethods = {
    3,
    shimClose,
    shimRead,
    shimWrite,
    shimTruncate,
    shimSync,
    shimFileSize,
    shimLock,
    shimUnlock,
    shimCheckReservedLock,
    shimFileControl,
    shimSectorSize,
    shimDeviceCharacteristics,
    shimShmMap,
    shimShmLock,
    shimShmBarrier,
    shimShmUnmap,
    shimFetch,
    shimUnfetch,
};

// -1 when `path` does not exist.
int64_t sizeOnDisk(const char* path) {
  struct stat st;
  return path != nullptr && stat(path, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

int shimOpen(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  ShimFile* shim = reinterpret_cast<ShimFile*>(file);
  shim->base.pMethods = nullptr;
  shim->path = nullptr;
  if (FaultVfs::get().shouldFailOpen()) return SQLITE_CANTOPEN;
  Power& p = power();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.off) return SQLITE_CANTOPEN;
  const int64_t size_before_open = sizeOnDisk(name);
  sqlite3_vfs* vfs = realVfs();
  shim->real = static_cast<sqlite3_file*>(sqlite3_malloc(vfs->szOsFile));
  if (shim->real == nullptr) return SQLITE_NOMEM;
  std::memset(shim->real, 0, vfs->szOsFile);
  const int rc = vfs->xOpen(vfs, name, shim->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (shim->real->pMethods != nullptr) shim->real->pMethods->xClose(shim->real);
    sqlite3_free(shim->real);
    return rc;
  }
  if (name != nullptr) {
    shim->path = new std::string(name);
    p.disk.opened(*shim->path, size_before_open, (flags & SQLITE_OPEN_MAIN_DB) != 0);
  }
  shim->base.pMethods = &kShimMethods;
  return SQLITE_OK;
}

int shimDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  if (FaultVfs::get().shouldFailDelete()) {
    errno = EACCES;
    return SQLITE_IOERR_DELETE;
  }
  Power& p = power();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.off) return SQLITE_OK;
  p.disk.deleted(name);
  return realVfs()->xDelete(realVfs(), name, sync_dir);
}
int shimAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return realVfs()->xAccess(realVfs(), name, flags, out);
}
int shimFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return realVfs()->xFullPathname(realVfs(), name, n, out);
}
void* shimDlOpen(sqlite3_vfs*, const char* name) { return realVfs()->xDlOpen(realVfs(), name); }
void shimDlError(sqlite3_vfs*, int n, char* out) { realVfs()->xDlError(realVfs(), n, out); }
void (*shimDlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return realVfs()->xDlSym(realVfs(), handle, symbol);
}
void shimDlClose(sqlite3_vfs*, void* handle) { realVfs()->xDlClose(realVfs(), handle); }
int shimRandomness(sqlite3_vfs*, int n, char* out) {
  return realVfs()->xRandomness(realVfs(), n, out);
}
int shimSleep(sqlite3_vfs*, int micros) { return realVfs()->xSleep(realVfs(), micros); }
int shimCurrentTime(sqlite3_vfs*, double* out) { return realVfs()->xCurrentTime(realVfs(), out); }
int shimGetLastError(sqlite3_vfs*, int n, char* out) {
  return realVfs()->xGetLastError(realVfs(), n, out);
}
int shimCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return realVfs()->xCurrentTimeInt64(realVfs(), out);
}

void registerShim() {
  static sqlite3_vfs shim = [] {
    sqlite3_vfs vfs;
    std::memset(&vfs, 0, sizeof(vfs));
    sqlite3_vfs* base = realVfs();
    vfs.iVersion = 2;
    vfs.szOsFile = sizeof(ShimFile);
    vfs.mxPathname = base->mxPathname;
    vfs.zName = FaultVfs::kName;
    vfs.xOpen = shimOpen;
    vfs.xDelete = shimDelete;
    vfs.xAccess = shimAccess;
    vfs.xFullPathname = shimFullPathname;
    vfs.xDlOpen = shimDlOpen;
    vfs.xDlError = shimDlError;
    vfs.xDlSym = shimDlSym;
    vfs.xDlClose = shimDlClose;
    vfs.xRandomness = shimRandomness;
    vfs.xSleep = shimSleep;
    vfs.xCurrentTime = shimCurrentTime;
    vfs.xGetLastError = shimGetLastError;
    vfs.xCurrentTimeInt64 = shimCurrentTimeInt64;
    return vfs;
  }();
  sqlite3_vfs_register(&shim, /*makeDflt=*/0);
}

bool consume(std::atomic<int64_t>& left) {
  int64_t n = left.load();
  while (n > 0 && !left.compare_exchange_weak(n, n - 1)) {
  }
  return n == 0;
}

int toSqlite(FaultVfs::Error error, int io_code) {
  return error == FaultVfs::Error::kFull ? SQLITE_FULL : io_code;
}

}  // namespace

FaultVfs& FaultVfs::get() {
  static FaultVfs* instance = [] {
    registerShim();
    return new FaultVfs();
  }();
  return *instance;
}

void FaultVfs::failWritesAfter(int64_t successes, Error error) {
  write_error_ = toSqlite(error, SQLITE_IOERR_WRITE);
  writes_left_ = successes;
}

void FaultVfs::failSyncsAfter(int64_t successes, Error error) {
  sync_error_ = toSqlite(error, SQLITE_IOERR_FSYNC);
  syncs_left_ = successes;
}

void FaultVfs::failReadsAfter(int64_t successes) { reads_left_ = successes; }

void FaultVfs::failOpens(bool fail) { fail_opens_ = fail; }

void FaultVfs::failDeletes(bool fail) { fail_deletes_ = fail; }

void FaultVfs::flipOnRead(const std::string& pattern) {
  std::lock_guard<std::mutex> lock(flip_mu_);
  flip_pattern_ = pattern;
  flipping_ = !pattern.empty();
}

void FaultVfs::damageRead(void* buffer, int length) {
  if (!flipping_) return;
  std::lock_guard<std::mutex> lock(flip_mu_);
  if (flip_pattern_.empty() || length <= 0) return;
  unsigned char* bytes = static_cast<unsigned char*>(buffer);
  size_t offset = 0;
  while (offset < static_cast<size_t>(length)) {
    void* at = memmem(bytes + offset, static_cast<size_t>(length) - offset, flip_pattern_.data(),
                      flip_pattern_.size());
    if (at == nullptr) return;
    *static_cast<unsigned char*>(at) ^= 0x01;
    ++faults_;
    offset = static_cast<size_t>(static_cast<unsigned char*>(at) - bytes) + flip_pattern_.size();
  }
}

void FaultVfs::losePower() {
  Power& p = power();
  std::lock_guard<std::mutex> lock(p.mu);
  p.cut();
}

void FaultVfs::losePowerAfterWrites(int64_t successes) {
  Power& p = power();
  std::lock_guard<std::mutex> lock(p.mu);
  p.writes_left = successes;
}

bool FaultVfs::powerLost() const { return power().off; }

uint64_t FaultVfs::bytesDropped() const { return power().bytes_dropped; }

void FaultVfs::reset() {
  {
    Power& p = power();
    std::lock_guard<std::mutex> lock(p.mu);
    p.off = false;
    p.writes_left = -1;
    p.bytes_dropped = 0;
  }
  flipOnRead("");
  writes_left_ = -1;
  syncs_left_ = -1;
  reads_left_ = -1;
  fail_opens_ = false;
  fail_deletes_ = false;
  reads_ = writes_ = syncs_ = opens_ = faults_ = 0;
}

bool FaultVfs::shouldFailRead() {
  ++reads_;
  if (!consume(reads_left_)) return false;
  ++faults_;
  return true;
}

bool FaultVfs::shouldFailWrite() {
  ++writes_;
  if (!consume(writes_left_)) return false;
  ++faults_;
  return true;
}

bool FaultVfs::shouldFailSync() {
  ++syncs_;
  if (!consume(syncs_left_)) return false;
  ++faults_;
  return true;
}

bool FaultVfs::shouldFailOpen() {
  ++opens_;
  if (!fail_opens_) return false;
  ++faults_;
  return true;
}

bool FaultVfs::shouldFailDelete() {
  if (!fail_deletes_) return false;
  ++faults_;
  return true;
}

int FaultVfs::writeError() const { return write_error_; }
int FaultVfs::syncError() const { return sync_error_; }

}  // namespace asp::testing
