#include "asp/relay/local_queue_socket.h"

#include <poll.h>
#include <unistd.h>

namespace asp::relay {

absl::StatusOr<std::unique_ptr<LocalQueueSocket>> LocalQueueSocket::open(
    const QueueSocketOptions& options) {
  absl::StatusOr<int> fd = bindQueueSocket(options);
  if (!fd.ok()) return fd.status();
  // Room for bursts from several modules; a full queue is the backpressure that makes
  // them wait, so it stays modest.
  int buffer = 1 << 20;
  setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  return std::unique_ptr<LocalQueueSocket>(new LocalQueueSocket(options.path, *fd));
}

LocalQueueSocket::~LocalQueueSocket() {
  close(fd_);
  unlink(path_.c_str());
}

std::optional<LocalQueueSocket::Received> LocalQueueSocket::receive(std::string* buffer,
                                                                    absl::Duration timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) return std::nullopt;
  Received received;
  socklen_t length = sizeof(received.sender.address);
  const ssize_t n = recvfrom(fd_, buffer->data(), buffer->size(), MSG_DONTWAIT | MSG_TRUNC,
                             reinterpret_cast<sockaddr*>(&received.sender.address), &length);
  if (n < 0) return std::nullopt;
  received.length = static_cast<size_t>(n);
  received.sender.length = length;
  return received;
}

bool LocalQueueSocket::sendTo(const ModuleAddress& module, absl::string_view answer) {
  const ssize_t n = sendto(fd_, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                           reinterpret_cast<const sockaddr*>(&module.address), module.length);
  return n == static_cast<ssize_t>(answer.size());
}

}  // namespace asp::relay
