#include "tests/fuzz/fuzz_target.h"

namespace asp::fuzz {

std::vector<std::string> splitMessages(const uint8_t* data, size_t size) {
  std::vector<std::string> messages(1);
  for (size_t i = 0; i < size; ++i) {
    if (i + 1 < size && data[i] == 0xff && data[i + 1] == 0xfe) {
      messages.emplace_back();
      ++i;
      continue;
    }
    messages.back().push_back(static_cast<char>(data[i]));
  }
  return messages;
}

std::string joinMessages(const std::vector<std::string>& messages) {
  std::string joined;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i > 0) joined += "\xff\xfe";
    joined += messages[i];
  }
  return joined;
}

}  // namespace asp::fuzz
