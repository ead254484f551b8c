// Helpers shared by the storage tests.
#ifndef ASP_STORAGE_QUEUE_TEST_UTIL_H_
#define ASP_STORAGE_QUEUE_TEST_UTIL_H_

#include <cstdint>
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

// visitInFlight() of a session of `size` (>= 6) in flight shows what readInFlight()
// returns, view for view: a visitor that refuses a change stops the visit there and the
// next visit starts with it; a range in the middle (a retransmission) shows that range.
inline void expectVisitsMatchReads(SessionSource& source, uint64_t size) {
  ASSERT_GE(size, 6u);
  const std::vector<SessionChange> read = readAllInFlight(source, size);
  ASSERT_EQ(read.size(), size);
  std::vector<SessionChange> seen;
  uint64_t refused = UINT64_MAX;
  auto keep = [&seen](const SessionChangeView& c) {
    seen.push_back(ownedCopy(c));
    return true;
  };
  absl::StatusOr<uint64_t> after =
      source.visitInFlight(0, size - 1, SIZE_MAX, [&](const SessionChangeView& c) {
        if (seen.size() == 3) {
          refused = c.seq;
          return false;
        }
        return keep(c);
      });
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, 3u) << "the seq after the last change taken";
  EXPECT_EQ(refused, 3u) << "the refused change is the next one";
  after = source.visitInFlight(3, size - 1, SIZE_MAX, keep);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, size);
  ASSERT_EQ(seen.size(), size);
  for (uint64_t i = 0; i < size; ++i) {
    SCOPED_TRACE("seq " + std::to_string(i));
    EXPECT_EQ(seen[i].seq, read[i].seq);
    EXPECT_EQ(seen[i].id, read[i].id);
    EXPECT_EQ(seen[i].index, read[i].index);
    EXPECT_EQ(seen[i].is_delete, read[i].is_delete);
    EXPECT_EQ(seen[i].data, read[i].data);
    EXPECT_EQ(seen[i].version, read[i].version);
  }
  seen.clear();
  after = source.visitInFlight(size - 3, size - 2, SIZE_MAX, keep);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, size - 1);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].id, read[size - 3].id);
  EXPECT_EQ(seen[1].id, read[size - 2].id);
}

}  // namespace asp::testing

#endif  // ASP_STORAGE_QUEUE_TEST_UTIL_H_
