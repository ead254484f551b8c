// MqFunctionsTransport: a Transport over the C-style MQ functions an agent already has
// (see mq_functions.h).
//
// The queue is started lazily (start(path, ASP_MQ_WRITE, attempts)). A failed send
// restarts the queue once and retries; if that fails too, send() returns Unavailable
// (the session then fails with a transport error and the queue keeps its changes).
// Answers do not come back through this transport: the module feeds them to
// parseResponseBuffer() itself.
//
// Thread-safety: send() may be called from any thread.
#ifndef ASP_TRANSPORT_MQ_FUNCTIONS_TRANSPORT_H_
#define ASP_TRANSPORT_MQ_FUNCTIONS_TRANSPORT_H_

#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "asp/transport/mq_functions.h"
#include "asp/transport/transport.h"

namespace asp {

class MqFunctionsTransport final : public Transport {
 public:
  // InvalidArgument when a function pointer is null.
  static absl::StatusOr<std::unique_ptr<MqFunctionsTransport>> create(MQ_Functions functions,
                                                                      std::string queue_path,
                                                                      short attempts = 3);

  absl::Status send(absl::string_view module, absl::string_view message) override;

  // Times the queue was (re)started.
  int starts() const;

 private:
  MqFunctionsTransport(MQ_Functions functions, std::string queue_path, short attempts)
      : functions_(functions), queue_path_(std::move(queue_path)), attempts_(attempts) {}

  bool startLocked();

  const MQ_Functions functions_;
  const std::string queue_path_;
  const short attempts_;
  mutable std::mutex mu_;
  int queue_ = -1;
  int starts_ = 0;
};

}  // namespace asp

#endif  // ASP_TRANSPORT_MQ_FUNCTIONS_TRANSPORT_H_
