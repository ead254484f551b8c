#include "asp/manager/identity_streams.h"

#include <algorithm>

namespace asp::manager {

IdentityStreams::IdentityStreams(size_t max_per_identity)
    : max_per_identity_(std::max<size_t>(1, max_per_identity)) {}

IdentityStreams::Admission IdentityStreams::admit(const std::string& identity,
                                                  std::function<void()> cancel) {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<Stream>& held = streams_[identity];
  Admission admission;
  while (held.size() >= max_per_identity_) {
    held.front().cancel();
    held.pop_front();
    ++evictions_;
    admission.evicted = true;
  }
  admission.ticket = next_ticket_++;
  held.push_back(Stream{admission.ticket, std::move(cancel)});
  return admission;
}

void IdentityStreams::release(const std::string& identity, uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = streams_.find(identity);
  if (found == streams_.end()) return;
  std::deque<Stream>& held = found->second;
  held.erase(std::remove_if(held.begin(), held.end(),
                            [ticket](const Stream& s) { return s.ticket == ticket; }),
             held.end());
  if (held.empty()) streams_.erase(found);
}

size_t IdentityStreams::streams(const std::string& identity) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = streams_.find(identity);
  return found == streams_.end() ? 0 : found->second.size();
}

uint64_t IdentityStreams::evictions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evictions_;
}

}  // namespace asp::manager
