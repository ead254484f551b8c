#include "asp/testing/fake_transport.h"

#include <utility>

namespace asp::testing {

void FakeTransport::setReceiver(Receiver receiver) {
  std::lock_guard<std::mutex> lock(mu_);
  receiver_ = std::move(receiver);
}

void FakeTransport::failNextSends(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_left_ = count;
}

void FakeTransport::blockNextSend() {
  std::lock_guard<std::mutex> lock(mu_);
  block_next_ = true;
}

bool FakeTransport::blocked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocked_;
}

void FakeTransport::interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  cv_.notify_all();
}

void FakeTransport::resume() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = false;
}

absl::Status FakeTransport::send(absl::string_view module, absl::string_view message) {
  Receiver receiver;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (block_next_) {
      block_next_ = false;
      blocked_ = true;
      cv_.wait(lock, [&] { return interrupted_; });
      blocked_ = false;
    }
    if (interrupted_) return absl::CancelledError("fake transport: interrupted");
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::UnavailableError("fake transport: send failed");
    }
    if (recording_) {
      wire::v1::Message decoded;
      decoded.ParseFromArray(message.data(), static_cast<int>(message.size()));
      sent_.push_back(std::move(decoded));
    }
    receiver = receiver_;
  }
  if (receiver) receiver(std::string(module), std::string(message));
  return absl::OkStatus();
}

void FakeTransport::setRecording(bool recording) {
  std::lock_guard<std::mutex> lock(mu_);
  recording_ = recording;
}

std::vector<wire::v1::Message> FakeTransport::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

int FakeTransport::count(wire::v1::Message::ContentCase kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const wire::v1::Message& m : sent_) n += m.content_case() == kind ? 1 : 0;
  return n;
}

void FakeTransport::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  sent_.clear();
}

}  // namespace asp::testing
