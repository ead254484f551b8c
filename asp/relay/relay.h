// Relay: carries an agent host's MQueue to a manager on another machine (docs/protocol.md §9).
//
// It owns the queue socket path modules already send to (mode 0660, the configured
// group; asp/transport/queue_socket.h) and one stream to a manager at a time:
//  - every agent datagram ("s:<module>:" + Message) goes, byte for byte and in the order
//    it arrived, onto the stream; datagrams without that header, or over 65,536 bytes,
//    are dropped and counted;
//  - every answer ("<module>_sync " + Message) goes, byte for byte, to the socket the
//    module it names last sent from (answer_routes.h); one for a module never heard from,
//    or whose socket is gone or full, is dropped and counted.
//
// Managers: tried in the order given; after a round where none gave a lasting stream
// the relay waits backoff(n) (exponential, capped, with jitter) before the next round
// (reconnect_schedule.h). Waits go through `clock`.
//
// Memory: the outbound buffer holds at most `max_buffered_bytes`. While it is full the
// relay does not read the socket, so modules' sends wait (datagram_buffer.h): a slow or
// stalled network slows the modules down; the relay's memory does not grow. Nothing
// acknowledged is held: a datagram in the buffer or on a stream that breaks is lost
// like one the network loses, and each module's protocol recovers it (timeouts, ReqRet,
// resends). A session cut by a reconnect fails or is re-asked, never stored here.
//
// Threads: one reads the socket; one connects and writes the stream; one per stream
// reads answers. Thread-safe: counters() and stop() from any thread.
#ifndef ASP_RELAY_RELAY_H_
#define ASP_RELAY_RELAY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "asp/base/backoff_policy.h"
#include "asp/base/clock.h"
#include "asp/relay/answer_routes.h"
#include "asp/relay/datagram_buffer.h"
#include "asp/relay/local_queue_socket.h"
#include "asp/relay/manager_stream.h"
#include "asp/relay/reconnect_schedule.h"
#include "asp/transport/queue_socket.h"

namespace asp::relay {

// The relay's reconnect backoff: 500 ms doubling to 30 s, ±20 % jitter.
BackoffOptions defaultRelayBackoff();

class Relay {
 public:
  struct Options {
    QueueSocketOptions socket;                    // the MQueue path modules send to, and its group
    std::vector<std::string> managers;            // "host:port", the preferred first
    size_t max_buffered_bytes = size_t{1} << 20;  // at least one datagram (65,536)
    size_t max_modules = 1024;                    // answer routes remembered
    BackoffOptions backoff = defaultRelayBackoff();
    absl::Duration stable_after = absl::Seconds(10);  // a stream this old resets the backoff
    Clock* clock = nullptr;                           // default: systemClock()
    std::function<void(absl::string_view)> log;       // connections, failures: one line each
  };

  struct Counters {
    uint64_t datagrams_in = 0;  // read from modules
    uint64_t bytes_in = 0;
    uint64_t bad_datagrams = 0;        // no "s:<module>:" header, or over 65,536 bytes
    uint64_t datagrams_forwarded = 0;  // written to a stream
    uint64_t bytes_forwarded = 0;
    uint64_t datagrams_lost = 0;  // taken for a stream that broke while writing them
    uint64_t answers = 0;         // read from streams
    uint64_t answers_delivered = 0;
    uint64_t answers_unroutable = 0;  // no header, or a module never heard from
    uint64_t answers_lost = 0;        // the module's socket was gone or full
    uint64_t connects = 0;            // streams opened
    uint64_t connect_failures = 0;
    uint64_t full_buffer_waits = 0;  // times the socket was left unread, the buffer full
    WireBytes wire;                  // TCP payload bytes, all connections so far
  };

  // Binds the socket and starts. InvalidArgument for bad options (naming them); the
  // socket's errors (in use, not a socket, bad group) as bindQueueSocket() gives them.
  static absl::StatusOr<std::unique_ptr<Relay>> start(Options options,
                                                      std::unique_ptr<ManagerConnector> connector);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Stops reading, ends the stream, removes the socket path. Idempotent.
  void stop();

  Counters counters() const;
  // The manager the stream is open to; "" while there is none.
  std::string connectedManager() const;
  // Waits (on the clock) until a stream is open, up to `timeout`; true if one is.
  bool waitUntilConnected(absl::Duration timeout);

 private:
  Relay(Options options, std::unique_ptr<ManagerConnector> connector,
        std::unique_ptr<LocalQueueSocket> socket);

  void readSocket();
  void connectLoop();
  // Writes buffered datagrams to `stream` until it breaks or the relay stops.
  void runStream(ManagerStream& stream, const std::string& manager);
  void deliverAnswer(const std::string& answer);
  // Waits on the clock until `deadline` or stop(); false when stopping.
  bool sleepUntil(absl::Time deadline);
  void setConnected(std::string manager, ManagerStream* stream);
  void log(const std::string& line);

  const Options options_;
  Clock* const clock_;
  const std::unique_ptr<ManagerConnector> connector_;
  std::unique_ptr<LocalQueueSocket> socket_;  // reset by stop(), once its threads are gone
  AnswerRoutes routes_;
  DatagramBuffer buffer_;
  ReconnectSchedule schedule_;  // connect thread only
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;  // guards what follows
  std::condition_variable changed_;
  Counters counters_;
  WireBytes closed_wire_;  // of the streams that ended
  std::string connected_;
  ManagerStream* stream_ = nullptr;  // the open stream, to cancel it on stop()

  std::thread socket_thread_;
  std::thread connect_thread_;
};

}  // namespace asp::relay

#endif  // ASP_RELAY_RELAY_H_
