#include "asp/storage/change_crc.h"

#include <libdeflate.h>

#include <cstring>

namespace asp {
namespace {

constexpr size_t kNumberBytes = 8;
// The fields before the data, encoded contiguously when they fit: one CRC call over
// them instead of six keeps small fields from costing a call each.
constexpr size_t kHeadBytes = 256;

size_t putNumber(uint64_t value, unsigned char* out) {
  for (size_t i = 0; i < kNumberBytes; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
  return kNumberBytes;
}

size_t putField(absl::string_view bytes, unsigned char* out) {
  const size_t n = putNumber(bytes.size(), out);
  if (!bytes.empty()) std::memcpy(out + n, bytes.data(), bytes.size());  // data() may be null
  return n + bytes.size();
}

uint32_t feed(uint32_t crc, absl::string_view bytes) {
  // Never called with an empty view: libdeflate (like zlib) returns the initial value,
  // not `crc`, when the buffer pointer is null, as an empty string_view's may be.
  return bytes.empty() ? crc : libdeflate_crc32(crc, bytes.data(), bytes.size());
}

uint32_t feedNumber(uint32_t crc, uint64_t value) {
  unsigned char bytes[kNumberBytes];
  putNumber(value, bytes);
  return libdeflate_crc32(crc, bytes, sizeof(bytes));
}

}  // namespace

uint32_t changeCrc(absl::string_view id, absl::string_view index, int64_t op,
                   absl::string_view data, uint64_t version) {
  // The CRC of the concatenation: len(id) id len(index) index op version data, lengths
  // and numbers as 8 little-endian bytes. Fed in one piece or several, it is the same.
  uint32_t crc = 0;
  if (4 * kNumberBytes + id.size() + index.size() <= kHeadBytes) {
    unsigned char head[kHeadBytes];
    size_t n = putField(id, head);
    n += putField(index, head + n);
    n += putNumber(static_cast<uint64_t>(op), head + n);
    n += putNumber(version, head + n);
    crc = libdeflate_crc32(crc, head, n);
  } else {
    crc = feedNumber(crc, id.size());
    crc = feed(crc, id);
    crc = feedNumber(crc, index.size());
    crc = feed(crc, index);
    crc = feedNumber(crc, static_cast<uint64_t>(op));
    crc = feedNumber(crc, version);
  }
  return feed(crc, data);
}

}  // namespace asp
