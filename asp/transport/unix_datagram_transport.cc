#include "asp/transport/unix_datagram_transport.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"
#include "asp/transport/framing.h"

namespace asp {
namespace {

constexpr int kSendSliceMs = 20;

absl::Status errnoStatus(absl::StatusCode code, absl::string_view what, int error) {
  return absl::Status(code, absl::StrCat(what, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<UnixDatagramTransport>> UnixDatagramTransport::open(
    Options options) {
  if (absl::Status s = wire::validateModuleName(options.module); !s.ok()) return s;
  sockaddr_un probe;
  if (options.queue_path.empty() || options.queue_path.size() >= sizeof(probe.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("queue socket path '", options.queue_path,
                                                   "' is empty or longer than ",
                                                   sizeof(probe.sun_path) - 1, " bytes"));
  }
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoStatus(absl::StatusCode::kInternal, "socket(AF_UNIX)", errno);
  // Autobind: an abstract address the manager can answer to.
  sockaddr_un self;
  std::memset(&self, 0, sizeof(self));
  self.sun_family = AF_UNIX;
  if (bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t)) != 0) {
    const int error = errno;
    close(fd);
    return errnoStatus(absl::StatusCode::kInternal, "bind(autobind)", error);
  }
  // A send blocked on a full manager queue wakes up this often to check for interrupt().
  // (The socket is connected to the manager on the first send; see connectToManager().)
  timeval slice{0, kSendSliceMs * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &slice, sizeof(slice)) != 0) {
    const int error = errno;
    close(fd);
    return errnoStatus(absl::StatusCode::kInternal, "setsockopt(SO_SNDTIMEO)", error);
  }
  return std::unique_ptr<UnixDatagramTransport>(new UnixDatagramTransport(std::move(options), fd));
}

UnixDatagramTransport::UnixDatagramTransport(Options options, int fd)
    : options_(std::move(options)), fd_(fd) {
  std::memset(&peer_, 0, sizeof(peer_));
  peer_.sun_family = AF_UNIX;
  std::memcpy(peer_.sun_path, options_.queue_path.data(), options_.queue_path.size());
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    (void)connectToManager();  // no manager yet is fine: send() connects again
  }
  receiver_ = std::thread([this] { receive(); });
}

int UnixDatagramTransport::connectToManager() {
  const socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + options_.queue_path.size() + 1);
  // Not while the receiver reads: connect() changes who the socket hears from.
  std::lock_guard<std::mutex> lock(fd_mu_);
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&peer_), length) == 0) {
    connected_ = true;
    return 0;
  }
  connected_ = false;
  return errno;
}

bool UnixDatagramTransport::fromManager(const sockaddr_un& from, socklen_t length) const {
  // A path-bound sender's address is its path; an autobind or unnamed one never matches.
  const size_t path_offset = offsetof(sockaddr_un, sun_path);
  if (from.sun_family != AF_UNIX || length <= path_offset) return false;
  const absl::string_view path(from.sun_path, strnlen(from.sun_path, length - path_offset));
  return from.sun_path[0] != '\0' && path == options_.queue_path;
}

UnixDatagramTransport::~UnixDatagramTransport() {
  stopping_ = true;
  interrupted_ = true;
  receiver_.join();
  close(fd_);
}

void UnixDatagramTransport::setAnswerHandler(AnswerHandler handler) {
  std::lock_guard<std::mutex> lock(handler_mu_);
  handler_ = std::move(handler);
}

void UnixDatagramTransport::interrupt() { interrupted_ = true; }

void UnixDatagramTransport::resume() { interrupted_ = false; }

UnixDatagramTransport::Counters UnixDatagramTransport::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

absl::Status UnixDatagramTransport::send(absl::string_view module, absl::string_view message) {
  absl::StatusOr<std::string> frame = framing::encodeAgentFrame(module, message);
  if (!frame.ok()) return frame.status();
  std::lock_guard<std::mutex> lock(send_mu_);
  const auto give_up =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(options_.send_timeout);
  bool waited = false;
  bool reconnected = false;
  while (true) {
    if (interrupted_) return absl::CancelledError("send interrupted (stopped)");
    // Connected to the manager's path, so the kernel delivers answers from it alone.
    // A restarted manager is a new socket at the same path: the old peer refuses, and
    // connecting again reaches the new one. SO_SNDTIMEO bounds each blocking attempt.
    int error = connected_ ? 0 : connectToManager();
    if (error == 0) {
      const ssize_t n = ::send(fd_, frame->data(), frame->size(), MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(frame->size())) break;
      error = n < 0 ? errno : EIO;
    }
    if (error == EINTR) continue;
    if ((error == ECONNREFUSED || error == ENOTCONN || error == EPIPE) && !reconnected) {
      reconnected = true;
      connected_ = false;
      continue;
    }
    if (error != EAGAIN && error != EWOULDBLOCK) {
      connected_ = false;
      return errnoStatus(absl::StatusCode::kUnavailable,
                         absl::StrCat("manager queue '", options_.queue_path, "' is not reachable"),
                         error);
    }
    // The manager's queue is full: wait for room rather than drop.
    if (std::chrono::steady_clock::now() >= give_up) {
      return absl::UnavailableError(absl::StrCat("manager queue '", options_.queue_path,
                                                 "' stayed full for ",
                                                 absl::FormatDuration(options_.send_timeout)));
    }
    waited = true;
  }
  std::lock_guard<std::mutex> counters_lock(mu_);
  ++counters_.datagrams_sent;
  counters_.bytes_sent += frame->size();
  if (waited) ++counters_.full_buffer_waits;
  return absl::OkStatus();
}

void UnixDatagramTransport::receive() {
  std::vector<char> buffer(wire::kMaxDatagramBytes + 1);
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    sockaddr_un from;
    socklen_t from_length = sizeof(from);
    ssize_t n;
    {
      std::lock_guard<std::mutex> lock(fd_mu_);
      n = recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&from), &from_length);
    }
    if (n < 0) continue;
    // The kernel already drops other senders while connected; this also covers the
    // moments before the first connect and after the manager went away.
    if (!fromManager(from, from_length)) {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.answers_from_strangers;
      continue;
    }
    absl::StatusOr<absl::string_view> message = framing::decodeManagerFrame(
        options_.module, absl::string_view(buffer.data(), static_cast<size_t>(n)));
    std::lock_guard<std::mutex> handler_lock(handler_mu_);
    const bool deliverable =
        message.ok() && static_cast<size_t>(n) <= wire::kMaxDatagramBytes && handler_;
    // Counted after the handler ran, so a count seen means the answer was handled.
    if (deliverable) handler_(reinterpret_cast<const uint8_t*>(message->data()), message->size());
    std::lock_guard<std::mutex> lock(mu_);
    ++(deliverable ? counters_.answers : counters_.answers_dropped);
  }
}

}  // namespace asp
