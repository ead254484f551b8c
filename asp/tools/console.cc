#include "asp/tools/console.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace asp::tools {

ProgressBar::ProgressBar(std::string label, uint64_t total, std::function<uint64_t()> current)
    : label_(std::move(label)),
      total_(std::max<uint64_t>(total, 1)),
      current_(std::move(current)),
      terminal_(isatty(STDERR_FILENO) == 1),
      started_(std::chrono::steady_clock::now()) {
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

std::string progressText(uint64_t done, uint64_t total, double elapsed_seconds, bool final) {
  std::string text = absl::StrFormat("%3d%%  %s/%s  %.1f s", static_cast<int>(100 * done / total),
                                     withCommas(done), withCommas(total), elapsed_seconds);
  if (done > 0 && elapsed_seconds > 0) {
    const double rate = done / elapsed_seconds;
    absl::StrAppend(&text, "  ", withCommas(static_cast<uint64_t>(rate)), "/s");
    if (!final && done < total)
      absl::StrAppend(&text, absl::StrFormat("  ETA %.1f s", (total - done) / rate));
  }
  return text;
}

void ProgressBar::draw(bool final) {
  constexpr int kWidth = 30;
  const uint64_t now = std::min(current_(), total_);
  const int filled = static_cast<int>(kWidth * now / total_);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  // "\033[K" clears what a longer previous line left on the right.
  std::fprintf(stderr, "%s%-22s [%s] %s%s%s", terminal_ ? "\r" : "", label_.c_str(), bar.c_str(),
               progressText(now, total_, elapsed, final).c_str(), terminal_ ? "\033[K" : "",
               final ? "\n" : "");
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
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  auto numeric = [](const std::string& cell) {
    return !cell.empty() && (absl::ascii_isdigit(cell[0]) || cell == "-");
  };
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      absl::StrAppend(&line, c == 0 ? "" : "  ",
                      c > 0 && numeric(row[c]) ? pad + row[c] : row[c] + pad);
    }
    std::cout << std::string(absl::StripTrailingAsciiWhitespace(line)) << "\n";
  };
  print(header);
  std::string rule;
  for (size_t c = 0; c < width.size(); ++c)
    absl::StrAppend(&rule, c == 0 ? "" : "  ", std::string(width[c], '-'));
  std::cout << rule << "\n";
  for (const auto& row : rows) print(row);
}

}  // namespace asp::tools
