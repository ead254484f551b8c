// UnixDatagramTransport: the agent's MQueue as a real Unix datagram socket
// (docs/protocol.md §4).
//
// One socket per protocol instance, bound to an autobind (abstract) address so the
// manager can answer, and connect()ed to the manager's queue socket path. send() frames
// each message as "s:<module>:<message>". A receiver thread reads answers, strips the
// "<module>_sync " header and hands the message to the answer handler (usually
// AgentSyncProtocol::parseResponseBuffer); datagrams for another module or without the
// header are dropped and counted.
//
// Trust (docs/protocol.md §4): an abstract address is listed in /proc/net/unix for every
// local user, so anyone could send "answers" to it. The socket is connected to the
// manager's path, so the kernel delivers datagrams from that peer alone, and every
// datagram's sender is checked again on receipt: only the socket bound at the queue path
// is heard; anything else is dropped and counted (answers_from_strangers). Protect the
// queue path's directory: whoever can bind that path is the manager.
//
// Failures: a restarted manager (a new socket at the same path) is reached again by
// connecting again when the old peer refuses; when no manager listens, send() returns
// Unavailable at once, so a session fails fast with a transport error and the queue
// keeps its changes. A full manager queue makes send() wait (in
// 20 ms slices, up to `send_timeout`, interruptible), never drop. A frame over 65,536
// bytes is InvalidArgument, never sent truncated.
//
// Thread-safety: send() may be called from any thread; the answer handler runs on the
// receiver thread.
#ifndef ASP_TRANSPORT_UNIX_DATAGRAM_TRANSPORT_H_
#define ASP_TRANSPORT_UNIX_DATAGRAM_TRANSPORT_H_

#include <sys/un.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asp/transport/transport.h"

namespace asp {

class UnixDatagramTransport final : public Transport {
 public:
  using AnswerHandler = std::function<void(const uint8_t* data, size_t length)>;

  struct Options {
    std::string queue_path;  // the manager's socket, e.g. /var/ossec/queue/sockets/queue
    std::string module;      // answers are accepted only for "<module>_sync "
    absl::Duration send_timeout = absl::Seconds(5);
  };

  struct Counters {
    uint64_t datagrams_sent = 0;
    uint64_t bytes_sent = 0;
    uint64_t full_buffer_waits = 0;
    uint64_t answers = 0;
    uint64_t answers_dropped = 0;         // not for this module, or no header
    uint64_t answers_from_strangers = 0;  // sent by anyone but the manager's socket
  };

  static absl::StatusOr<std::unique_ptr<UnixDatagramTransport>> open(Options options);
  ~UnixDatagramTransport() override;

  // Where answers go; may be set (or replaced, or cleared with nullptr) at any time.
  // Returns once no call to the previous handler is running, so clearing it before
  // destroying the protocol it calls is safe.
  void setAnswerHandler(AnswerHandler handler);

  absl::Status send(absl::string_view module, absl::string_view message) override;
  void interrupt() override;
  void resume() override;

  Counters counters() const;

 private:
  UnixDatagramTransport(Options options, int fd);

  void receive();
  // Connects the socket to the queue path; 0, or the errno. Requires send_mu_.
  int connectToManager();
  // Whether a datagram's source address is the manager's queue path.
  bool fromManager(const sockaddr_un& from, socklen_t length) const;

  const Options options_;
  const int fd_;
  sockaddr_un peer_;
  std::mutex send_mu_;  // one datagram at a time; guards connected_
  bool connected_ = false;
  std::mutex fd_mu_;  // connect() and recvfrom() never overlap (taken inside send_mu_)
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> stopping_{false};

  std::mutex handler_mu_;  // guards handler_; held while it runs
  AnswerHandler handler_;
  mutable std::mutex mu_;  // guards counters_
  Counters counters_;
  std::thread receiver_;
};

}  // namespace asp

#endif  // ASP_TRANSPORT_UNIX_DATAGRAM_TRANSPORT_H_
