// What every ASP tool's command line shares, so the tools read alike: durations, paths
// under `bazel run`, --help that exits 0, and help text listing flags and exit codes.
// Thread-safety: call from main() before threads start.
#ifndef ASP_TOOLS_CLI_H_
#define ASP_TOOLS_CLI_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace asp::tools {

// A duration flag. Accepts absl's duration syntax ("1s", "500ms", "1m30s") and a plain
// number of seconds ("1", "0.5"), the same in every tool and every flag. Refuses a
// negative or infinite duration, naming the text.
struct DurationFlag {
  absl::Duration value;
};
bool AbslParseFlag(absl::string_view text, DurationFlag* flag, std::string* error);
std::string AbslUnparseFlag(DurationFlag flag);

// `path` as the user meant it. Under `bazel run` (./bazelw run //asp/tools:aspctl -- ...)
// the tool runs in its runfiles tree; a relative path is resolved against the directory
// the command was typed in (BUILD_WORKING_DIRECTORY). Elsewhere, and for "-" (stdin),
// `path` unchanged.
std::string userPath(const std::string& path);

// True when argv[1..] holds --help, -help, -h, --helpfull or --helpshort. Abseil's own
// handling of those exits 1; the tools print their own help on stdout and exit 0.
bool asksForHelp(int argc, char** argv);

// One "  --name=DEFAULT  help" block per flag, from the flag's own help text and default
// (defined with ABSL_FLAG in the tool). `required` flags show "(required)" instead.
std::string describeFlags(const std::vector<std::string>& names,
                          const std::vector<std::string>& required = {});

struct ExitCode {
  int code;
  const char* meaning;
};
// "Exit codes:" and one line per code.
std::string describeExitCodes(const std::vector<ExitCode>& codes);

// Whether `text` is valid UTF-8 (JSON text must be).
bool isUtf8(absl::string_view text);

}  // namespace asp::tools

#endif  // ASP_TOOLS_CLI_H_
