#include "asp/proto/validate.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"

namespace asp::wire {
namespace {

using v1::Message;

absl::Status invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

absl::Status requireNonEmpty(absl::string_view message, absl::string_view field,
                             const std::string& value) {
  if (!value.empty()) return absl::OkStatus();
  return invalid(absl::StrCat(message, ".", field, " is empty"));
}

absl::Status requireSession(absl::string_view message, uint64_t session) {
  if (session != 0) return absl::OkStatus();
  return invalid(absl::StrCat(message, ".session is 0; session ids are non-zero"));
}

template <typename IsValid>
absl::Status requireEnum(absl::string_view message, absl::string_view field, int value,
                         IsValid is_valid, bool zero_allowed) {
  if (!is_valid(value)) {
    return invalid(absl::StrCat(message, ".", field, " has unknown value ", value));
  }
  if (value == 0 && !zero_allowed) {
    return invalid(absl::StrCat(message, ".", field, " is unspecified (0)"));
  }
  return absl::OkStatus();
}

absl::Status validateStart(const v1::Start& start) {
  if (absl::Status s = validateModuleName(start.module()); !s.ok()) {
    return invalid(absl::StrCat("Start.module: ", s.message()));
  }
  if (absl::Status s = requireEnum("Start", "mode", start.mode(), v1::Mode_IsValid, false);
      !s.ok()) {
    return s;
  }
  return requireEnum("Start", "option", start.option(), v1::Option_IsValid, true);
}

absl::Status validateAnswerStatus(absl::string_view message, int status, uint64_t session) {
  if (absl::Status s = requireEnum(message, "status", status, v1::Status_IsValid, false); !s.ok()) {
    return s;
  }
  if (status == v1::STATUS_OK) return requireSession(message, session);
  return absl::OkStatus();
}

absl::Status validateValue(const v1::DataValue& value) {
  if (absl::Status s = requireSession("DataValue", value.session()); !s.ok()) return s;
  if (absl::Status s =
          requireEnum("DataValue", "operation", value.operation(), v1::Operation_IsValid, false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = requireNonEmpty("DataValue", "id", value.id()); !s.ok()) return s;
  return requireNonEmpty("DataValue", "index", value.index());
}

absl::Status validateBatch(const v1::DataBatch& batch) {
  if (batch.values().empty()) return invalid("DataBatch has no values");
  for (const v1::DataValue& value : batch.values()) {
    if (absl::Status s = validateValue(value); !s.ok()) {
      return invalid(absl::StrCat("DataBatch value seq ", value.seq(), ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status validateContext(const v1::DataContext& context) {
  if (absl::Status s = requireSession("DataContext", context.session()); !s.ok()) return s;
  if (absl::Status s = requireNonEmpty("DataContext", "id", context.id()); !s.ok()) return s;
  return requireNonEmpty("DataContext", "index", context.index());
}

absl::Status validateClean(const v1::DataClean& clean) {
  if (absl::Status s = requireSession("DataClean", clean.session()); !s.ok()) return s;
  return requireNonEmpty("DataClean", "index", clean.index());
}

absl::Status validateChecksum(const v1::ChecksumModule& checksum) {
  if (absl::Status s = requireSession("ChecksumModule", checksum.session()); !s.ok()) return s;
  if (absl::Status s = requireNonEmpty("ChecksumModule", "index", checksum.index()); !s.ok()) {
    return s;
  }
  return requireNonEmpty("ChecksumModule", "checksum", checksum.checksum());
}

absl::Status validateReqRet(const v1::ReqRet& req_ret) {
  if (absl::Status s = requireSession("ReqRet", req_ret.session()); !s.ok()) return s;
  if (req_ret.ranges().empty()) return invalid("ReqRet has no ranges");
  for (const v1::SeqRange& range : req_ret.ranges()) {
    if (range.begin() > range.end()) {
      return invalid(
          absl::StrCat("ReqRet range [", range.begin(), ", ", range.end(), "] is inverted"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status validate(const Message& message) {
  switch (message.content_case()) {
    case Message::kStart:
      return validateStart(message.start());
    case Message::kStartAck:
      return validateAnswerStatus("StartAck", message.start_ack().status(),
                                  message.start_ack().session());
    case Message::kDataValue:
      return validateValue(message.data_value());
    case Message::kDataBatch:
      return validateBatch(message.data_batch());
    case Message::kDataContext:
      return validateContext(message.data_context());
    case Message::kDataClean:
      return validateClean(message.data_clean());
    case Message::kChecksumModule:
      return validateChecksum(message.checksum_module());
    case Message::kEnd:
      return requireSession("End", message.end().session());
    case Message::kEndAck:
      return validateAnswerStatus("EndAck", message.end_ack().status(),
                                  message.end_ack().session());
    case Message::kReqRet:
      return validateReqRet(message.req_ret());
    case Message::CONTENT_NOT_SET:
      break;
  }
  return invalid("Message has no content (oneof 'content' is unset)");
}

}  // namespace asp::wire
