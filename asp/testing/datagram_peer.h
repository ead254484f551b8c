// DatagramPeer: a bound Unix datagram socket for transport tests: receives what agents
// send and answers to their address.
#ifndef ASP_TESTING_DATAGRAM_PEER_H_
#define ASP_TESTING_DATAGRAM_PEER_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string>

namespace asp::testing {

class DatagramPeer {
 public:
  // Binds `path` (removing a stale file first).
  explicit DatagramPeer(std::string path);
  ~DatagramPeer();
  DatagramPeer(const DatagramPeer&) = delete;
  DatagramPeer& operator=(const DatagramPeer&) = delete;

  bool ok() const { return fd_ >= 0; }
  // The next datagram, waiting up to `timeout_ms`; remembers its sender.
  std::optional<std::string> receive(int timeout_ms = 5000);
  // Sends `bytes` to the sender of the last datagram received.
  bool answer(const std::string& bytes);
  // Sends `bytes` to the sender of the last datagram `other` received, as a stranger
  // would who learned that address (e.g. from /proc/net/unix). False if refused.
  bool answerAs(const DatagramPeer& other, const std::string& bytes);
  void close();

 private:
  std::string path_;
  int fd_ = -1;
  sockaddr_un last_sender_{};
  socklen_t last_sender_len_ = 0;
};

}  // namespace asp::testing

#endif  // ASP_TESTING_DATAGRAM_PEER_H_
