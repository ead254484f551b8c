// The plain side of //bench:transport_bench: a datagram receiver that only counts, and
// a sender that reads the backlog with plain SQL and sends it as DataBatch frames.
//
// PlainReceiver binds a Unix datagram socket at a path (with the reference manager's
// 8 MiB SO_RCVBUF) and counts the datagrams and bytes it receives on its own thread.
// A datagram holding exactly kDoneMarker ends a transfer: the receiver answers its
// sender with the counts so far (PlainTally) and starts counting afresh. Since a Unix
// datagram socket delivers in order, the answer proves that everything sent before
// the marker has been received: the transfer is timed end to end.
//
// sendBacklogPlainly() is the plain program: readAndPack() with the "s:<module>:"
// header as prefix, each frame sent with one blocking sendto() on an autobound socket,
// then the marker, then it waits for the receiver's counts.
//
// PlainReceiver is thread-safe; its destructor stops the thread.
#ifndef BENCH_PLAIN_DATAGRAM_H_
#define BENCH_PLAIN_DATAGRAM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bench/sync_bench_support.h"

namespace asp::bench {

inline constexpr absl::string_view kDoneMarker = "plain-transfer-done";

struct PlainTally {
  uint64_t datagrams = 0;
  uint64_t bytes = 0;
};

class PlainReceiver {
 public:
  static absl::StatusOr<std::unique_ptr<PlainReceiver>> start(const std::string& path);
  ~PlainReceiver();
  PlainReceiver(const PlainReceiver&) = delete;
  PlainReceiver& operator=(const PlainReceiver&) = delete;

  const std::string& path() const { return path_; }

 private:
  PlainReceiver(std::string path, int fd);
  void run();

  const std::string path_;
  const int fd_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

struct PlainTransferStats {
  PlainRunStats packed;         // what readAndPack() did
  uint64_t datagram_bytes = 0;  // header included
  PlainTally received;          // what the receiver counted
};

// Sends every pending change of the queue file at `queue_path` to the receiver at
// `receiver_path`, in frames of at most `frame_budget_bytes` (header included), and
// waits until the receiver confirms it has them all. An error if the counts differ.
absl::StatusOr<PlainTransferStats> sendBacklogPlainly(const std::string& queue_path,
                                                      const std::string& receiver_path,
                                                      size_t frame_budget_bytes);

}  // namespace asp::bench

#endif  // BENCH_PLAIN_DATAGRAM_H_
