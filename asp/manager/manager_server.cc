#include "asp/manager/manager_server.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"
#include "asp/proto/wire.pb.h"
#include "asp/transport/framing.h"
#include "asp/transport/queue_socket.h"

namespace asp::manager {

absl::StatusOr<std::unique_ptr<ManagerServer>> ManagerServer::start(Options options,
                                                                    StateStore* store) {
  absl::StatusOr<int> bound = bindQueueSocket({options.socket_path, options.socket_group});
  if (!bound.ok()) return bound.status();
  const int fd = *bound;
  // Answers never block the server for long: an agent that does not read loses them.
  timeval timeout{0, 100 * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  // Bursts of frames from many agents: a larger receive buffer absorbs them.
  int buffer = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  return std::unique_ptr<ManagerServer>(new ManagerServer(std::move(options), store, fd));
}

ManagerServer::ManagerServer(Options options, StateStore* store, int fd)
    : options_(std::move(options)),
      core_(options_.core, store),
      fd_(fd),
      thread_([this] { run(); }) {}

ManagerServer::~ManagerServer() { stop(); }

void ManagerServer::stop() {
  if (stopping_.exchange(true)) return;
  thread_.join();
  close(fd_);
  unlink(options_.socket_path.c_str());
}

ManagerServer::Counters ManagerServer::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void ManagerServer::run() {
  std::vector<char> buffer(wire::kMaxDatagramBytes + 1);
  auto last_expiry = std::chrono::steady_clock::now();
  while (!stopping_) {
    int timeout_ms = 100;
    if (!delayed_.empty()) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          delayed_.front().due - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(100, wait.count())));
    }
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) > 0) {
      sockaddr_un from;
      socklen_t from_length = sizeof(from);
      const ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_length);
      if (n >= 0)
        handleDatagram(std::string(buffer.data(), static_cast<size_t>(n)), from, from_length);
    }
    sendDue();
    if (std::chrono::steady_clock::now() - last_expiry > std::chrono::seconds(1)) {
      core_.expireIdle();
      last_expiry = std::chrono::steady_clock::now();
    }
  }
}

void ManagerServer::handleDatagram(const std::string& datagram, const sockaddr_un& from,
                                   socklen_t from_length) {
  absl::StatusOr<framing::AgentFrame> frame = framing::decodeAgentFrame(datagram);
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.datagrams;
  if (!frame.ok() || datagram.size() > wire::kMaxDatagramBytes) {
    ++counters_.bad_datagrams;
    return;
  }
  const std::string module(frame->module);
  const absl::string_view message = frame->message;
  const int copies = options_.filter != nullptr ? options_.filter->copies(message) : 1;
  const absl::Duration delay =
      options_.filter != nullptr ? options_.filter->answerDelay() : absl::ZeroDuration();
  for (int i = 0; i < copies; ++i) {
    absl::StatusOr<std::vector<wire::v1::Message>> answers = core_.handleBytes(message);
    if (!answers.ok()) {
      ++counters_.bad_datagrams;
      return;
    }
    for (const wire::v1::Message& answer : *answers) {
      absl::StatusOr<std::string> out =
          framing::encodeManagerFrame(module, answer.SerializeAsString());
      if (!out.ok()) continue;
      if (delay > absl::ZeroDuration()) {
        delayed_.push_back(
            Pending{std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(delay), from,
                    from_length, *std::move(out)});
      } else {
        sendAnswer(from, from_length, *out);
      }
    }
  }
}

// Requires mu_.
void ManagerServer::sendAnswer(const sockaddr_un& to, socklen_t to_length,
                               const std::string& frame) {
  const ssize_t n = sendto(fd_, frame.data(), frame.size(), MSG_NOSIGNAL,
                           reinterpret_cast<const sockaddr*>(&to), to_length);
  ++(n == static_cast<ssize_t>(frame.size()) ? counters_.answers_sent : counters_.answers_lost);
}

void ManagerServer::sendDue() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  while (!delayed_.empty() && delayed_.front().due <= now) {
    sendAnswer(delayed_.front().to, delayed_.front().to_length, delayed_.front().frame);
    delayed_.pop_front();
  }
}

}  // namespace asp::manager
