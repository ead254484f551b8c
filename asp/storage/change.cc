#include "asp/storage/change.h"

#include "absl/strings/str_cat.h"
#include "asp/base/text.h"

namespace asp {

std::string operationName(Operation operation) {
  switch (operation) {
    case Operation::kCreate:
      return "create";
    case Operation::kModify:
      return "modify";
    case Operation::kDelete:
      return "delete";
  }
  return absl::StrCat("operation(", static_cast<int>(operation), ")");
}

ChangeLimits ChangeLimits::forModule(absl::string_view module, size_t frame_budget_bytes) {
  ChangeLimits limits;
  limits.frame_budget_bytes = frame_budget_bytes;
  limits.header_bytes = wire::agentHeaderBytes(module);
  return limits;
}

absl::Status validateChange(const Change& change, const ChangeLimits& limits) {
  if (change.id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("change id is empty (index ", quoteValue(change.index), ")"));
  }
  if (change.index.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("index is empty for change id ", quoteValue(change.id)));
  }
  if (absl::Status s = checkUtf8("change id", change.id); !s.ok()) return s;
  if (absl::Status s =
          checkUtf8(absl::StrCat("index of change id ", quoteValue(change.id)), change.index);
      !s.ok()) {
    return s;
  }
  switch (change.operation) {
    case Operation::kCreate:
    case Operation::kModify:
    case Operation::kDelete:
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown operation ",
                                                     static_cast<int>(change.operation),
                                                     " for change id ", quoteValue(change.id)));
  }
  const size_t frame =
      limits.header_bytes +
      wire::singleValueMessageBytes(change.id.size(), change.index.size(), change.data.size());
  if (frame > limits.frame_budget_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("change id ", quoteValue(change.id), " in index ", quoteValue(change.index),
                     " has ", change.data.size(), " bytes of data and needs a ", frame,
                     "-byte frame; the frame budget is ", limits.frame_budget_bytes, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace asp
