// asp_manager as an operator runs it: help, exit codes, one manager per socket and per
// state directory.
#include <signal.h>

#include <string>
#include <vector>

#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "asp/tools/tool_test_util.h"
#include "gtest/gtest.h"

namespace asp::tools {
namespace {

using asp::testing::Process;
using asp::testing::runfile;
using testing::Ran;

class AspManager : public ::testing::Test {
 protected:
  Ran manager(const std::vector<std::string>& args) {
    return testing::runTool(runfile("asp/tools/asp_manager"), args,
                            dir_.file("run-" + std::to_string(++runs_)));
  }
  std::unique_ptr<Process> start(const std::string& socket, const std::string& state_dir) {
    return testing::startManager(socket, state_dir,
                                 dir_.file("started-" + std::to_string(++runs_)));
  }

  asp::testing::TempDir dir_;
  int runs_ = 0;
};

TEST_F(AspManager, HelpListsFlagsDefaultsAndExitCodesAndExitsZero) {
  for (const char* spelling : {"--help", "-h", "--helpfull"}) {
    Ran help = manager({spelling});
    EXPECT_EQ(help.code, 0) << spelling;
    EXPECT_NE(help.out.find("--socket (required)"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("--session_idle_timeout (default: 5m)"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("    3  another manager already uses this --socket or --state_dir"),
              std::string::npos)
        << help.out;
  }
}

TEST_F(AspManager, AMissingSocketIsAUsageError) {
  Ran ran = manager({"--state_dir=" + dir_.file("state")});
  EXPECT_EQ(ran.code, 1);
  EXPECT_EQ(ran.err, "asp_manager: --socket is required (asp_manager --help)\n");
}

TEST_F(AspManager, BadValuesAreUsageErrors) {
  EXPECT_EQ(manager({"--socket=" + dir_.file("q")}).code, 1) << "no --state_dir";
  EXPECT_EQ(
      manager({"--socket=" + dir_.file("q"), "--memory_state", "--session_idle_timeout=soon"}).code,
      1);
  EXPECT_EQ(manager({"--socket=" + dir_.file("q"), "--memory_state", "--max_buffered_mib=-1"}).code,
            1);
  EXPECT_EQ(manager({"--no_such_flag"}).code, 1);
}

// The shipped manager has no fault injection: that is the test-only
// asp_manager_with_faults, whose bad values are usage errors too.
TEST_F(AspManager, FaultInjectionIsNotInTheShippedManager) {
  Ran shipped = manager({"--socket=" + dir_.file("q"), "--memory_state", "--drop_rate=0.1"});
  EXPECT_EQ(shipped.code, 1);
  EXPECT_NE(shipped.err.find("drop_rate"), std::string::npos) << shipped.err;
  const std::string faulty = runfile("asp/testing/asp_manager_with_faults");
  EXPECT_EQ(
      testing::runTool(faulty, {"--socket=" + dir_.file("q"), "--memory_state", "--drop_rate=2"},
                       dir_.file("faulty"))
          .code,
      1);
  EXPECT_EQ(testing::runTool(
                faulty, {"--socket=" + dir_.file("q"), "--memory_state", "--answer_delay=soon"},
                dir_.file("faulty2"))
                .code,
            1);
}

TEST_F(AspManager, ASecondManagerOnTheSameStateDirIsRefused) {
  auto first = start(dir_.file("queue-1"), dir_.file("state"));
  Ran second = manager({"--socket=" + dir_.file("queue-2"), "--state_dir=" + dir_.file("state")});
  EXPECT_EQ(second.code, 3);
  EXPECT_NE(
      second.err.find("--state_dir '" + dir_.file("state") +
                      "' is in use by another manager (pid " + std::to_string(first->pid()) + ")"),
      std::string::npos)
      << second.err;
}

TEST_F(AspManager, ASecondManagerOnTheSameSocketIsRefused) {
  auto first = start(dir_.file("queue"), dir_.file("state-1"));
  Ran second = manager({"--socket=" + dir_.file("queue"), "--state_dir=" + dir_.file("state-2")});
  EXPECT_EQ(second.code, 3);
  EXPECT_NE(second.err.find("is in use by another"), std::string::npos) << second.err;
}

TEST_F(AspManager, TheLockOfAKilledManagerIsNoObstacle) {
  auto first = start(dir_.file("queue"), dir_.file("state"));
  first->signal(SIGKILL);
  first->wait();
  auto second = start(dir_.file("queue"), dir_.file("state"));
  second->signal(SIGTERM);
  EXPECT_EQ(second->wait(), 0) << second->err();
}

TEST_F(AspManager, DurationsReadAlikeWithUnitsOrPlainSeconds) {
  for (const char* delay : {"--session_idle_timeout=90", "--session_idle_timeout=90s"}) {
    auto manager =
        testing::startManager(dir_.file("queue"), dir_.file("state"), dir_.file(delay), {delay});
    manager->signal(SIGTERM);
    EXPECT_EQ(manager->wait(), 0) << delay << ": " << manager->err();
  }
}

}  // namespace
}  // namespace asp::tools
