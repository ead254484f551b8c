#include "asp/tools/jsonl.h"

#include <exception>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asp/base/text.h"
#include "asp/tools/cli.h"

namespace asp::tools {
namespace {

using Json = nlohmann::json;

constexpr const char* kKeys[] = {"id",   "index",      "operation", "version",
                                 "data", "dataBase64", "state",     "seq"};

// Builds a Change from the SAX events of one line. Every handler returns false to stop
// at the first problem, which error_ then describes.
class ChangeLineParser final : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return wrongType("null"); }
  bool boolean(bool) override { return wrongType("true or false"); }
  bool number_integer(number_integer_t value) override {
    return wrongType(absl::StrCat("the negative number ", value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    if (depth_ != 1) return notAnObject();
    if (key_ == "version") {
      change_.version = value;
      return true;
    }
    if (key_ == "seq") return true;
    return wrongType(absl::StrCat("the number ", value));
  }
  bool number_float(number_float_t, const string_t& text) override {
    return wrongType(absl::StrCat("the number ", text));
  }
  bool string(string_t& value) override {
    if (depth_ != 1) return notAnObject();
    if (key_ == "id") {
      change_.id = std::move(value);
    } else if (key_ == "index") {
      change_.index = std::move(value);
    } else if (key_ == "operation") {
      return setOperation(value);
    } else if (key_ == "data") {
      change_.data = std::move(value);
    } else if (key_ == "dataBase64") {
      if (!absl::Base64Unescape(value, &change_.data)) {
        return fail(absl::StrCat("\"dataBase64\" is not base64: ", quoteValue(value)));
      }
    } else if (key_ == "state") {
      if (value != "pending" && value != "in_flight") {
        return fail(
            absl::StrCat("\"state\" is ", quoteValue(value), "; dump writes pending or in_flight"));
      }
    } else {
      return wrongType(absl::StrCat("the string ", quoteValue(value)));
    }
    return true;
  }
  bool binary(binary_t&) override { return wrongType("binary"); }
  bool start_object(std::size_t) override {
    if (depth_ != 0) return wrongType("an object");
    depth_ = 1;
    return true;
  }
  bool key(string_t& key) override {
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known) {
      return fail(absl::StrCat("unknown key ", quoteValue(key), " (a change line has ",
                               absl::StrJoin(kKeys, ", "), ")"));
    }
    if (!seen_.insert(key).second) return fail(absl::StrCat("key \"", key, "\" appears twice"));
    key_ = std::move(key);
    return true;
  }
  bool end_object() override {
    depth_ = 2;  // done: any further value is a second one
    return true;
  }
  bool start_array(std::size_t) override {
    return depth_ == 1 ? wrongType("an array") : notAnObject();
  }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& error) override {
    return fail(absl::StrCat("not JSON at byte ", position, ": ", reason(error.what()),
                             "; last read: ", quoteValue(last_token)));
  }

  // The change, once the whole line parsed.
  absl::StatusOr<Change> finish() {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    for (const char* required : {"id", "index", "operation"}) {
      if (!seen_.contains(required)) {
        return absl::InvalidArgumentError(absl::StrCat("\"", required, "\" is missing"));
      }
    }
    if (seen_.contains("data") && seen_.contains("dataBase64")) {
      return absl::InvalidArgumentError("give \"data\" or \"dataBase64\", not both");
    }
    return std::move(change_);
  }

 private:
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool notAnObject() { return fail("a change line is one JSON object, {...}"); }
  bool wrongType(const std::string& what) {
    if (depth_ != 1) return notAnObject();
    const bool number = key_ == "version" || key_ == "seq";
    return fail(absl::StrCat("\"", key_, "\" must be ",
                             number ? "a whole number from 0 to 18446744073709551615" : "a string",
                             ", not ", what));
  }
  bool setOperation(const std::string& name) {
    const std::string lower = absl::AsciiStrToLower(name);
    if (lower == "create") {
      change_.operation = Operation::kCreate;
    } else if (lower == "modify") {
      change_.operation = Operation::kModify;
    } else if (lower == "delete") {
      change_.operation = Operation::kDelete;
    } else {
      return fail(absl::StrCat("\"operation\" is ", quoteValue(name),
                               "; it must be create, modify or delete"));
    }
    return true;
  }
  // nlohmann's message without its "[json.exception...] parse error at line 1, column N: "
  // prefix and its own "; last read" (which we quote, bounded).
  static std::string reason(absl::string_view what) {
    const size_t colon = what.find(": ");
    if (colon != absl::string_view::npos) what.remove_prefix(colon + 2);
    const size_t last = what.find("; last read");
    if (last != absl::string_view::npos) what = what.substr(0, last);
    return std::string(what);
  }

