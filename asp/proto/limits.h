// Size and naming limits of the wire format (docs/protocol.md §4).
//
// Every datagram is at most kMaxDatagramBytes including its ASCII header. A module
// name is 1..kMaxModuleNameBytes bytes of [A-Za-z0-9_-]. singleValueMessageBytes()
// plus agentHeaderBytes() gives the exact worst-case size of the datagram that carries
// one change, so a change that can never fit is refused when it is recorded, not
// dropped later.
// Thread-safe: pure functions.
#ifndef ASP_PROTO_LIMITS_H_
#define ASP_PROTO_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace asp::wire {

inline constexpr size_t kMaxDatagramBytes = 65536;
inline constexpr size_t kMaxModuleNameBytes = 64;
// Default frame budget (docs/protocol.md §8): 60 KiB per datagram, header included.
inline constexpr size_t kDefaultFrameBudgetBytes = 60 * 1024;

// OK, or InvalidArgument naming the offending name and rule.
absl::Status validateModuleName(absl::string_view module);

// Bytes of the agent -> manager header "s:<module>:".
size_t agentHeaderBytes(absl::string_view module);

// Bytes of the manager -> agent header "<module>_sync ".
size_t managerHeaderBytes(absl::string_view module);

// Bytes of the protobuf varint encoding of `value` (1..10).
size_t varintBytes(uint64_t value);

// Worst-case size of a serialized Message holding a DataBatch with one DataValue of
// the given field sizes, with seq, session and version at their largest encodings.
// Add agentHeaderBytes() for the whole datagram.
size_t singleValueMessageBytes(size_t id_bytes, size_t index_bytes, size_t data_bytes);

}  // namespace asp::wire

#endif  // ASP_PROTO_LIMITS_H_
