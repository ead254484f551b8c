#include "asp/relay/datagram_buffer.h"

namespace asp::relay {

DatagramBuffer::DatagramBuffer(size_t max_bytes, Clock* clock)
    : max_bytes_(max_bytes), clock_(clock) {}

bool DatagramBuffer::waitForRoom(size_t bytes, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  bool counted = false;
  while (!closed_ && bytes_ + bytes > max_bytes_) {
    if (!counted) {
      ++full_waits_;
      counted = true;
    }
    if (clock_->now() >= deadline) return false;
    clock_->waitUntil(lock, changed_, deadline);
  }
  return !closed_;
}

bool DatagramBuffer::push(std::string datagram) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || bytes_ + datagram.size() > max_bytes_) return false;
  bytes_ += datagram.size();
  datagrams_.push_back(std::move(datagram));
  changed_.notify_all();
  return true;
}

std::optional<std::string> DatagramBuffer::pop(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (datagrams_.empty()) {
    if (closed_ || clock_->now() >= deadline) return std::nullopt;
    clock_->waitUntil(lock, changed_, deadline);
  }
  std::string datagram = std::move(datagrams_.front());
  datagrams_.pop_front();
  bytes_ -= datagram.size();
  changed_.notify_all();
  return datagram;
}

void DatagramBuffer::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  changed_.notify_all();
}

size_t DatagramBuffer::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t DatagramBuffer::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return datagrams_.size();
}

uint64_t DatagramBuffer::fullWaits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return full_waits_;
}

}  // namespace asp::relay