  Change change_;
  int depth_ = 0;  // 0 before the object, 1 inside, 2 after it
  std::string key_;
  absl::flat_hash_set<std::string> seen_;
  std::string error_;
};

std::string jsonString(const std::string& utf8) {
  return Json(utf8).dump(-1, ' ', false, Json::error_handler_t::strict);
}

absl::StatusOr<std::string> formatLine(const Change& change, absl::string_view operation,
                                       const std::string& extra) {
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"id", &change.id}, {"index", &change.index}}) {
    if (!isUtf8(*value)) {
      return absl::InvalidArgumentError(absl::StrCat("change ", quoteValue(change.id), " has an ",
                                                     name,
                                                     " that is not UTF-8; JSON cannot carry it"));
    }
  }
  // Only strings verified as UTF-8 reach dump(), which throws on anything else.
  std::string line =
      absl::StrCat("{\"id\":", jsonString(change.id), ",\"index\":", jsonString(change.index),
                   ",\"operation\":\"", operation, "\",\"version\":", change.version);
  if (isUtf8(change.data)) {
    absl::StrAppend(&line, ",\"data\":", jsonString(change.data));
  } else {
    absl::StrAppend(&line, ",\"dataBase64\":\"", absl::Base64Escape(change.data), "\"");
  }
  absl::StrAppend(&line, extra, "}");
  return line;
}

}  // namespace

absl::StatusOr<Change> parseChangeLine(absl::string_view line) {
  ChangeLineParser parser;
  // The handler stops the parser at the first problem; it reports errors through
  // parse_error(), never by throwing.
  Json::sax_parse(line, &parser, nlohmann::detail::input_format_t::json, /*strict=*/true);
  return parser.finish();
}

absl::StatusOr<bool> ChangeLineReader::readLine() {
  line_.clear();
  std::streambuf* in = in_.rdbuf();
  int c = in->sbumpc();
  if (c == std::char_traits<char>::eof()) return false;
  ++line_number_;
  while (c != std::char_traits<char>::eof() && c != '\n') {
    if (line_.size() == kMaxLineBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number_, ": longer than ", kMaxLineBytes,
                       " bytes; a change line holds at most one datagram's worth of data"));
    }
    line_.push_back(static_cast<char>(c));
    c = in->sbumpc();
  }
  return true;
}

absl::StatusOr<std::optional<Change>> ChangeLineReader::next() {
  while (true) {
    absl::StatusOr<bool> more = readLine();
    if (!more.ok()) return more.status();
    if (!*more) return std::optional<Change>();
    if (absl::StripAsciiWhitespace(line_).empty()) continue;
    absl::StatusOr<Change> change = parseChangeLine(line_);
    if (!change.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number_, ": ", change.status().message()));
    }
    return std::optional<Change>(*std::move(change));
  }
}

absl::StatusOr<std::string> formatChangeLine(const Change& change) {
  try {
    return formatLine(change, operationName(change.operation), "");
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

absl::StatusOr<std::string> formatDumpLine(const SqliteChangeQueue::StoredChange& stored) {
  const Change change{stored.id, stored.index, Operation::kModify, stored.data, stored.version};
  const char* operation = stored.is_delete ? "delete" : stored.is_new ? "create" : "modify";
  const std::string extra = stored.in_flight
                                ? absl::StrCat(",\"state\":\"in_flight\",\"seq\":", stored.seq)
                                : ",\"state\":\"pending\"";
  try {
    return formatLine(change, operation, extra);
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace asp::tools
