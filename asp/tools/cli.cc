#include "asp/tools/cli.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "asp/base/text.h"

namespace asp::tools {

bool AbslParseFlag(absl::string_view text, DurationFlag* flag, std::string* error) {
  double seconds = 0;
  absl::Duration value;
  if (absl::SimpleAtod(text, &seconds)) {
    if (!std::isfinite(seconds)) {
      *error = absl::StrCat("'", text, "' is not a finite number of seconds");
      return false;
    }
    value = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &value)) {
    *error =
        absl::StrCat("'", text, "' is not a duration: write e.g. 1s, 500ms, 2m, or 1 (seconds)");
    return false;
  }
  if (value < absl::ZeroDuration() || value == absl::InfiniteDuration()) {
    *error = absl::StrCat("'", text, "' must be a finite duration of zero or more");
    return false;
  }
  flag->value = value;
  return true;
}

std::string AbslUnparseFlag(DurationFlag flag) { return absl::FormatDuration(flag.value); }

std::string userPath(const std::string& path) {
  const char* typed_in = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path == "-" || path[0] == '/' || typed_in == nullptr || *typed_in == '\0') {
    return path;
  }
  return absl::StrCat(typed_in, "/", path);
}

bool asksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull" ||
        arg == "--helpshort") {
      return true;
    }
  }
  return false;
}

std::string describeFlags(const std::vector<std::string>& names,
                          const std::vector<std::string>& required) {
  std::string text;
  for (const std::string& name : names) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    const bool is_required = std::find(required.begin(), required.end(), name) != required.end();
    const std::string value = is_required ? " (required)"
                              : flag->DefaultValue().empty()
                                  ? " (default: none)"
                                  : absl::StrCat(" (default: ", flag->DefaultValue(), ")");
    absl::StrAppend(&text, "  --", name, value, "\n      ", flag->Help(), "\n");
  }
  return text;
}

std::string describeExitCodes(const std::vector<ExitCode>& codes) {
  std::string text = "Exit codes:\n";
  for (const ExitCode& c : codes)
    absl::StrAppend(&text, absl::StrFormat("  %3d  %s\n", c.code, c.meaning));
  return text;
}

bool isUtf8(absl::string_view text) { return !firstInvalidUtf8(text).has_value(); }

}  // namespace asp::tools
