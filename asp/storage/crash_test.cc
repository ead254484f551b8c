// Crash test: a child process records changes and reports each acknowledged one
// through a pipe; the parent kills it with SIGKILL at random moments, reopens the file
// and checks that every acknowledged change is there, exactly as the coalescing rules
// say, and that the file passes PRAGMA integrity_check. Some rounds kill the child
// while a session is in flight, so reopening must also recover in-flight changes.
//
// Reproducible: the seed is printed and can be forced with ASP_CRASH_SEED.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "asp/storage/queue_model.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::integrityCheck;
using testing::QueueModel;
using testing::streamChange;

constexpr int kKills = 60;
constexpr uint64_t kSessionBegun = UINT64_MAX;

[[noreturn]] void childMain(const std::string& path, uint64_t start, bool begin_session, int fd) {
  SqliteChangeQueue::Options options;
  options.path = path;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue = SqliteChangeQueue::open(options);
  if (!queue.ok()) _exit(2);
  if (begin_session) {
    if (!(*queue)->beginSession({}).ok()) _exit(3);
    if (write(fd, &kSessionBegun, sizeof(kSessionBegun)) != sizeof(kSessionBegun)) _exit(4);
  }
  for (uint64_t i = start;; ++i) {
    if (!(*queue)->record(streamChange(i)).ok()) _exit(5);
    if (write(fd, &i, sizeof(i)) != sizeof(i)) _exit(6);
  }
}

TEST(CrashTest, EveryAcknowledgedChangeSurvivesSigkill) {
  const char* forced = std::getenv("ASP_CRASH_SEED");
  const uint64_t seed =
      forced != nullptr ? std::strtoull(forced, nullptr, 10) : std::random_device{}();
  std::cout << "ASP_CRASH_SEED=" << seed << "\n";
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  const std::string path = dir.file("fim_sync.db");
  QueueModel model;
  uint64_t next = 0;
  uint64_t total_acked = 0;

  for (int round = 0; round < kKills; ++round) {
    const bool begin_session = round % 3 == 1;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      childMain(path, next, begin_session, fds[1]);
    }
    close(fds[1]);
    // Let the child get a random distance, then kill it at a random moment.
    const uint64_t wait_for = std::uniform_int_distribution<uint64_t>(0, 200)(rng);
    const int extra_us = std::uniform_int_distribution<int>(0, 3000)(rng);
    uint64_t acked = 0, value = 0;  // acknowledged record()s this round
    bool session_begun = false;
    while (read(fds[0], &value, sizeof(value)) == sizeof(value)) {
      if (value == kSessionBegun) {
        session_begun = true;
      } else {
        ++acked;
      }
      if ((session_begun || !begin_session) && acked >= wait_for) break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(extra_us));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited on its own with " << WEXITSTATUS(status);
    // Everything the child reported before dying is still in the pipe.
    while (read(fds[0], &value, sizeof(value)) == sizeof(value)) {
      if (value != kSessionBegun) ++acked;
    }
    close(fds[0]);

    if (begin_session) model.begin();
    for (uint64_t i = next; i < next + acked; ++i) model.record(streamChange(i));
    // The child may have committed one more change without reporting it.
    QueueModel with_one_more = model;
    with_one_more.record(streamChange(next + acked));
    if (begin_session) {
      model.recover();
      with_one_more.recover();
    }

    ASSERT_EQ(integrityCheck(path), "ok") << "round " << round;
    std::vector<SessionChange> actual = testing::queuedAfterReopen(path);
    if (model.matches(actual)) {
      next += acked;
    } else {
      ASSERT_TRUE(with_one_more.matches(actual))
          << "round " << round << ": the queue lost or altered an acknowledged change (" << acked
          << " acknowledged this round, " << actual.size() << " ids queued)";
      model = with_one_more;
      next += acked + 1;
    }
    model.forgetNew();  // our inspection session aborted: nothing is new any more
    total_acked += acked;
    ASSERT_EQ(integrityCheck(path), "ok") << "round " << round;
  }
  std::cout << kKills << " kills, " << total_acked << " acknowledged changes, all present\n";
  EXPECT_GT(total_acked, 0u);
}

}  // namespace
}  // namespace asp
