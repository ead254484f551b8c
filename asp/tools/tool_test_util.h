// Helpers for the tools' tests, which run the binaries as a user would: a real manager
// process, tools with their output captured, peak memory, a terminal.
#ifndef ASP_TOOLS_TOOL_TEST_UTIL_H_
#define ASP_TOOLS_TOOL_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "asp/testing/process.h"

namespace asp::tools::testing {

// Starts the asp_manager binary on `socket` with <state_dir>, waits until it listens.
std::unique_ptr<asp::testing::Process> startManager(const std::string& socket,
                                                    const std::string& state_dir,
                                                    const std::string& output_prefix,
                                                    std::vector<std::string> flags = {});

// The whitespace-separated words that follow `key` in `text`.
std::vector<std::string> wordsAfter(const std::string& text, const std::string& key, int count);

// A finished run of a tool.
struct Ran {
  int code = -1;
  std::string out;
  std::string err;
  long max_rss_kb = 0;  // the child's peak resident memory
};

// Runs `binary` to completion with stdin from `stdin_file` (else /dev/null).
Ran runTool(const std::string& binary, const std::vector<std::string>& args,
            const std::string& output_prefix, const std::string& stdin_file = "");

// Runs `binary` with a terminal (a pseudo-terminal) as its stdin; once its stderr holds
// `wait_for`, types `typed` (e.g. "\x04", Ctrl-D) and waits for it to finish.
Ran runOnTerminal(const std::string& binary, const std::vector<std::string>& args,
                  const std::string& output_prefix, const std::string& wait_for,
                  const std::string& typed);

// The lines of `text` (without their "\n").
std::vector<std::string> linesOf(const std::string& text);

}  // namespace asp::tools::testing

#endif  // ASP_TOOLS_TOOL_TEST_UTIL_H_
