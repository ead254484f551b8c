// TimingTransport: forwards every message to another transport and notes when the
// session's Start and End were handed over, so a session can be split into phases
// from outside the library: beginSession until the Start, the data until the End, the
// manager's answer and commitSession after.
//
// Thread-safety: send() as the wrapped transport; the times are atomics, readable
// from any thread.
#ifndef ASP_TESTING_TIMING_TRANSPORT_H_
#define ASP_TESTING_TIMING_TRANSPORT_H_

#include <atomic>
#include <chrono>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "asp/transport/transport.h"

namespace asp::testing {

class TimingTransport final : public Transport {
 public:
  using SteadyClock = std::chrono::steady_clock;

  explicit TimingTransport(Transport* inner) : inner_(inner) {}

  absl::Status send(absl::string_view module, absl::string_view message) override;
  void interrupt() override { inner_->interrupt(); }
  void resume() override { inner_->resume(); }

  // Forgets the times noted so far.
  void reset();
  // When the last Start and the last End were handed over (the epoch when none was).
  SteadyClock::time_point startAt() const { return at(start_ns_); }
  SteadyClock::time_point endAt() const { return at(end_ns_); }

 private:
  static SteadyClock::time_point at(const std::atomic<int64_t>& ns) {
    return SteadyClock::time_point(std::chrono::nanoseconds(ns.load()));
  }

  Transport* const inner_;
  std::atomic<int64_t> start_ns_{0};
  std::atomic<int64_t> end_ns_{0};
};

}  // namespace asp::testing

#endif  // ASP_TESTING_TIMING_TRANSPORT_H_
