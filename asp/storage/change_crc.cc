#include "asp/storage/change_crc.h"

#include <zlib.h>

namespace asp {
namespace {

uLong feed(uLong crc, absl::string_view bytes) {
  // zlib takes lengths as uInt: feed a large value in slices.
  while (!bytes.empty()) {
    const size_t n = bytes.size() < (1u << 30) ? bytes.size() : (1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return crc;
}

uLong feedNumber(uLong crc, uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  return crc32(crc, bytes, sizeof(bytes));
}

}  // namespace

uint32_t changeCrc(absl::string_view id, absl::string_view index, int64_t op,
                   absl::string_view data, uint64_t version) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = feedNumber(crc, id.size());
  crc = feed(crc, id);
  crc = feedNumber(crc, index.size());
  crc = feed(crc, index);
  crc = feedNumber(crc, static_cast<uint64_t>(op));
  crc = feedNumber(crc, version);
  crc = feed(crc, data);
  return static_cast<uint32_t>(crc);
}

}  // namespace asp
