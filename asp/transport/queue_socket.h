// The server end of an MQueue (docs/protocol.md §4): a Unix datagram socket bound to a
// filesystem path, as the manager and the relay own it.
//
// Trust on the host: the path is the only way in, so its mode decides who may speak.
// bindQueueSocket() creates it with mode 0660 (owner and one group, never
// world-writable) whatever the process's umask: the socket is fchmod'ed to 0660 before
// bind() (so it is never, even for an instant, more open than that) and chmod'ed after
// (so a strict umask does not leave it closed to the group), then given `group`.
//
// A socket file already at the path that nobody listens on is stale (a crash left it)
// and is replaced; one another process listens on is AlreadyExists; anything else at
// the path (a regular file, a directory) is FailedPrecondition and left untouched.
//
// Thread-safety: pure functions of their arguments and the filesystem.
#ifndef ASP_TRANSPORT_QUEUE_SOCKET_H_
#define ASP_TRANSPORT_QUEUE_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace asp {

struct QueueSocketOptions {
  std::string path;
  // The group that may send to the socket, by name or number; empty: the process's
  // effective group.
  std::string group;
};

// The permission bits every queue socket gets.
inline constexpr mode_t kQueueSocketMode = 0660;

// Binds a datagram socket at options.path (see above). Returns the descriptor, owned by
// the caller (close() it and unlink the path when done). Errors name the path, the group
// and the system's reason.
absl::StatusOr<int> bindQueueSocket(const QueueSocketOptions& options);

// The group id for a name or number ("asp", "1001"); NotFound names it.
absl::StatusOr<gid_t> lookupGroup(const std::string& group);

}  // namespace asp

#endif  // ASP_TRANSPORT_QUEUE_SOCKET_H_
