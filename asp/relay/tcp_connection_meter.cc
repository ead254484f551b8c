#include "asp/relay/tcp_connection_meter.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"

namespace asp::relay {
namespace {

// An IPv4 address as a dual-stack socket reports it (::ffff:a.b.c.d), as plain IPv4.
sockaddr_storage unmapped(const sockaddr_storage& address) {
  if (address.ss_family != AF_INET6) return address;
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
  if (!IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) return address;
  sockaddr_storage result;
  std::memset(&result, 0, sizeof(result));
  auto& v4 = reinterpret_cast<sockaddr_in&>(result);
  v4.sin_family = AF_INET;
  v4.sin_port = v6.sin6_port;
  std::memcpy(&v4.sin_addr, &v6.sin6_addr.s6_addr[12], 4);
  return result;
}

bool sameEndpoint(const sockaddr_storage& x_in, const sockaddr_storage& y_in) {
  const sockaddr_storage a = unmapped(x_in);
  const sockaddr_storage b = unmapped(y_in);
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
  }
  return false;
}

// The addresses `host`:`port` resolves to.
std::vector<sockaddr_storage> resolve(const std::string& host, int port) {
  std::vector<sockaddr_storage> found;
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &results) != 0) return found;
  for (addrinfo* r = results; r != nullptr; r = r->ai_next) {
    sockaddr_storage address;
    std::memset(&address, 0, sizeof(address));
    std::memcpy(&address, r->ai_addr, r->ai_addrlen);
    found.push_back(address);
  }
  freeaddrinfo(results);
  return found;
}

bool endpointsOf(int fd, sockaddr_storage* local, sockaddr_storage* peer) {
  socklen_t length = sizeof(*local);
  std::memset(local, 0, sizeof(*local));
  std::memset(peer, 0, sizeof(*peer));
  if (getsockname(fd, reinterpret_cast<sockaddr*>(local), &length) != 0) return false;
  length = sizeof(*peer);
  return getpeername(fd, reinterpret_cast<sockaddr*>(peer), &length) == 0;
}

// This process's open descriptors that are sockets, in increasing order.
std::vector<int> socketDescriptors() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* entry = readdir(dir)) {
    int fd = 0;
    struct stat st;
    if (absl::SimpleAtoi(entry->d_name, &fd) && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
      fds.push_back(fd);
    }
  }
  closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

}  // namespace

bool splitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon;
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':')
      return false;
    *host = address.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) return false;
    *host = address.substr(0, colon);
  }
  return !host->empty() && absl::SimpleAtoi(address.substr(colon + 1), port) && *port >= 1 &&
         *port <= 65535;
}

TcpConnectionMeter::TcpConnectionMeter(int fd, const sockaddr_storage& local,
                                       const sockaddr_storage& peer)
    : fd_(fd), local_(local), peer_(peer) {}

std::optional<TcpConnectionMeter> TcpConnectionMeter::find(const std::string& manager) {
  std::string host;
  int port = 0;
  if (!splitHostPort(manager, &host, &port)) return std::nullopt;
  const std::vector<sockaddr_storage> peers = resolve(host, port);
  std::vector<int> fds = socketDescriptors();
  for (auto fd = fds.rbegin(); fd != fds.rend(); ++fd) {
    sockaddr_storage local;
    sockaddr_storage peer;
    if (!endpointsOf(*fd, &local, &peer)) continue;
    for (const sockaddr_storage& wanted : peers) {
      if (sameEndpoint(peer, wanted)) return TcpConnectionMeter(*fd, local, peer);
    }
  }
  return std::nullopt;
}

WireBytes TcpConnectionMeter::read() {
  sockaddr_storage local;
  sockaddr_storage peer;
  if (!endpointsOf(fd_, &local, &peer) || !sameEndpoint(local, local_) ||
      !sameEndpoint(peer, peer_)) {
    return last_;
  }
  tcp_info info;
  socklen_t length = sizeof(info);
  std::memset(&info, 0, sizeof(info));
  if (getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return last_;
  // bytes_acked counts the SYN as one byte once the handshake is done.
  last_.sent = info.tcpi_bytes_acked > 0 ? info.tcpi_bytes_acked - 1 : 0;
  last_.received = info.tcpi_bytes_received;
  return last_;
}

}  // namespace asp::relay
