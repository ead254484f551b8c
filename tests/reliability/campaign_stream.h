// The deterministic stream of changes the reliability campaigns record, and the state a
// module holds after a prefix of it. Ids are sparse (most changes touch a new id) so a
// lost change shows in the final state; a tenth are modifies and a tenth deletes of
// recent ids, so coalescing and cancellation are exercised too.
#ifndef TESTS_RELIABILITY_CAMPAIGN_STREAM_H_
#define TESTS_RELIABILITY_CAMPAIGN_STREAM_H_

#include <cstdint>
#include <map>
#include <string>

#include "asp/storage/change.h"

namespace asp::reliability {

inline Change streamChange(uint64_t i, const std::string& index) {
  const uint64_t h = (i * 0x9E3779B97F4A7C15ull) >> 20;
  const uint64_t kind = h % 10;
  // Modifies and deletes aim at an id recorded shortly before.
  const uint64_t target = kind >= 8 && i >= 50 ? i - 1 - (h >> 8) % 50 : i;
  const Operation op = kind == 8   ? Operation::kModify
                       : kind == 9 ? Operation::kDelete
                                   : Operation::kCreate;
  return Change{"/srv/f" + std::to_string(target), index, op,
                op == Operation::kDelete ? "" : "{\"rev\":" + std::to_string(i) + "}", i + 1};
}

// id -> data after recording changes [0, end) of the stream.
inline std::map<std::string, std::string> streamState(uint64_t end, const std::string& index) {
  std::map<std::string, std::string> state;
  for (uint64_t i = 0; i < end; ++i) {
    const Change c = streamChange(i, index);
    if (c.operation == Operation::kDelete) {
      state.erase(c.id);
    } else {
      state[c.id] = c.data;
    }
  }
  return state;
}

}  // namespace asp::reliability

#endif  // TESTS_RELIABILITY_CAMPAIGN_STREAM_H_
