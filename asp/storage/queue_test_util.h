// Helpers shared by the storage tests.
#ifndef ASP_STORAGE_QUEUE_TEST_UTIL_H_
#define ASP_STORAGE_QUEUE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "asp/storage/sqlite_change_queue.h"
#include "gtest/gtest.h"

namespace asp::testing {

inline Change makeChange(const std::string& id, Operation operation, const std::string& data = "",
                         uint64_t version = 0, const std::string& index = "states-fim-files") {
  return Change{id, index, operation, data, version};
}

inline std::unique_ptr<SqliteChangeQueue> openQueue(SqliteChangeQueue::Options options) {
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue =
      SqliteChangeQueue::open(std::move(options));
  EXPECT_TRUE(queue.ok()) << queue.status();
  return queue.ok() ? *std::move(queue) : nullptr;
}

inline std::unique_ptr<SqliteChangeQueue> openQueue(const std::string& path) {
  SqliteChangeQueue::Options options;
  options.path = path;
  return openQueue(std::move(options));
}

// Every in-flight change of the current session, read in small pages.
inline std::vector<SessionChange> readAllInFlight(SessionSource& source, uint64_t size) {
  std::vector<SessionChange> all;
  uint64_t next = 0;
  while (next < size) {
    absl::StatusOr<SessionPage> page = source.readInFlight(next, size - 1, 1);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->changes.empty()) break;
    for (SessionChange& c : page->changes) all.push_back(std::move(c));
    next = all.back().seq + 1;
  }
  return all;
}

// Begins a session and returns everything it would send.
inline std::vector<SessionChange> beginAndReadAll(SessionSource& source) {
  absl::StatusOr<SessionInfo> info = source.beginSession({});
  EXPECT_TRUE(info.ok()) << info.status();
  if (!info.ok()) return {};
  return readAllInFlight(source, info->size);
}

}  // namespace asp::testing

#endif  // ASP_STORAGE_QUEUE_TEST_UTIL_H_
