#include "asp/established/last_call.h"

namespace asp::established {
namespace {

struct LastCall {
  const void* instance = nullptr;
  std::string reason;
};

LastCall& lastCall() {
  thread_local LastCall call;
  return call;
}

}  // namespace

void beginCall(const void* instance) {
  lastCall().instance = instance;
  lastCall().reason.clear();
}

void recordFailure(const void* instance, const std::string& reason) {
  lastCall().instance = instance;
  lastCall().reason = reason;
}

const std::string& lastFailure(const void* instance) {
  static const std::string* const kNone = new std::string();
  return lastCall().instance == instance ? lastCall().reason : *kNone;
}

}  // namespace asp::established
