#include "bench/forked_child.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace asp::bench {
namespace {

// Reads exactly `size` bytes unless the writer goes away first.
bool readFully(int fd, char* at, size_t size) {
  while (size > 0) {
    const ssize_t n = read(fd, at, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool writeFully(int fd, const char* at, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, at, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::Status runInForkedChild(const std::function<void(void* report)>& body, void* report,
                              size_t size) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  std::fflush(nullptr);  // or the child's copy of pending output would be written twice
  const pid_t child = fork();
  if (child < 0) {
    const int error = errno;
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(error)));
  }
  if (child == 0) {
    close(fds[0]);
    std::vector<char> buffer(size, 0);
    body(buffer.data());
    const bool sent = writeFully(fds[1], buffer.data(), size);
    _exit(sent ? 0 : 1);
  }
  close(fds[1]);
  const bool received = readFully(fds[0], static_cast<char*>(report), size);
  close(fds[0]);
  int wait_status = 0;
  while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!received) {
    return absl::InternalError(
        absl::StrCat("the child died without a report (wait status ", wait_status, ")"));
  }
  return absl::OkStatus();
}

}  // namespace asp::bench
