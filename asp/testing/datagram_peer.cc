#include "asp/testing/datagram_peer.h"

#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace asp::testing {

DatagramPeer::DatagramPeer(std::string path) : path_(std::move(path)) {
  unlink(path_.c_str());
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address;
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
  if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) close();
}

DatagramPeer::~DatagramPeer() { close(); }

void DatagramPeer::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    unlink(path_.c_str());
  }
  fd_ = -1;
}

std::optional<std::string> DatagramPeer::receive(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
  std::vector<char> buffer(70000);
  last_sender_len_ = sizeof(last_sender_);
  const ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), 0,
                             reinterpret_cast<sockaddr*>(&last_sender_), &last_sender_len_);
  if (n < 0) return std::nullopt;
  return std::string(buffer.data(), static_cast<size_t>(n));
}

bool DatagramPeer::answerAs(const DatagramPeer& other, const std::string& bytes) {
  return sendto(fd_, bytes.data(), bytes.size(), 0,
                reinterpret_cast<const sockaddr*>(&other.last_sender_),
                other.last_sender_len_) == static_cast<ssize_t>(bytes.size());
}

bool DatagramPeer::answer(const std::string& bytes) {
  return sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&last_sender_),
                last_sender_len_) == static_cast<ssize_t>(bytes.size());
}

}  // namespace asp::testing
