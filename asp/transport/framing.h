// MQueue framing (docs/protocol.md §4).
//
//   agent -> manager:  "s:" + module + ":" + serialized Message
//   manager -> agent:  module + "_sync " + serialized Message
//
// A datagram is at most wire::kMaxDatagramBytes (65,536) bytes, header included.
// Encoders refuse what would not fit (InvalidArgument naming the sizes); decoders refuse
// a datagram whose header is missing or malformed. Thread-safe: pure functions.
#ifndef ASP_TRANSPORT_FRAMING_H_
#define ASP_TRANSPORT_FRAMING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asp::framing {

// "s:<module>:<message>".
absl::StatusOr<std::string> encodeAgentFrame(absl::string_view module, absl::string_view message);

// "<module>_sync <message>".
absl::StatusOr<std::string> encodeManagerFrame(absl::string_view module, absl::string_view message);

struct AgentFrame {
  absl::string_view module;
  absl::string_view message;
};

// Splits "s:<module>:<message>"; the views point into `datagram`.
absl::StatusOr<AgentFrame> decodeAgentFrame(absl::string_view datagram);

// The message of "<module>_sync <message>" addressed to `module`; InvalidArgument when
// the header is missing or names another module.
absl::StatusOr<absl::string_view> decodeManagerFrame(absl::string_view module,
                                                     absl::string_view datagram);

}  // namespace asp::framing

#endif  // ASP_TRANSPORT_FRAMING_H_
