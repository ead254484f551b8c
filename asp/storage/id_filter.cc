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

// Two independent halves of one 64-bit hash give every probe (double hashing); the
// second is odd so that the probes of one id never coincide.
struct Probes {
  uint64_t first, step;
};

Probes probesOf(absl::string_view id) {
  const uint64_t h = absl::HashOf(id);
  return {h, ((h >> 32) | (h << 32)) | 1};
}

}  // namespace

IdFilter::IdFilter(size_t bits)
    : words_(roundUpToPowerOfTwo(bits) / 64, 0), mask_(roundUpToPowerOfTwo(bits) - 1) {}

void IdFilter::add(absl::string_view id) {
  const Probes p = probesOf(id);
  for (int i = 0; i < kProbes; ++i) {
    const uint64_t bit = (p.first + static_cast<uint64_t>(i) * p.step) & mask_;
    words_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool IdFilter::mayContain(absl::string_view id) const {
  const Probes p = probesOf(id);
  for (int i = 0; i < kProbes; ++i) {
    const uint64_t bit = (p.first + static_cast<uint64_t>(i) * p.step) & mask_;
    if ((words_[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

void IdFilter::clear() { std::fill(words_.begin(), words_.end(), 0); }

}  // namespace asp
