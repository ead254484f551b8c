#include "asp/testing/timing_transport.h"

#include "asp/testing/wire_scan.h"

namespace asp::testing {

absl::Status TimingTransport::send(absl::string_view module, absl::string_view message) {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
          .count();
  switch (messageField(message)) {
    case kStartField:
      start_ns_ = now;
      break;
    case kEndField:
      end_ns_ = now;
      break;
    default:
      break;
  }
  return inner_->send(module, message);
}

void TimingTransport::reset() {
  start_ns_ = 0;
  end_ns_ = 0;
}

}  // namespace asp::testing
