#include "asp/base/clock.h"

#include <chrono>

namespace asp {
namespace {

class SteadyClock final : public Clock {
 public:
  absl::Time now() override { return toTime(std::chrono::steady_clock::now()); }

  void waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 absl::Time deadline) override {
    cv.wait_until(lock, toSteady(deadline));
  }

 private:
  static absl::Time toTime(std::chrono::steady_clock::time_point t) {
    return absl::UnixEpoch() + absl::FromChrono(t.time_since_epoch());
  }
  static std::chrono::steady_clock::time_point toSteady(absl::Time t) {
    if (t == absl::InfiniteFuture()) return std::chrono::steady_clock::time_point::max();
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            absl::ToChronoNanoseconds(t - absl::UnixEpoch())));
  }
};

}  // namespace

Clock* systemClock() {
  static SteadyClock* clock = new SteadyClock();
  return clock;
}

}  // namespace asp
