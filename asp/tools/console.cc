#include "asp/tools/console.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace asp::tools {

ProgressBar::ProgressBar(std::string label, uint64_t total, std::function<uint64_t()> current)
    : label_(std::move(label)),
      total_(std::max<uint64_t>(total, 1)),
      current_(std::move(current)),
      terminal_(isatty(STDERR_FILENO) == 1) {
  if (terminal_) {
    thread_ = std::thread([this] {
      while (!done_) {
        draw(false);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
}

ProgressBar::~ProgressBar() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
  draw(true);
}

void ProgressBar::draw(bool final) {
  constexpr int kWidth = 30;
  const uint64_t now = std::min(current_(), total_);
  const int filled = static_cast<int>(kWidth * now / total_);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  std::fprintf(stderr, "%s%-24s [%s] %3d%%  %s/%s%s", terminal_ ? "\r" : "", label_.c_str(),
               bar.c_str(), static_cast<int>(100 * now / total_), withCommas(now).c_str(),
               withCommas(total_).c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

std::string withCommas(uint64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

void printTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto numeric = [](const std::string& cell) {
    return !cell.empty() && (absl::ascii_isdigit(cell[0]) || cell == "-");
  };
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      absl::StrAppend(&line, c == 0 ? "" : "  ", c > 0 && numeric(row[c]) ? pad + row[c] : row[c] + pad);
    }
    std::cout << line << "\n";
  };
  print(header);
  std::string rule;
  for (size_t c = 0; c < width.size(); ++c) absl::StrAppend(&rule, c == 0 ? "" : "  ", std::string(width[c], '-'));
  std::cout << rule << "\n";
  for (const auto& row : rows) print(row);
}

}  // namespace asp::tools
