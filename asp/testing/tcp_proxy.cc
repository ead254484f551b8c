#include "asp/testing/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <vector>

namespace asp::testing {
namespace {

constexpr size_t kChunk = 64 * 1024;

// Bytes read from one end, not yet written to the other.
struct Direction {
  int from = -1;
  int to = -1;
  std::string pending;
};

struct Connection {
  Direction up;    // client -> target
  Direction down;  // target -> client
  bool closed = false;
};

int connectTo(const std::string& host, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address;
  std::memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

// Moves what it can in one direction; false when either end closed or failed.
bool pump(Direction& d, bool can_read, bool can_write) {
  if (can_write && !d.pending.empty()) {
    const ssize_t n = send(d.to, d.pending.data(), d.pending.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return false;
    if (n > 0) d.pending.erase(0, static_cast<size_t>(n));
  }
  if (can_read && d.pending.empty()) {
    char buffer[kChunk];
    const ssize_t n = recv(d.from, buffer, sizeof(buffer), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return false;
    if (n > 0) d.pending.assign(buffer, static_cast<size_t>(n));
  }
  return true;
}

void closeConnection(Connection& c) {
  close(c.up.from);
  close(c.up.to);
  c.closed = true;
}

}  // namespace

TcpProxy::TcpProxy(std::string target_host, int target_port)
    : target_host_(std::move(target_host)), target_port_(target_port) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address;
  std::memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listener_ < 0 ||
      bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener_, 16) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (listener_ >= 0) close(listener_);
    listener_ = -1;
    return;
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) close(listener_);
}

void TcpProxy::run() {
  std::list<Connection> connections;
  int cuts_done = 0;
  while (!stopping_) {
    if (cuts_requested_ != cuts_done) {
      cuts_done = cuts_requested_;
      for (Connection& c : connections) closeConnection(c);
      connections.clear();
    }
    std::vector<pollfd> fds = {{listener_, POLLIN, 0}};
    const bool stalled = stalled_;
    for (Connection& c : connections) {
      const short client_events =
          static_cast<short>((stalled ? 0 : POLLIN) | (c.down.pending.empty() ? 0 : POLLOUT));
      const short target_events =
          static_cast<short>((stalled ? 0 : POLLIN) | (c.up.pending.empty() ? 0 : POLLOUT));
      fds.push_back({c.up.from, client_events, 0});
      fds.push_back({c.up.to, target_events, 0});
    }
    if (poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      const int target = client >= 0 ? connectTo(target_host_, target_port_) : -1;
      if (client >= 0 && target < 0) close(client);
      if (target >= 0) {
        Connection c;
        c.up = Direction{client, target, ""};
        c.down = Direction{target, client, ""};
        connections.push_back(std::move(c));
        ++accepted_;
      }
    }
    size_t i = 1;
    for (Connection& c : connections) {
      if (i + 1 >= fds.size()) break;  // accepted during this round: polled next round
      const pollfd& client = fds[i++];
      const pollfd& target = fds[i++];
      if (stalled) continue;
      const bool ok = pump(c.up, client.revents & (POLLIN | POLLHUP), target.revents & POLLOUT) &&
                      pump(c.down, target.revents & (POLLIN | POLLHUP), client.revents & POLLOUT);
      if (!ok || (client.revents & POLLERR) || (target.revents & POLLERR)) closeConnection(c);
    }
    connections.remove_if([](const Connection& c) { return c.closed; });
  }
  for (Connection& c : connections) closeConnection(c);
}

}  // namespace asp::testing
