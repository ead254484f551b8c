#include "asp/transport/queue_socket.h"

#include <errno.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace asp {
namespace {

absl::Status errnoError(absl::StatusCode code, const std::string& what, int error) {
  return absl::Status(code, absl::StrCat(what, ": ", std::strerror(error)));
}

// A socket file at `path` that nobody listens on is stale: remove it. One somebody
// listens on means the path is in use.
absl::Status claimPath(const std::string& path, const sockaddr_un& address) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path, "' exists and is not a socket; refusing to replace it"));
  }
  const int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const bool listening = probe >= 0 && connect(probe, reinterpret_cast<const sockaddr*>(&address),
                                               sizeof(address)) == 0;
  if (probe >= 0) close(probe);
  if (listening) {
    return absl::AlreadyExistsError(
        absl::StrCat("socket '", path, "' is in use by another process"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return errnoError(absl::StatusCode::kFailedPrecondition,
                      absl::StrCat("cannot remove the stale socket '", path, "'"), errno);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<gid_t> lookupGroup(const std::string& group) {
  std::vector<char> buffer(16384);
  struct group entry;
  struct group* found = nullptr;
  if (getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr) {
    return found->gr_gid;
  }
  uint32_t number = 0;
  if (absl::SimpleAtoi(group, &number)) return static_cast<gid_t>(number);
  return absl::NotFoundError(absl::StrCat("no group named '", group, "'"));
}

absl::StatusOr<int> bindQueueSocket(const QueueSocketOptions& options) {
  const std::string& path = options.path;
  sockaddr_un address;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path '", path,
                                                   "' is empty or longer than ",
                                                   sizeof(address.sun_path) - 1, " bytes"));
  }
  gid_t gid = getegid();
  if (!options.group.empty()) {
    absl::StatusOr<gid_t> found = lookupGroup(options.group);
    if (!found.ok()) {
      return absl::Status(found.status().code(),
                          absl::StrCat("socket '", path, "': ", found.status().message()));
    }
    gid = *found;
  }
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  if (absl::Status s = claimPath(path, address); !s.ok()) return s;

  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoError(absl::StatusCode::kInternal, "socket(AF_UNIX)", errno);
  auto failed = [&](absl::StatusCode code, const std::string& what) {
    const int error = errno;
    close(fd);
    return errnoError(code, what, error);
  };
  // bind() gives the file the socket inode's mode minus the umask: never more than this.
  if (fchmod(fd, kQueueSocketMode) != 0) {
    return failed(absl::StatusCode::kInternal, absl::StrCat("socket '", path, "': fchmod"));
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return failed(absl::StatusCode::kFailedPrecondition,
                  absl::StrCat("cannot bind socket '", path, "'"));
  }
  // The file exists now: give it exactly its mode and group, whatever the umask took away.
  if (chmod(path.c_str(), kQueueSocketMode) != 0 ||
      chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    absl::Status error =
        failed(absl::StatusCode::kPermissionDenied,
               absl::StrCat("socket '", path, "': cannot set mode 0660 and group ",
                            options.group.empty() ? std::to_string(gid) : options.group));
    unlink(path.c_str());
    return error;
  }
  return fd;
}

}  // namespace asp
