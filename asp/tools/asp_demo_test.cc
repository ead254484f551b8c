// asp_demo as a new user runs it: what it says, its exit codes, Ctrl-C, and --keep's
// commands, run as printed.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "asp/tools/tool_test_util.h"
#include "gtest/gtest.h"

namespace asp::tools {
namespace {

using asp::testing::Process;
using asp::testing::runfile;
using testing::linesOf;
using testing::Ran;

// The directory the demo announced ("ASP demo in <dir>").
std::string demoDirectory(const std::string& out) {
  const std::vector<std::string> words = testing::wordsAfter(out, "ASP demo in", 1);
  return words.empty() ? "" : words[0];
}

class AspDemo : public ::testing::Test {
 protected:
  // The demo's temporary directories go under the test's own.
  void SetUp() override { setenv("TMPDIR", dir_.path().c_str(), 1); }
  void TearDown() override { unsetenv("TMPDIR"); }

  Ran demo(const std::vector<std::string>& args) {
    return testing::runTool(runfile("asp/tools/asp_demo"), args,
                            dir_.file("demo-" + std::to_string(++runs_)));
  }

  asp::testing::TempDir dir_;
  int runs_ = 0;
};

TEST_F(AspDemo, EveryStepSaysWhatItDoesBeforeAndWhatHappenedAfter) {
  Ran ran = demo({"--items=2000"});
  ASSERT_EQ(ran.code, 0) << ran.out << ran.err;
  const std::vector<std::string> lines = linesOf(ran.out);
  int announced = 0, reported = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("[", 0) == 0 && lines[i].find("/9] ") != std::string::npos) {
      ++announced;
      ASSERT_LT(i + 1, lines.size());
      EXPECT_EQ(lines[i + 1].rfind("      -> ", 0), 0u) << "after " << lines[i];
      ++reported;
    }
  }
  EXPECT_EQ(announced, 9);
  EXPECT_EQ(reported, 9);
  EXPECT_NE(ran.out.find("-> altered /var/lib/demo/file-000000, removed"), std::string::npos);
  EXPECT_NE(ran.out.find("-> mismatch detected"), std::string::npos);
  EXPECT_NE(ran.out.find("The manager holds exactly the module's"), std::string::npos);
  EXPECT_NE(ran.out.find("Demo passed."), std::string::npos);
  const std::string dir = demoDirectory(ran.out);
  ASSERT_FALSE(dir.empty()) << ran.out;
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the directory is removed";
}

TEST_F(AspDemo, TheTableNamesEveryStepOnceSaysValuesResentAndHasALegend) {
  Ran ran = demo({"--items=1000"});
  ASSERT_EQ(ran.code, 0) << ran.err;
  EXPECT_NE(ran.out.find("values resent"), std::string::npos);
  EXPECT_NE(ran.out.find("values resent: data messages sent again"), std::string::npos) << "legend";
  EXPECT_NE(ran.out.find("\ninitial delta sync "), std::string::npos);
  EXPECT_NE(ran.out.find("\ndelta sync of changes "), std::string::npos);
  for (const std::string& line : linesOf(ran.out)) {
    EXPECT_TRUE(line.empty() || line.back() != ' ') << "trailing space: '" << line << "'";
  }
}

TEST_F(AspDemo, ProgressBarsShowElapsedTimeAndRate) {
  Ran ran = demo({"--items=1000"});
  ASSERT_EQ(ran.code, 0) << ran.err;
  // Not a terminal: one final line per bar.
  EXPECT_NE(ran.err.find("100%  1,000/1,000  "), std::string::npos) << ran.err;
  EXPECT_NE(ran.err.find("/s\n"), std::string::npos) << ran.err;
}

TEST_F(AspDemo, BadFlagsGetOneClearErrorAndExitOneWithoutRunning) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--drop_rate=2"}, {"--items=0"}, {"--eps=-1"}, {"--items=many"}}) {
    Ran ran = demo(args);
    EXPECT_EQ(ran.code, 1) << args[0];
    EXPECT_EQ(linesOf(ran.err).size(), 1u) << args[0] << ": " << ran.err;
    EXPECT_NE(ran.err.find(args[0].substr(2, args[0].find('=') - 2)), std::string::npos) << ran.err;
    EXPECT_EQ(ran.out, "") << "no table, no 'Demo FAILED'";
  }
}

