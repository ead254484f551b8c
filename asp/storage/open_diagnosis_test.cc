// Opening a queue that SQLite cannot read says what is actually wrong (issue: a queue in
// a read-only directory, or on a full disk, was reported as "unreadable or not a
// database" although the file was fine). Real directories, a real user switch and a
// real full file system: these tests run outside Bazel's sandbox, as root.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

constexpr uid_t kNobody = 65534;

// Runs `body` in a child process and returns what it wrote (its status message).
std::string inChild(const std::function<std::string()>& body) {
  int out[2];
  if (pipe(out) != 0) return "<pipe failed>";
  const pid_t pid = fork();
  if (pid == 0) {
    close(out[0]);
    const std::string message = body();
    (void)!write(out[1], message.data(), message.size());
    _exit(0);
  }
  close(out[1]);
  std::string message;
  char buffer[4096];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof(buffer))) > 0)
    message.append(buffer, static_cast<size_t>(n));
  close(out[0]);
  waitpid(pid, nullptr, 0);
  return message;
}

std::string openReadOnly(const std::string& path) {
  SqliteChangeQueue::Options o;
  o.path = path;
  o.read_only = true;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue = SqliteChangeQueue::open(o);
  return queue.ok() ? "opened" : std::string(queue.status().message());
}

void makeQueue(const std::string& path) {
  auto queue = testing::openQueue(path);
  ASSERT_NE(queue, nullptr);
  ASSERT_TRUE(queue->record(testing::makeChange("a", Operation::kCreate, "x")).ok());
}

TEST(OpenDiagnosis, ADirectoryGivenAsTheQueueIsSaidToBeOne) {
  testing::TempDir dir;
  SqliteChangeQueue::Options o;
  o.path = dir.path();
  absl::Status s = SqliteChangeQueue::open(o).status();
  EXPECT_NE(s.message().find("is a directory"), absl::string_view::npos) << s;
  o.read_only = true;
  s = SqliteChangeQueue::open(o).status();
  EXPECT_NE(s.message().find("is a directory"), absl::string_view::npos) << s;
}

TEST(OpenDiagnosis, AMissingFileOpenedForInspectionIsNotFound) {
  testing::TempDir dir;
  const std::string message = openReadOnly(dir.file("none.db"));
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

TEST(OpenDiagnosis, AReadOnlyDirectoryIsNamed) {
  testing::TempDir dir;
  const std::string queue_dir = dir.file("queue");
  ASSERT_EQ(mkdir(queue_dir.c_str(), 0755), 0);
  const std::string path = queue_dir + "/fim_sync.db";
  makeQueue(path);
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  // An operator who may read the queue file but not write its directory.
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  const std::string message = inChild([&] {
    if (geteuid() == 0 && (setgid(kNobody) != 0 || setuid(kNobody) != 0))
      return std::string("<setuid>");
    if (geteuid() != 0) chmod(queue_dir.c_str(), 0555);
    return openReadOnly(path);
  });
  EXPECT_NE(message.find("'" + queue_dir + "' is not writable"), std::string::npos) << message;
  EXPECT_EQ(message.find("not a database"), std::string::npos) << message;
}

TEST(OpenDiagnosis, AFullFileSystemIsNamed) {
  ASSERT_EQ(geteuid(), 0u) << "mounts a small file system of its own";
  testing::TempDir dir;
  const std::string mount_point = dir.file("small");
  ASSERT_EQ(mkdir(mount_point.c_str(), 0755), 0);
  const std::string message = inChild([&]() -> std::string {
    // A private mount namespace: the mount vanishes with the child.
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=512k") != 0) {
      return std::string("<mount failed: ") + std::strerror(errno) + ">";
    }
    const std::string path = mount_point + "/fim_sync.db";
    {
      SqliteChangeQueue::Options o;
      o.path = path;
      absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue = SqliteChangeQueue::open(o);
      if (!queue.ok()) return "<create: " + std::string(queue.status().message()) + ">";
      if (!(*queue)->record(testing::makeChange("a", Operation::kCreate, "x")).ok())
        return "<record>";
    }
    // Fill every free page.
    const int filler = open((mount_point + "/filler").c_str(), O_WRONLY | O_CREAT, 0600);
    const std::string block(4096, 'f');
    while (write(filler, block.data(), block.size()) > 0) {
    }
    close(filler);
    return openReadOnly(path);
  });
  EXPECT_NE(message.find("is full"), std::string::npos) << message;
  EXPECT_EQ(message.find("not a database"), std::string::npos) << message;
}

}  // namespace
}  // namespace asp
