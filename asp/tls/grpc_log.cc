#include "asp/tls/grpc_log.h"

#include <grpc/support/log.h>

#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace asp::tls {
namespace {

std::mutex& sinkMutex() {
  static std::mutex mu;
  return mu;
}

LogSink& sink() {
  static LogSink* sink = new LogSink;
  return *sink;
}

void forward(gpr_log_func_args* args) {
  const std::string line = describeGrpcLogLine(args->message != nullptr ? args->message : "");
  std::lock_guard<std::mutex> lock(sinkMutex());
  if (sink()) sink()(line);
}

// What an OpenSSL handshake reason usually means for the relay binding.
const char* meaningOf(absl::string_view reason) {
  if (absl::StrContains(reason, "peer did not return a certificate")) {
    return "the peer presented no certificate";
  }
  if (absl::StrContains(reason, "certificate verify failed")) {
    return "the peer's certificate is not signed by the trusted CA, or is expired or not yet valid";
  }
  if (absl::StrContains(reason, "alert")) return "the peer refused our certificate";
  if (absl::StrContains(reason, "wrong version number") ||
      absl::StrContains(reason, "http request")) {
    return "the peer does not speak TLS";
  }
  return "";
}

}  // namespace

std::string describeGrpcLogLine(absl::string_view message) {
  constexpr absl::string_view kHandshake = "Handshake failed with fatal error ";
  const size_t at = message.find(kHandshake);
  if (at == absl::string_view::npos) return absl::StrCat("grpc: ", message);
  absl::string_view reason = message.substr(at + kHandshake.size());
  reason = absl::StripSuffix(reason, ".");
  const char* meaning = meaningOf(reason);
  return *meaning != '\0' ? absl::StrCat("TLS handshake refused: ", reason, " (", meaning, ")")
                          : absl::StrCat("TLS handshake refused: ", reason);
}

void routeGrpcLog(LogSink new_sink) {
  {
    std::lock_guard<std::mutex> lock(sinkMutex());
    sink() = std::move(new_sink);
  }
  gpr_set_log_function(&forward);
}

}  // namespace asp::tls
