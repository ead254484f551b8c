#include "bench/plain_datagram.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"

namespace asp::bench {
namespace {

// How often the receiver checks whether it should stop; how long the sender waits for
// the receiver's counts.
constexpr timeval kReceiveSlice{0, 100 * 1000};
constexpr timeval kAnswerTimeout{30, 0};

absl::Status errnoError(absl::string_view what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

absl::StatusOr<sockaddr_un> addressOf(const std::string& path) {
  sockaddr_un address;
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path '", path, "' is too long"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// A socket closed when it goes out of scope.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

absl::Status sendDatagram(int fd, const sockaddr_un& to, absl::string_view bytes) {
  while (true) {
    const ssize_t n = sendto(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    if (n == static_cast<ssize_t>(bytes.size())) return absl::OkStatus();
    if (n < 0 && errno == EINTR) continue;
    return errnoError("sendto", n < 0 ? errno : EIO);
  }
}

absl::StatusOr<PlainTally> awaitTally(int fd) {
  PlainTally tally;
  while (true) {
    const ssize_t n = recv(fd, &tally, sizeof(tally), 0);
    if (n == static_cast<ssize_t>(sizeof(tally))) return tally;
    if (n < 0 && errno == EINTR) continue;
    return errnoError("waiting for the plain receiver's counts", n < 0 ? errno : EIO);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<PlainReceiver>> PlainReceiver::start(const std::string& path) {
  absl::StatusOr<sockaddr_un> address = addressOf(path);
  if (!address.ok()) return address.status();
  Socket socket_fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (socket_fd.fd() < 0) return errnoError("socket", errno);
  unlink(path.c_str());
  if (bind(socket_fd.fd(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0) {
    return errnoError(absl::StrCat("bind '", path, "'"), errno);
  }
  // As the reference manager (ManagerServer::start) sets it.
  const int buffer = 8 << 20;
  setsockopt(socket_fd.fd(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  setsockopt(socket_fd.fd(), SOL_SOCKET, SO_RCVTIMEO, &kReceiveSlice, sizeof(kReceiveSlice));
  return std::unique_ptr<PlainReceiver>(new PlainReceiver(path, socket_fd.release()));
}

PlainReceiver::PlainReceiver(std::string path, int fd)
    : path_(std::move(path)), fd_(fd), thread_([this] { run(); }) {}

PlainReceiver::~PlainReceiver() {
  stopping_ = true;
  thread_.join();
  close(fd_);
  unlink(path_.c_str());
}

void PlainReceiver::run() {
  std::vector<char> buffer(wire::kMaxDatagramBytes + 1);
  PlainTally tally;
  while (!stopping_) {
    sockaddr_un from;
    socklen_t from_length = sizeof(from);
    const ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n < 0) continue;  // the receive slice passed (or EINTR): check stopping_
    if (absl::string_view(buffer.data(), static_cast<size_t>(n)) == kDoneMarker) {
      (void)sendto(fd_, &tally, sizeof(tally), MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&from), from_length);
      tally = PlainTally();
      continue;
    }
    ++tally.datagrams;
    tally.bytes += static_cast<uint64_t>(n);
  }
}

absl::StatusOr<PlainTransferStats> sendBacklogPlainly(const std::string& queue_path,
                                                      const std::string& receiver_path,
                                                      size_t frame_budget_bytes) {
  absl::StatusOr<sockaddr_un> receiver = addressOf(receiver_path);
  if (!receiver.ok()) return receiver.status();
  Socket sender(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sender.fd() < 0) return errnoError("socket", errno);
  sockaddr_un self;
  std::memset(&self, 0, sizeof(self));
  self.sun_family = AF_UNIX;
  // Autobind, as UnixDatagramTransport: the receiver answers to this address.
  if (bind(sender.fd(), reinterpret_cast<const sockaddr*>(&self), sizeof(sa_family_t)) != 0) {
    return errnoError("bind(autobind)", errno);
  }
  setsockopt(sender.fd(), SOL_SOCKET, SO_RCVTIMEO, &kAnswerTimeout, sizeof(kAnswerTimeout));

  const std::string header = absl::StrCat("s:", kModule, ":");
  PlainTransferStats stats;
  absl::StatusOr<PlainRunStats> packed = readAndPack(
      queue_path, frame_budget_bytes - header.size(), header, [&](const std::string& frame) {
        stats.datagram_bytes += frame.size();
        return sendDatagram(sender.fd(), *receiver, frame);
      });
  if (!packed.ok()) return packed.status();
  stats.packed = *packed;
  if (absl::Status s = sendDatagram(sender.fd(), *receiver, kDoneMarker); !s.ok()) return s;
  absl::StatusOr<PlainTally> received = awaitTally(sender.fd());
  if (!received.ok()) return received.status();
  stats.received = *received;
  if (received->datagrams != packed->frames || received->bytes != stats.datagram_bytes) {
    return absl::DataLossError(absl::StrCat(
        "the plain receiver got ", received->datagrams, " datagrams of ", received->bytes,
        " bytes; ", packed->frames, " of ", stats.datagram_bytes, " bytes were sent"));
  }
  return stats;
}

}  // namespace asp::bench
