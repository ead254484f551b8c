// Which message a serialized asp.wire.v1.Message is, read from its first byte, for
// test and benchmark transports that must not pay for a full parse per message.
#ifndef ASP_TESTING_WIRE_SCAN_H_
#define ASP_TESTING_WIRE_SCAN_H_

#include "absl/strings/string_view.h"

namespace asp::testing {

// The field number of the oneof member a serialized Message holds (1 = start,
// 4 = data_batch, 8 = end, ...), read from its first tag; 0 if unreadable.
int messageField(absl::string_view message);
inline constexpr int kStartField = 1;
inline constexpr int kDataBatchField = 4;
inline constexpr int kEndField = 8;

}  // namespace asp::testing

#endif  // ASP_TESTING_WIRE_SCAN_H_
