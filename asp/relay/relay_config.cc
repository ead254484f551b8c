#include "asp/relay/relay_config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace asp::relay {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

bool isKey(absl::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

}  // namespace

absl::StatusOr<std::vector<ConfigEntry>> parseConfig(absl::string_view text,
                                                     const std::string& source) {
  std::vector<ConfigEntry> entries;
  std::set<std::string> seen;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t equals = line.find('=');
    const std::string where = absl::StrCat(source, ":", number, ": ");
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "expected 'key = value', got '", line, "'"));
    }
    const std::string key(absl::StripAsciiWhitespace(line.substr(0, equals)));
    if (!isKey(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "'", key, "' is not a key (lowercase letters, digits and '_')"));
    }
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, "'", key, "' is given twice"));
    }
    entries.push_back(
        {key, std::string(absl::StripAsciiWhitespace(line.substr(equals + 1))), number});
  }
  return entries;
}

absl::StatusOr<std::vector<ConfigEntry>> readConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string message =
        absl::StrCat("cannot read config file '", path, "': ", std::strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(message) : absl::FailedPreconditionError(message);
  }
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("config file '", path, "' is larger than ", kMaxConfigBytes, " bytes"));
  }
  return parseConfig(text, path);
}

std::optional<std::string> configFileArgument(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--")) absl::ConsumePrefix(&arg, "-");
    if (absl::ConsumePrefix(&arg, "config=")) return std::string(arg);
    if (arg == "config" && i + 1 < args.size()) return args[i + 1];
  }
  return std::nullopt;
}

std::vector<std::string> splitList(absl::string_view list) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

}  // namespace asp::relay
