// FakeTransport: a Transport for unit tests. It records every message sent (decoded),
// can be told to fail sends, and hands each message to a receiver (e.g. FakeManager).
// Thread-safe.
#ifndef ASP_TESTING_FAKE_TRANSPORT_H_
#define ASP_TESTING_FAKE_TRANSPORT_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "asp/proto/wire.pb.h"
#include "asp/transport/transport.h"

namespace asp::testing {

class FakeTransport final : public Transport {
 public:
  using Receiver = std::function<void(const std::string& module, const std::string& bytes)>;

  void setReceiver(Receiver receiver);
  // The next `count` sends fail with Unavailable.
  void failNextSends(int count);
  // Whether sent() keeps messages (turn off for large loads). Default on.
  void setRecording(bool recording);
  // The next send blocks (like a full socket buffer) until interrupt().
  void blockNextSend();
  // True while a send is blocked.
  bool blocked() const;

  void interrupt() override;
  void resume() override;

  absl::Status send(absl::string_view module, absl::string_view message) override;

  // Every message sent so far, decoded, in order.
  std::vector<wire::v1::Message> sent() const;
  // How many sent messages have the given content.
  int count(wire::v1::Message::ContentCase kind) const;
  void clear();

 private:
  mutable std::mutex mu_;
  Receiver receiver_;
  int failures_left_ = 0;
  bool recording_ = true;
  bool block_next_ = false;
  bool blocked_ = false;
  bool interrupted_ = false;
  std::condition_variable cv_;
  std::vector<wire::v1::Message> sent_;
};

}  // namespace asp::testing

#endif  // ASP_TESTING_FAKE_TRANSPORT_H_
