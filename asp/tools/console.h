// Console output for the tools: progress bars on long steps and aligned tables.
#ifndef ASP_TOOLS_CONSOLE_H_
#define ASP_TOOLS_CONSOLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace asp::tools {

// Redraws "label [#####.....]  45%  45000/100000" on stderr every 100 ms while alive,
// reading progress from `current`. On a terminal it redraws in place; otherwise it
// prints one final line.
class ProgressBar {
 public:
  ProgressBar(std::string label, uint64_t total, std::function<uint64_t()> current);
  ~ProgressBar();  // draws the final state

 private:
  void draw(bool final);

  const std::string label_;
  const uint64_t total_;
  const std::function<uint64_t()> current_;
  const bool terminal_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Prints `rows` under `header` with columns padded to fit; numbers right-aligned.
void printTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// "1,234,567".
std::string withCommas(uint64_t value);

}  // namespace asp::tools

#endif  // ASP_TOOLS_CONSOLE_H_
