// The checksum each stored change carries (docs/protocol.md §6): a change damaged on disk
// is found when it is read for sending, and never reaches the manager as good data.
//
// The CRC-32 of zlib and gzip (computed by libdeflate, with carry-less multiplication)
// over the change's id, index, stored operation, version and data, with the lengths
// mixed in so that no two different changes share an encoding. Thread-safe.
#ifndef ASP_STORAGE_CHANGE_CRC_H_
#define ASP_STORAGE_CHANGE_CRC_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace asp {

uint32_t changeCrc(absl::string_view id, absl::string_view index, int64_t op,
                   absl::string_view data, uint64_t version);

}  // namespace asp

#endif  // ASP_STORAGE_CHANGE_CRC_H_
