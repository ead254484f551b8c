#include "asp/storage/change_crc.h"

#include <libdeflate.h>

#include <cstring>
#include <string>

namespace asp {
namespace {

constexpr size_t kNumberBytes = 8;
// The fields before the data, encoded contiguously: one CRC call over them instead of
// six keeps small fields from costing a call each. Room on the stack for most.
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

}  // namespace

uint32_t changeCrc(absl::string_view id, absl::string_view index, int64_t op,
                   absl::string_view data, uint64_t version) {
  // The CRC of the concatenation: len(id) id len(index) index op version data, lengths
  // and numbers as 8 little-endian bytes. Everything before the data is encoded into one
  // buffer (on the stack unless the id or index is long) and fed in one call.
  const size_t head_bytes = 4 * kNumberBytes + id.size() + index.size();
  unsigned char on_stack[kHeadBytes];
  std::string on_heap;
  unsigned char* head = on_stack;
  if (head_bytes > kHeadBytes) {
    on_heap.resize(head_bytes);
    head = reinterpret_cast<unsigned char*>(on_heap.data());
  }
  size_t n = putField(id, head);
  n += putField(index, head + n);
  n += putNumber(static_cast<uint64_t>(op), head + n);
  n += putNumber(version, head + n);
  const uint32_t crc = libdeflate_crc32(0, head, n);
  // Not with an empty view: libdeflate (like zlib) returns the initial value, not `crc`,
  // when the buffer pointer is null, as an empty string_view's may be.
  return data.empty() ? crc : libdeflate_crc32(crc, data.data(), data.size());
}

}  // namespace asp
