// ManagerServer: the reference manager on a real Unix datagram socket (docs/protocol.md §4,
// §7). It binds `socket_path`, reads "s:<module>:<message>" datagrams from any number
// of agents and modules, hands each message to a ManagerCore, and answers
// "<module>_sync <answer>" to the datagram's source address.
//
// For tests it can misbehave on purpose: drop incoming data datagrams (`drop_rate`),
// handle datagrams twice so data and answers are duplicated (`duplicate_rate`), and
// delay answers (`answer_delay`). Counters say exactly how many data values it dropped.
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
#include <random>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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
    double drop_rate = 0;       // incoming data datagrams dropped, 0..1
    double duplicate_rate = 0;  // incoming datagrams handled twice, 0..1
    absl::Duration answer_delay = absl::ZeroDuration();
    uint64_t seed = 0;          // fault injection randomness; 0: random
  };

  struct Counters {
    uint64_t datagrams = 0;
    uint64_t bad_datagrams = 0;
    uint64_t dropped_datagrams = 0;
    uint64_t dropped_values = 0;  // data messages inside the dropped datagrams
    uint64_t duplicated = 0;
    uint64_t answers_sent = 0;
    uint64_t answers_lost = 0;    // the agent's socket was gone or full
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
  std::mt19937_64 random_;
  std::deque<Pending> delayed_;  // server thread only
  mutable std::mutex mu_;        // guards counters_
  Counters counters_;
  std::thread thread_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_MANAGER_SERVER_H_
