#include "asp/storage/id_filter.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace asp {
namespace {

size_t roundUpToPowerOfTwo(size_t n) {
  size_t p = 64;
  while (p < n) p <<= 1;
  return p;
}

// All the probes of one id fall in one block of kBlockBits (one cache line), so that an
// add or a test costs one memory access, not kProbes scattered ones; the false-positive
// rate at the designed load barely changes. Of the id's 64-bit hash, the low bits pick
// the bits within the block (kBlockShift each), the high bits the block.
constexpr uint64_t kBlockBits = 512;
constexpr int kBlockShift = 9;  // log2(kBlockBits)

}  // namespace

IdFilter::IdFilter(size_t bits)
    : words_(roundUpToPowerOfTwo(bits) / 64, 0), mask_(roundUpToPowerOfTwo(bits) - 1) {}

uint64_t IdFilter::blockOf(uint64_t hash) const {
  const uint64_t blocks = (mask_ + 1) / kBlockBits;  // 0 when smaller than one block
  return blocks == 0 ? 0 : ((hash >> 40) & (blocks - 1)) * kBlockBits;
}

uint64_t IdFilter::bitOf(uint64_t block, uint64_t hash, int probe) const {
  const uint64_t within = (hash >> (kBlockShift * probe)) & (kBlockBits - 1);
  return (block + within) & mask_;
}

void IdFilter::add(absl::string_view id) {
  const uint64_t hash = absl::HashOf(id);
  const uint64_t block = blockOf(hash);
  for (int i = 0; i < kProbes; ++i) {
    const uint64_t bit = bitOf(block, hash, i);
    words_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool IdFilter::mayContain(absl::string_view id) const {
  const uint64_t hash = absl::HashOf(id);
  const uint64_t block = blockOf(hash);
  for (int i = 0; i < kProbes; ++i) {
    const uint64_t bit = bitOf(block, hash, i);
    if ((words_[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

void IdFilter::clear() { std::fill(words_.begin(), words_.end(), 0); }

}  // namespace asp
