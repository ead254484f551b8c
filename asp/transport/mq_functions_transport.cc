#include "asp/transport/mq_functions_transport.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"

namespace asp {

absl::StatusOr<std::unique_ptr<MqFunctionsTransport>> MqFunctionsTransport::create(
    MQ_Functions functions, std::string queue_path, short attempts) {
  if (functions.start == nullptr || functions.send_binary == nullptr) {
    return absl::InvalidArgumentError("MQ_Functions: start and send_binary must both be set");
  }
  return std::unique_ptr<MqFunctionsTransport>(
      new MqFunctionsTransport(functions, std::move(queue_path), attempts));
}

bool MqFunctionsTransport::startLocked() {
  ++starts_;
  queue_ = functions_.start(queue_path_.c_str(), ASP_MQ_WRITE, attempts_);
  return queue_ >= 0;
}

absl::Status MqFunctionsTransport::send(absl::string_view module, absl::string_view message) {
  if (absl::Status s = wire::validateModuleName(module); !s.ok()) return s;
  if (wire::agentHeaderBytes(module) + message.size() > wire::kMaxDatagramBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("message of ", message.size(), " bytes does not fit in a datagram"));
  }
  const std::string name(module);
  std::lock_guard<std::mutex> lock(mu_);
  bool send_failed = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // The first attempt uses the open queue; a failure restarts it once.
    if ((attempt == 1 || queue_ < 0) && !startLocked()) continue;
    if (functions_.send_binary(queue_, message.data(), message.size(), name.c_str(),
                               ASP_MQ_SYNC_LOCATION) >= 0) {
      return absl::OkStatus();
    }
    send_failed = true;
  }
  // The reason says which step failed last: a queue that cannot be started again is the
  // MQueue being down, not a message it refused.
  if (queue_ < 0) {
    return absl::UnavailableError(
        absl::StrCat(send_failed ? "could not send to MQueue '" : "could not start MQueue '",
                     queue_path_, send_failed ? "', and could not start it again" : "'"));
  }
  return absl::UnavailableError(
      absl::StrCat("could not send to MQueue '", queue_path_, "' (restarted it once)"));
}

int MqFunctionsTransport::starts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return starts_;
}

}  // namespace asp
