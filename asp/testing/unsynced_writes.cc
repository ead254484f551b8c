#include "asp/testing/unsynced_writes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace asp::testing {
namespace {

// Writes all of `bytes` at `offset`; a test double, so failures only shorten the
// restore (the test that follows then fails on what it finds).
void writeAt(int fd, const std::string& bytes, int64_t offset) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = pwrite(fd, bytes.data() + done, bytes.size() - done,
                             static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void UnsyncedWrites::opened(const std::string& path, int64_t size_before_open, bool is_database) {
  if (size_before_open < 0) {
    files_[path] = File{};  // new, or recreated after someone else removed it
  } else if (files_.count(path) == 0) {
    files_[path].synced_size = size_before_open;
  }
  File& file = files_[path];
  file.is_database = file.is_database || is_database;
  ++file.handles;
}

void UnsyncedWrites::closed(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end()) return;
  File& file = it->second;
  if (--file.handles <= 0 && file.unsynced_bytes == 0 && file.saved.empty()) files_.erase(it);
}

void UnsyncedWrites::save(File& file, int64_t begin, int64_t end, const ReadAt& read) {
  end = std::min(end, file.synced_size);
  if (begin >= end) return;  // only bytes the last sync left need saving
  Saved saved{begin, std::string(static_cast<size_t>(end - begin), '\0')};
  read(saved.bytes.data(), end - begin, begin);
  file.saved.push_back(std::move(saved));
}

void UnsyncedWrites::beforeWrite(const std::string& path, int64_t offset, int64_t length,
                                 const ReadAt& read) {
  auto it = files_.find(path);
  if (it == files_.end()) return;
  save(it->second, offset, offset + length, read);
  it->second.unsynced_bytes += static_cast<uint64_t>(length);
}

void UnsyncedWrites::beforeTruncate(const std::string& path, int64_t size, int64_t current_size,
                                    const ReadAt& read) {
  auto it = files_.find(path);
  if (it == files_.end()) return;
  save(it->second, size, current_size, read);
}

void UnsyncedWrites::synced(const std::string& path, int64_t size) {
  auto it = files_.find(path);
  if (it == files_.end()) return;
  it->second.synced_size = size;
  it->second.saved.clear();
  it->second.unsynced_bytes = 0;
}

void UnsyncedWrites::deleted(const std::string& path) { files_.erase(path); }

uint64_t UnsyncedWrites::unsyncedBytes(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second.unsynced_bytes;
}

void UnsyncedWrites::restore(const std::string& path, File& file) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    // Newest first, so where writes overlap the oldest copy, the synced one, wins.
    for (auto saved = file.saved.rbegin(); saved != file.saved.rend(); ++saved) {
      writeAt(fd, saved->bytes, saved->offset);
    }
    (void)ftruncate(fd, static_cast<off_t>(file.synced_size));
    close(fd);
  }
  file.saved.clear();
  file.unsynced_bytes = 0;
}

void UnsyncedWrites::zeroWalIndex(const std::string& database_path) {
  const std::string shm = database_path + "-shm";
  const int fd = open(shm.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    // Zeroed, not truncated: a connection still mapping it would fault past the end.
    writeAt(fd, std::string(static_cast<size_t>(st.st_size), '\0'), 0);
  }
  close(fd);
}

uint64_t UnsyncedWrites::dropAll() {
  uint64_t dropped = 0;
  for (auto& [path, file] : files_) {
    dropped += file.unsynced_bytes;
    restore(path, file);
    if (file.is_database) zeroWalIndex(path);
  }
  return dropped;
}

}  // namespace asp::testing