TEST_F(AspDemo, HelpListsFlagsAndExitCodesAndExitsZero) {
  Ran ran = demo({"--help"});
  EXPECT_EQ(ran.code, 0);
  EXPECT_NE(ran.out.find("--drop_rate (default: 0)"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("  130  interrupted"), std::string::npos) << ran.out;
}

// Starts a long demo, waits until it records, interrupts it.
Ran interrupted(const std::string& prefix, std::vector<std::string> args) {
  args.push_back("--items=5000000");
  Process demo(runfile("asp/tools/asp_demo"), args, prefix);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (demo.out().find("[1/9]") == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  demo.signal(SIGINT);
  const auto signalled = std::chrono::steady_clock::now();
  Ran ran;
  ran.code = demo.wait();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(5))
      << "stops at once";
  ran.out = demo.out();
  ran.err = demo.err();
  return ran;
}

TEST_F(AspDemo, CtrlCStopsCleanlyAndRemovesItsDirectory) {
  Ran ran = interrupted(dir_.file("ctrl-c"), {});
  EXPECT_EQ(ran.code, 130) << ran.out << ran.err;
  const std::string dir = demoDirectory(ran.out);
  ASSERT_FALSE(dir.empty()) << ran.out;
  EXPECT_NE(ran.out.find("Interrupted; removed " + dir), std::string::npos) << ran.out;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST_F(AspDemo, CtrlCWithKeepSaysWhereItLeftTheDirectory) {
  Ran ran = interrupted(dir_.file("ctrl-c-keep"), {"--keep"});
  EXPECT_EQ(ran.code, 130) << ran.out << ran.err;
  const std::string dir = demoDirectory(ran.out);
  EXPECT_NE(ran.out.find("Interrupted; left " + dir), std::string::npos) << ran.out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/fim_sync.db"));
}

TEST_F(AspDemo, KeepPrintsCommandsThatRunAsPrinted) {
  // As under `./bazelw run //asp/tools:asp_demo -- --keep` typed at the checkout's root.
  setenv("BUILD_WORKSPACE_DIRECTORY", "/checkout", 1);
  setenv("BUILD_WORKING_DIRECTORY", "/checkout", 1);
  Ran ran = demo({"--items=500", "--keep"});
  unsetenv("BUILD_WORKSPACE_DIRECTORY");
  unsetenv("BUILD_WORKING_DIRECTORY");
  ASSERT_EQ(ran.code, 0) << ran.err;
  const std::string prefix = "./bazelw run //asp/tools:aspctl --";
  std::vector<std::string> commands;
  for (const std::string& line : linesOf(ran.out)) {
    if (line.rfind("    " + prefix, 0) == 0) commands.push_back(line.substr(4));
  }
  ASSERT_EQ(commands.size(), 3u) << ran.out;
  const std::vector<std::string> checksum = testing::wordsAfter(ran.out, "have checksum", 1);
  ASSERT_EQ(checksum.size(), 1u);
  for (std::string command : commands) {
    // The one thing a test cannot run is Bazel itself: the binary it would run instead.
    for (size_t at; (at = command.find(prefix)) != std::string::npos;) {
      command.replace(at, prefix.size(), runfile("asp/tools/aspctl"));
    }
    Ran shell =
        testing::runTool("/bin/sh", {"-c", command}, dir_.file("shell-" + std::to_string(++runs_)));
    EXPECT_EQ(shell.code, 0) << command << "\n" << shell.err;
    if (command.find("checksum") != std::string::npos) {
      EXPECT_EQ(shell.out, checksum[0] + "\n") << "the manager's copy has the module's checksum";
    }
    if (command.find("manager-copy") != std::string::npos &&
        command.find('|') == std::string::npos) {
      const std::vector<std::string> held =
          testing::wordsAfter(ran.out, "The manager holds exactly the module's", 1);
      ASSERT_EQ(held.size(), 1u);
      EXPECT_EQ(std::to_string(linesOf(shell.out).size()), held[0]) << "one line per document";
      EXPECT_NE(shell.out.find("\"index\":\"states-fim-files\""), std::string::npos);
    }
  }
  EXPECT_NE(ran.out.find("rm -r " + demoDirectory(ran.out)), std::string::npos);
}

}  // namespace
}  // namespace asp::tools
