// Console output for the tools: progress bars on long steps and aligned tables.
#ifndef ASP_TOOLS_CONSOLE_H_
#define ASP_TOOLS_CONSOLE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace asp::tools {

// Draws on stderr, every 100 ms while alive, reading progress from `current`:
//   label  [#########.....................]  30%  30,000/100,000  1.2 s  25,000/s  ETA 2.8 s
// On a terminal it redraws in place; otherwise it prints only the final line.
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
  const std::chrono::steady_clock::time_point started_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// The text after the bar: "30%  30,000/100,000  1.2 s  25,000/s  ETA 2.8 s" (no ETA when
// `final` or before anything was done).
std::string progressText(uint64_t done, uint64_t total, double elapsed_seconds, bool final);

// Prints `rows` under `header` with columns padded to fit; numbers right-aligned; no
// line ends in a space.
void printTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// "1,234,567".
std::string withCommas(uint64_t value);

}  // namespace asp::tools

#endif  // ASP_TOOLS_CONSOLE_H_
