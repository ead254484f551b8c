// DatagramBuffer: the relay's outbound buffer, between the local socket and the manager
// stream (docs/protocol.md §9): bounded in bytes, first in first out.
//
// Backpressure: the socket reader waits for room for a whole datagram before each read.
// While the buffer is full it does not read, so the kernel's queue on the local socket
// fills and modules' sends wait (UnixDatagramTransport waits, it does not drop): a slow
// network slows the modules down and never grows the relay's memory.
//
// Nothing here is acknowledged to anyone: a datagram in the buffer when the relay stops
// is lost like one lost on the network, and the protocol's own resends recover it.
//
// Waits go through asp::Clock (tests run them on a simulated clock). Thread-safe: one
// reader and one writer, or more.
#ifndef ASP_RELAY_DATAGRAM_BUFFER_H_
#define ASP_RELAY_DATAGRAM_BUFFER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "asp/base/clock.h"

namespace asp::relay {

class DatagramBuffer {
 public:
  DatagramBuffer(size_t max_bytes, Clock* clock);

  // Waits until `bytes` more fit, close(), or `deadline`; true when they fit. A wait that
  // finds the buffer full counts once in fullWaits().
  bool waitForRoom(size_t bytes, absl::Time deadline);

  // Appends; false (and nothing appended) when it does not fit or after close().
  bool push(std::string datagram);

  // The oldest datagram; waits for one until close() or `deadline` (then nullopt).
  std::optional<std::string> pop(absl::Time deadline);

  // Wakes every waiter; push() fails from now on, pop() returns what is left, then nullopt.
  void close();

  size_t bytes() const;
  size_t size() const;
  uint64_t fullWaits() const;

 private:
  const size_t max_bytes_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> datagrams_;
  size_t bytes_ = 0;
  bool closed_ = false;
  uint64_t full_waits_ = 0;
};

}  // namespace asp::relay

#endif  // ASP_RELAY_DATAGRAM_BUFFER_H_
