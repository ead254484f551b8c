// The contract of a fuzz target in this package: LLVMFuzzerTestOneInput (libFuzzer's
// entry point) and fuzzSeeds(), a few valid inputs to start from. Built with
// --config=fuzz the target links libFuzzer's main; otherwise it links
// regression_main.cc, which replays the seeds, every file of the corpus directories
// given, and deterministic mutations of the seeds, so every test run fuzzes a little.
#ifndef TESTS_FUZZ_FUZZ_TARGET_H_
#define TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace asp::fuzz {

std::vector<std::string> fuzzSeeds();

// Splits `input` into chunks at each "\xff\xfe" pair (several messages in one input).
std::vector<std::string> splitMessages(const uint8_t* data, size_t size);
// Joins messages with the same separator (to build seeds).
std::string joinMessages(const std::vector<std::string>& messages);

}  // namespace asp::fuzz

#endif  // TESTS_FUZZ_FUZZ_TARGET_H_
