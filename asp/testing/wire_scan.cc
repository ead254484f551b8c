#include "asp/testing/wire_scan.h"

namespace asp::testing {

int messageField(absl::string_view message) {
  if (message.empty()) return 0;
  const auto tag = static_cast<unsigned char>(message[0]);
  // Every field of Message is < 16 and length-delimited: a one-byte tag, wire type 2.
  return (tag & 0x80) == 0 && (tag & 7) == 2 ? tag >> 3 : 0;
}

}  // namespace asp::testing
