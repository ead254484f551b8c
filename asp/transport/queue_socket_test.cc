// The queue socket's mode, group and path claiming, on real files.
#include "asp/transport/queue_socket.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

class QueueSocketTest : public ::testing::Test {
 protected:
  // Binds with `mask` as the process umask, restoring it after.
  absl::StatusOr<int> bindUnder(mode_t mask, const std::string& group = "") {
    const mode_t old = umask(mask);
    absl::StatusOr<int> fd = bindQueueSocket({path_, group});
    umask(old);
    if (fd.ok()) fds_.push_back(*fd);
    return fd;
  }

  struct stat statPath() const {
    struct stat st;
    EXPECT_EQ(lstat(path_.c_str(), &st), 0);
    return st;
  }

  void TearDown() override {
    for (int fd : fds_) close(fd);
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.file("queue");
  std::vector<int> fds_;
};

TEST_F(QueueSocketTest, IsOwnerAndGroupReadWriteUnderAPermissiveUmask) {
  ASSERT_TRUE(bindUnder(0).ok());
  const struct stat st = statPath();
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u) << "never world-writable";
}

TEST_F(QueueSocketTest, IsOwnerAndGroupReadWriteUnderAStrictUmask) {
  ASSERT_TRUE(bindUnder(077).ok());
  EXPECT_EQ(statPath().st_mode & 07777, 0660u) << "the group may still send";
}

TEST_F(QueueSocketTest, BelongsToTheConfiguredGroup) {
  // Root may give any group; anyone else one of their own.
  const gid_t other = geteuid() == 0 ? 65534 : getegid();
  absl::StatusOr<int> fd = bindUnder(022, std::to_string(other));
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(statPath().st_gid, other);
}

TEST_F(QueueSocketTest, AnUnknownGroupIsNamedInTheError) {
  absl::StatusOr<int> fd = bindUnder(022, "no-such-group-asp");
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("no-such-group-asp"), absl::string_view::npos)
      << fd.status();
  EXPECT_NE(fd.status().message().find(path_), absl::string_view::npos) << fd.status();
}

TEST_F(QueueSocketTest, AStaleSocketFileIsReplaced) {
  ASSERT_TRUE(bindUnder(022).ok());
  close(fds_.back());
  fds_.pop_back();
  EXPECT_TRUE(bindUnder(022).ok()) << "nobody listens on the old file";
}

TEST_F(QueueSocketTest, ASocketSomebodyListensOnIsInUse) {
  ASSERT_TRUE(bindUnder(022).ok());
  absl::StatusOr<int> second = bindUnder(022);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
}

TEST_F(QueueSocketTest, ARegularFileAtThePathIsLeftAlone) {
  ASSERT_EQ(close(creat(path_.c_str(), 0600)), 0);
  absl::StatusOr<int> fd = bindUnder(022);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("not a socket"), absl::string_view::npos) << fd.status();
  EXPECT_TRUE(S_ISREG(statPath().st_mode));
}

TEST_F(QueueSocketTest, AnOverlongPathIsRefused) {
  absl::StatusOr<int> fd = bindQueueSocket({std::string(200, 'x'), ""});
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace asp
