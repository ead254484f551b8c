// IdentityStreams: how many relay streams (docs/protocol.md §9) each agent identity holds at
// once on the manager's network endpoint, with a limit.
//
// An agent host keeps one stream; a second one from the same identity usually means the
// first is dead on a path the manager has not noticed yet (a cut the keepalive will see
// later), or the relay restarted. So a stream beyond the limit is let in and the
// identity's OLDEST stream is cancelled, instead of locking the host out until the dead
// one times out. An identity can never hold more than `max_per_identity` streams, so it
// cannot take more than its share of the manager's threads and buffers.
//
// Thread-safe: streams come and go on the endpoint's handler threads.
#ifndef ASP_MANAGER_IDENTITY_STREAMS_H_
#define ASP_MANAGER_IDENTITY_STREAMS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace asp::manager {

class IdentityStreams {
 public:
  explicit IdentityStreams(size_t max_per_identity);

  struct Admission {
    uint64_t ticket = 0;   // give it back to release()
    bool evicted = false;  // an older stream of the identity was cancelled to make room
  };

  // Registers a stream of `identity`; `cancel` ends it (it must not block, and may be
  // called from another thread). When the identity already holds the maximum, its oldest
  // stream's `cancel` is called (under the lock) and that stream no longer counts.
  Admission admit(const std::string& identity, std::function<void()> cancel);

  // The stream is over. Releasing a ticket twice, or one that was evicted, does nothing.
  void release(const std::string& identity, uint64_t ticket);

  size_t streams(const std::string& identity) const;
  uint64_t evictions() const;

 private:
  struct Stream {
    uint64_t ticket;
    std::function<void()> cancel;
  };

  const size_t max_per_identity_;
  mutable std::mutex mu_;
  uint64_t next_ticket_ = 1;
  uint64_t evictions_ = 0;
  std::map<std::string, std::deque<Stream>> streams_;  // oldest first
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_IDENTITY_STREAMS_H_
