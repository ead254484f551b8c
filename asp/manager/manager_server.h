// ManagerServer: the reference manager on a real Unix datagram socket (docs/protocol.md §4,
// §7). It binds `socket_path`, reads "s:<module>:<message>" datagrams from any number
// of agents and modules, hands each message to a ManagerCore, and answers
// "<module>_sync <answer>" to the datagram's source address.
//
// Tests make it misbehave through Options::filter (asp/testing/manager_faults.h: drops,
// duplicates, late answers); the server itself has no fault injection.
//
// The socket gets mode 0660 and the configured group whatever the umask (docs/protocol.md §4).
// start() fails with a clear error when the path cannot be bound or another process is
// listening on it (a stale socket file left by a crash is replaced). The server thread
// runs until stop() or destruction. Thread-safe.
#ifndef ASP_MANAGER_MANAGER_SERVER_H_
#define ASP_MANAGER_MANAGER_SERVER_H_

#include <sys/un.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asp/manager/inbound_filter.h"
#include "asp/manager/manager_core.h"
#include "asp/manager/state_store.h"

namespace asp::manager {

class ManagerServer {
 public:
  struct Options {
    std::string socket_path;
    // Who may send to the socket besides its owner (mode 0660): a group name or number;
    // empty: the process's group. See asp/transport/queue_socket.h.
    std::string socket_group;
    ManagerCore::Options core;
    // What happens to each message on its way in (tests' faults); null: nothing.
    // Not owned; must outlive the server.
    InboundFilter* filter = nullptr;
  };

  struct Counters {
    uint64_t datagrams = 0;
    uint64_t bad_datagrams = 0;
    uint64_t answers_sent = 0;
    uint64_t answers_lost = 0;  // the agent's socket was gone or full
  };

  static absl::StatusOr<std::unique_ptr<ManagerServer>> start(Options options, StateStore* store);
  ~ManagerServer();

  // Stops the server thread and removes the socket file.
  void stop();

  Counters counters() const;
  ManagerCore& core() { return core_; }
  const std::string& socketPath() const { return options_.socket_path; }

 private:
  struct Pending {
    std::chrono::steady_clock::time_point due;
    sockaddr_un to;
    socklen_t to_length;
    std::string frame;
  };

  ManagerServer(Options options, StateStore* store, int fd);
  void run();
  void handleDatagram(const std::string& datagram, const sockaddr_un& from, socklen_t from_length);
  void sendAnswer(const sockaddr_un& to, socklen_t to_length, const std::string& frame);
  void sendDue();

  const Options options_;
  ManagerCore core_;
  const int fd_;
  std::atomic<bool> stopping_{false};
  std::deque<Pending> delayed_;  // server thread only
  mutable std::mutex mu_;        // guards counters_
  Counters counters_;
  std::thread thread_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_MANAGER_SERVER_H_
