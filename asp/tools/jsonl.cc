#include "asp/tools/jsonl.h"

#include <google/protobuf/stubs/common.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "asp/tools/aspctl.pb.h"

namespace asp::tools {
namespace {

namespace json = google::protobuf::util;

absl::StatusOr<Operation> parseOperation(const std::string& name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "create") return Operation::kCreate;
  if (lower == "modify") return Operation::kModify;
  if (lower == "delete") return Operation::kDelete;
  return absl::InvalidArgumentError(
      absl::StrCat("operation '", name, "' is not create, modify or delete"));
}

bool isUtf8(const std::string& bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    const size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > bytes.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(bytes[i + k]) >> 6) != 0x2) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<Change>> readChangeLines(std::istream& in) {
  std::vector<Change> changes;
  std::string line;
  json::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  for (int number = 1; std::getline(in, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    ChangeLine parsed;
    const auto status = json::JsonStringToMessage(line, &parsed, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": not a change: ", status.message().as_string()));
    }
    absl::StatusOr<Operation> operation = parseOperation(parsed.operation());
    if (!operation.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", operation.status().message()));
    }
    if (!parsed.data().empty() && !parsed.data_base64().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": give data or dataBase64, not both"));
    }
    changes.push_back(Change{parsed.id(), parsed.index(), *operation,
                             parsed.data().empty() ? parsed.data_base64() : parsed.data(),
                             parsed.version()});
  }
  return changes;
}

absl::StatusOr<std::string> dumpLine(const SqliteChangeQueue::StoredChange& change) {
  DumpLine line;
  line.set_index(change.index);
  line.set_id(change.id);
  line.set_state(change.in_flight ? "in_flight" : "pending");
  line.set_operation(change.is_delete ? "delete" : "upsert");
  line.set_version(change.version);
  line.set_is_new(change.is_new);
  line.set_seq(change.seq);
  if (isUtf8(change.data)) {
    line.set_data(change.data);
  } else {
    line.set_data_base64(change.data);
  }
  std::string out;
  const auto status = json::MessageToJsonString(line, &out);
  if (!status.ok()) return absl::InternalError(status.message().as_string());
  return out;
}

}  // namespace asp::tools
