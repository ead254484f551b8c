// LocalQueueSocket: the relay's end of the agent's MQueue (docs/protocol.md §4): the queue
// socket path modules already send to, bound with mode 0660 and the configured group
// (asp/transport/queue_socket.h), read for agent datagrams and written with answers.
//
// open() fails with a clear error when the path is in use by another process (a
// manager, or another relay), or is not a socket; a stale socket file is replaced.
// The path is removed when the object is destroyed.
//
// Thread-safe: one thread receives while another sends answers.
#ifndef ASP_RELAY_LOCAL_QUEUE_SOCKET_H_
#define ASP_RELAY_LOCAL_QUEUE_SOCKET_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "asp/relay/answer_routes.h"
#include "asp/transport/queue_socket.h"

namespace asp::relay {

class LocalQueueSocket {
 public:
  static absl::StatusOr<std::unique_ptr<LocalQueueSocket>> open(const QueueSocketOptions& options);
  ~LocalQueueSocket();
  LocalQueueSocket(const LocalQueueSocket&) = delete;
  LocalQueueSocket& operator=(const LocalQueueSocket&) = delete;

  struct Received {
    size_t length = 0;  // the datagram's real length (may exceed what was stored)
    ModuleAddress sender;
  };

  // Waits up to `timeout` for a datagram and stores at most `buffer->size()` bytes of it
  // in `buffer`; nullopt when none came.
  std::optional<Received> receive(std::string* buffer, absl::Duration timeout);

  // Sends `answer` to `module`'s socket without waiting: false when that socket is gone or
  // its queue is full (the module's protocol resends what it misses).
  bool sendTo(const ModuleAddress& module, absl::string_view answer);

  const std::string& path() const { return path_; }

 private:
  LocalQueueSocket(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

}  // namespace asp::relay

#endif  // ASP_RELAY_LOCAL_QUEUE_SOCKET_H_
