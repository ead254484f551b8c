// IdFilter: a fixed-size Bloom filter of change ids, so that recording a change whose id
// has no row in the queue can skip the coalescing lookup. Blocked: all the probes of an
// id fall in one 64-byte block, one memory access per add or test.
//
// mayContain() is false only for an id never added since the last clear(): no false
// negatives, some false positives (2.1% at 500,000 ids in 4 Mbit, rising with more; a false
// positive only costs the lookup the filter would have saved). Memory is fixed at
// construction whatever the number of ids.
//
// Not thread-safe: the queue guards it with its database mutex.
#ifndef ASP_STORAGE_ID_FILTER_H_
#define ASP_STORAGE_ID_FILTER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace asp {

class IdFilter {
 public:
  // `bits` is rounded up to a power of two (at least 64).
  explicit IdFilter(size_t bits);

  void add(absl::string_view id);
  bool mayContain(absl::string_view id) const;
  void clear();

  size_t bits() const { return words_.size() * 64; }

 private:
  static constexpr int kProbes = 4;
  // The first bit of the block `hash` falls in (once per id), and the bit of its
  // `probe` in that block.
  uint64_t blockOf(uint64_t hash) const;
  uint64_t bitOf(uint64_t block, uint64_t hash, int probe) const;
  std::vector<uint64_t> words_;
  uint64_t mask_;  // bits() - 1
};

}  // namespace asp

#endif  // ASP_STORAGE_ID_FILTER_H_
