#include "asp/transport/framing.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"

namespace asp::framing {
namespace {

absl::Status checkSize(size_t header, size_t message) {
  if (header + message <= wire::kMaxDatagramBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("a frame of ", header + message, " bytes (",
                                                 message, "-byte message) exceeds the ",
                                                 wire::kMaxDatagramBytes, "-byte datagram limit"));
}

std::string preview(absl::string_view bytes) { return absl::CHexEscape(bytes.substr(0, 24)); }

}  // namespace

absl::StatusOr<std::string> encodeAgentFrame(absl::string_view module, absl::string_view message) {
  if (absl::Status s = wire::validateModuleName(module); !s.ok()) return s;
  if (absl::Status s = checkSize(wire::agentHeaderBytes(module), message.size()); !s.ok()) return s;
  return absl::StrCat("s:", module, ":", message);
}

absl::StatusOr<std::string> encodeManagerFrame(absl::string_view module,
                                               absl::string_view message) {
  if (absl::Status s = wire::validateModuleName(module); !s.ok()) return s;
  if (absl::Status s = checkSize(wire::managerHeaderBytes(module), message.size()); !s.ok()) {
    return s;
  }
  return absl::StrCat(module, "_sync ", message);
}

absl::StatusOr<AgentFrame> decodeAgentFrame(absl::string_view datagram) {
  if (!absl::StartsWith(datagram, "s:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("datagram does not start with \"s:\": \"", preview(datagram), "\""));
  }
  // Module names cannot contain ':', so the first ':' after "s:" ends the header.
  const size_t end = datagram.find(':', 2);
  if (end == absl::string_view::npos || end > 2 + wire::kMaxModuleNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("datagram has no \"s:<module>:\" header: \"", preview(datagram), "\""));
  }
  AgentFrame frame{datagram.substr(2, end - 2), datagram.substr(end + 1)};
  if (absl::Status s = wire::validateModuleName(frame.module); !s.ok()) return s;
  return frame;
}

absl::StatusOr<absl::string_view> decodeManagerFrame(absl::string_view module,
                                                     absl::string_view datagram) {
  const std::string header = absl::StrCat(module, "_sync ");
  if (!absl::StartsWith(datagram, header)) {
    return absl::InvalidArgumentError(
        absl::StrCat("answer is not addressed to \"", header, "\": \"", preview(datagram), "\""));
  }
  return datagram.substr(header.size());
}

}  // namespace asp::framing
