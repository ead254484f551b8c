// Text rules shared by everything that puts strings on the wire or in an error message.
//
// Every string the protocol carries (ids, indices, module and agent fields) travels as a
// proto3 `string`, which peers reject unless it is valid UTF-8 (docs/protocol.md §2). So such
// a string is checked where it enters the library, with an error that names the first
// offending byte, instead of being accepted and then stuck in a queue forever.
//
// Thread-safe: pure functions.
#ifndef ASP_BASE_TEXT_H_
#define ASP_BASE_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace asp {

// The offset of the first byte that makes `text` not well-formed UTF-8 (Unicode 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence), or
// nullopt when all of it is.
std::optional<size_t> firstInvalidUtf8(absl::string_view text);

// OK, or InvalidArgument: "<what> is not valid UTF-8: byte 3 (0xe9) of 'caf\xe9.txt'",
// with a hint on how to key raw-byte names.
absl::Status checkUtf8(absl::string_view what, absl::string_view text);

// `value` for an error message: quoted, non-printable bytes escaped, and cut after
// `max_bytes` with its full length noted, so a 70 KB id does not flood a log.
std::string quoteValue(absl::string_view value, size_t max_bytes = 80);

}  // namespace asp

#endif  // ASP_BASE_TEXT_H_
