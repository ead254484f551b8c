// Replays a fuzz target without libFuzzer: the built-in seeds, every file in the corpus
// directories given as arguments (crashes found by fuzzing are kept there as
// regression inputs), and 20,000 deterministic mutations of the seeds (fewer under
// sanitizers).
// `--write_seeds=DIR` writes the seeds as files instead (to start a fuzzing corpus).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>

#include "tests/fuzz/fuzz_target.h"

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string mutate(std::string input, std::mt19937_64& random) {
  const int edits = 1 + static_cast<int>(random() % 8);
  for (int e = 0; e < edits; ++e) {
    const uint64_t roll = random() % 4;
    if (input.empty() || roll == 0) {
      input.insert(input.begin() + static_cast<long>(input.empty() ? 0 : random() % input.size()),
                   static_cast<char>(random()));
    } else if (roll == 1) {
      input[random() % input.size()] = static_cast<char>(random());
    } else if (roll == 2) {
      input.erase(random() % input.size(), 1 + random() % 4);
    } else {
      input[random() % input.size()] ^= static_cast<char>(1 << (random() % 8));
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> seeds = asp::fuzz::fuzzSeeds();
  std::vector<std::string> directories;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--write_seeds=", 0) == 0) {
      const std::string dir = arg.substr(14);
      std::filesystem::create_directories(dir);
      for (size_t s = 0; s < seeds.size(); ++s) {
        std::ofstream(dir + "/seed-" + std::to_string(s), std::ios::binary) << seeds[s];
      }
      return 0;
    }
    directories.push_back(arg);
  }
  size_t inputs = 0;
  for (const std::string& seed : seeds) {
    run(seed);
    ++inputs;
  }
  for (const std::string& dir : directories) {
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      run(content.str());
      ++inputs;
    }
  }
  std::mt19937_64 random(20261125);
  // Sanitizers run each input 5-20x slower: fewer mutations keep CI's three runs short
  // (the long runs are run_fuzzers.sh's).
#if defined(__SANITIZE_THREAD__)
  constexpr int kMutations = 2000;
#elif defined(__SANITIZE_ADDRESS__)
  constexpr int kMutations = 5000;
#else
  constexpr int kMutations = 20000;
#endif
  for (int i = 0; i < kMutations && !seeds.empty(); ++i) {
    run(mutate(seeds[random() % seeds.size()], random));
    ++inputs;
  }
  std::cout << inputs << " inputs ran without a crash" << std::endl;
  return 0;
}
