#include "asp/proto/limits.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace asp::wire {
namespace {

constexpr size_t kTagBytes = 1;  // every field number in the schema is < 16
constexpr size_t kMaxVarintBytes = 10;

// A length-delimited field of `length` bytes; proto3 omits it when empty.
size_t lengthDelimitedBytes(size_t length) {
  return length == 0 ? 0 : kTagBytes + varintBytes(length) + length;
}

bool isModuleNameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-'; }

}  // namespace

absl::Status validateModuleName(absl::string_view module) {
  if (module.empty()) return absl::InvalidArgumentError("module name is empty");
  if (module.size() > kMaxModuleNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat("module name '", module, "' is ", module.size(),
                                                   " bytes; the limit is ", kMaxModuleNameBytes));
  }
  for (char c : module) {
    if (!isModuleNameChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("module name '", absl::CHexEscape(module),
                       "' may only hold letters, digits, '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

size_t agentHeaderBytes(absl::string_view module) { return module.size() + 3; }

size_t managerHeaderBytes(absl::string_view module) { return module.size() + 6; }

size_t varintBytes(uint64_t value) {
  size_t bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++bytes;
  }
  return bytes;
}

size_t singleValueMessageBytes(size_t id_bytes, size_t index_bytes, size_t data_bytes) {
  const size_t value = 3 * (kTagBytes + kMaxVarintBytes)  // seq, session, version
                       + kTagBytes + 1                    // operation
                       + lengthDelimitedBytes(id_bytes) + lengthDelimitedBytes(index_bytes) +
                       lengthDelimitedBytes(data_bytes);
  const size_t batch = kTagBytes + varintBytes(value) + value;
  return kTagBytes + varintBytes(batch) + batch;
}

}  // namespace asp::wire
