// aspctl as a user runs it: the binary as a process, against the asp_manager binary.
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "asp/base/checksum.h"
#include "asp/manager/sqlite_state_store.h"
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
using testing::runTool;
using testing::wordsAfter;

constexpr char kIndex[] = "states-fim-files";

std::string changeLine(const std::string& id, const std::string& operation, const std::string& data,
                       int version, const std::string& index = kIndex) {
  return "{\"id\":\"" + id + "\",\"index\":\"" + index + "\",\"operation\":\"" + operation +
         "\",\"version\":" + std::to_string(version) + ",\"data\":\"" + data + "\"}\n";
}

class Aspctl : public ::testing::Test {
 protected:
  Ran aspctl(const std::vector<std::string>& args, const std::string& input = "") {
    std::string stdin_file;
    if (!input.empty()) {
      stdin_file = dir_.file("stdin-" + std::to_string(++runs_));
      std::ofstream(stdin_file) << input;
    }
    return runTool(runfile("asp/tools/aspctl"), args, dir_.file("ctl-" + std::to_string(++runs_)),
                   stdin_file);
  }

  void startManager() {
    manager_ = testing::startManager(socket_, dir_.file("manager"), dir_.file("manager"));
  }

  // Stops the manager (so its state file is complete) and returns agent 042's documents.
  manager::IndexState managerCopy(const std::string& index = kIndex) {
    if (manager_ != nullptr) {
      manager_->signal(SIGTERM);
      EXPECT_EQ(manager_->wait(), 0) << manager_->err();
      manager_.reset();
    }
    auto store = manager::SqliteStateStore::open(dir_.file("manager/state.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    return (*store)->documents({"042", "fim"}, index).value_or(manager::IndexState{});
  }

  std::vector<std::string> session(std::vector<std::string> args) {
    for (const char* flag :
         {"--module=fim", "--sync_end_delay=0", "--agent_id=042", "--timeout=5s"}) {
      args.push_back(flag);
    }
    args.push_back("--queue=" + socket_);
    return args;
  }

  asp::testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  const std::string db_ = dir_.file("fim_sync.db");
  std::unique_ptr<Process> manager_;
  int runs_ = 0;
};

TEST_F(Aspctl, PersistStatusDumpSyncAndCheck) {
  startManager();
  Ran persisted = aspctl({"persist", "--db=" + db_, "--module=fim"},
                         changeLine("/etc/hosts", "create", "h", 1) +
                             changeLine("/etc/passwd", "modify", "p", 2) +
                             changeLine("/etc/gone", "delete", "", 3));
  ASSERT_EQ(persisted.code, 0) << persisted.err;
  EXPECT_NE(persisted.out.find("persisted 3 changes"), std::string::npos);

  Ran status = aspctl({"status", "--db=" + db_});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(wordsAfter(status.out, kIndex, 2), (std::vector<std::string>{"3", "0"})) << status.out;

  Ran dump = aspctl({"dump", "--db=" + db_});
  ASSERT_EQ(dump.code, 0) << dump.err;
  EXPECT_NE(
      dump.out.find(
          R"({"id":"/etc/gone","index":"states-fim-files","operation":"delete","version":3,"data":"","state":"pending"})"),
      std::string::npos)
      << dump.out;

  Ran synced = aspctl(session({"sync", "--db=" + db_}));
  ASSERT_EQ(synced.code, 0) << synced.err;
  EXPECT_NE(synced.out.find("delta sync: ok; 3 changes"), std::string::npos) << synced.out;

  IndexChecksum module;
  module.addDocument("h");
  module.addDocument("p");
  const std::string expected = module.finish();
  Ran match =
      aspctl(session({"check", "--index=" + std::string(kIndex), "--checksum=" + expected}));
  EXPECT_EQ(match.code, 0) << match.err;
  EXPECT_NE(match.out.find("match"), std::string::npos);
  Ran mismatch = aspctl(
      session({"check", "--index=" + std::string(kIndex), "--checksum=" + sha1Hex("other")}));
  EXPECT_EQ(mismatch.code, 2) << mismatch.err;
  EXPECT_EQ(managerCopy(),
            (manager::IndexState{{"/etc/hosts", {"h", 1}}, {"/etc/passwd", {"p", 2}}}));
}

TEST_F(Aspctl, DumpOutputFeedsPersistUnchanged) {
  ASSERT_EQ(aspctl({"persist", "--db=" + db_, "--module=fim"},
                   changeLine("new", "create", "n", 1) + changeLine("old", "modify", "o", 18) +
                       changeLine("gone", "delete", "", 3))
                .code,
            0);
  Ran dump = aspctl({"dump", "--db=" + db_});
  ASSERT_EQ(dump.code, 0) << dump.err;
  const std::string copy = dir_.file("copy.db");
  Ran persisted = aspctl({"persist", "--db=" + copy, "--module=fim"}, dump.out);
  ASSERT_EQ(persisted.code, 0) << persisted.err;
  EXPECT_EQ(aspctl({"dump", "--db=" + copy}).out, dump.out)
      << "the same changes, new-ness included";
}

TEST_F(Aspctl, PersistIsAllOrNoneAndNamesTheBadLine) {
  Ran refused =
      aspctl({"persist", "--db=" + db_, "--module=fim"},
             changeLine("a", "create", "x", 1) + "\n" + changeLine("b", "create", "y", 1) +
                 "{\"id\":\"c\",\"index\":\"i\",\"operation\":\"create\",\"id\":\"d\"}\n");
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "aspctl: line 4: key \"id\" appears twice; nothing was recorded\n");
  Ran status = aspctl({"status", "--db=" + db_});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(wordsAfter(status.out, "TOTAL", 2), (std::vector<std::string>{"0", "0"})) << status.out;
}

TEST_F(Aspctl, AChangeTheQueueRefusesNamesItsLineAndRecordsNothing) {
  const std::string huge_id = "/" + std::string(70000, 'x');
  Ran refused = aspctl({"persist", "--db=" + db_, "--module=fim"},
                       changeLine("a", "create", "x", 1) + changeLine(huge_id, "create", "y", 1));
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err.rfind("aspctl: line 2: change id '/xxx", 0), 0u)
      << refused.err.substr(0, 300);
  EXPECT_NE(refused.err.find("(70001 bytes)"), std::string::npos) << refused.err.substr(0, 300);
  EXPECT_LT(refused.err.size(), 400u) << "the id is not echoed whole";
  EXPECT_EQ(wordsAfter(aspctl({"status", "--db=" + db_}).out, "TOTAL", 1),
            (std::vector<std::string>{"0"}));
}

TEST_F(Aspctl, PersistStreamsItsInputInBoundedMemory) {
  // Each child's peak memory: with the input held in memory, ten times the lines cost
  // about ten times the memory (264 MB for a million lines); streamed, about the same.
  auto input = [&](int lines) {
    const std::string path = dir_.file("in-" + std::to_string(lines));
    std::ofstream out(path);
    for (int i = 0; i < lines; ++i)
      out << changeLine("/srv/file-" + std::to_string(i), "modify", std::string(100, 'd'), i);
    return path;
  };
  const std::string small = input(20000), large = input(200000);
  // AddressSanitizer keeps freed memory in quarantine; keep it small so RSS means use.
  const char* asan = getenv("ASAN_OPTIONS");
  setenv("ASAN_OPTIONS",
         (std::string(asan == nullptr ? "" : asan) + ":quarantine_size_mb=1").c_str(), 1);
  const Ran a =
      runTool(runfile("asp/tools/aspctl"), {"persist", "--db=" + dir_.file("a.db"), "--module=fim"},
              dir_.file("small"), small);
  const Ran b =
      runTool(runfile("asp/tools/aspctl"), {"persist", "--db=" + dir_.file("b.db"), "--module=fim"},
              dir_.file("large"), large);
  if (asan != nullptr)
    setenv("ASAN_OPTIONS", asan, 1);
  else
    unsetenv("ASAN_OPTIONS");
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("persisted 200000 changes"), std::string::npos);
  // 180,000 more lines of ~170 bytes: 30 MB more input. Streamed, the peak barely moves.
  EXPECT_LT(b.max_rss_kb - a.max_rss_kb, 12 * 1024)
      << "peak RSS " << a.max_rss_kb << " KB for 20,000 lines, " << b.max_rss_kb
      << " KB for 200,000";
}

TEST_F(Aspctl, AnEmptyFileIsAnEmptyQueueForEveryCommand) {
  std::ofstream(db_).close();
  Ran status = aspctl({"status", "--db=" + db_});
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(wordsAfter(status.out, "TOTAL", 2), (std::vector<std::string>{"0", "0"}));
  EXPECT_NE(status.err.find("empty (0 bytes)"), std::string::npos);
  Ran dump = aspctl({"dump", "--db=" + db_});
  EXPECT_EQ(dump.code, 0) << dump.err;
  EXPECT_EQ(dump.out, "");
  ASSERT_EQ(
      aspctl({"persist", "--db=" + db_, "--module=fim"}, changeLine("a", "create", "x", 1)).code,
      0);
  EXPECT_EQ(wordsAfter(aspctl({"status", "--db=" + db_}).out, "TOTAL", 1),
            (std::vector<std::string>{"1"}));
}

TEST_F(Aspctl, ADirectoryGivenAsDbSaysSo) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status", "--db=" + dir_.path()},
        std::vector<std::string>{"persist", "--db=" + dir_.path(), "--module=fim"},
        session({"sync", "--db=" + dir_.path()})}) {
    Ran ran = aspctl(args, changeLine("a", "create", "x", 1));
    EXPECT_EQ(ran.code, 7) << args[0];
    EXPECT_NE(ran.err.find("is a directory"), std::string::npos) << args[0] << ": " << ran.err;
  }
}

TEST_F(Aspctl, ErrorsArePrintedOnce) {
  ASSERT_EQ(
      aspctl({"persist", "--db=" + db_, "--module=fim"}, changeLine("a", "create", "x", 1)).code,
      0);
  Ran unreachable = aspctl(session({"sync", "--db=" + db_}));
  EXPECT_EQ(unreachable.code, 5);
  EXPECT_EQ(linesOf(unreachable.err).size(), 1u) << unreachable.err;
  Ran check = aspctl(session({"check", "--index=i", "--checksum=" + sha1Hex("")}));
  EXPECT_EQ(check.code, 5);
  EXPECT_EQ(linesOf(check.err).size(), 1u) << check.err;
}

TEST_F(Aspctl, EveryCommandsHelpListsItsFlagsDefaultsAndExitCodesAndExitsZero) {
  Ran overview = aspctl({"--help"});
  EXPECT_EQ(overview.code, 0);
  for (const char* command : {"status", "dump", "persist", "checksum", "sync", "check", "clean",
                              "metadata", "groups", "manager-copy"}) {
    EXPECT_NE(overview.out.find(std::string("  ") + command + " "), std::string::npos) << command;
    Ran help = aspctl({command, "--help"});
    EXPECT_EQ(help.code, 0) << command;
    EXPECT_NE(help.out.find("Flags:\n"), std::string::npos) << command;
    EXPECT_NE(help.out.find("Exit codes:\n    0  success"), std::string::npos) << command;
  }
  Ran sync = aspctl({"sync", "--help"});
  EXPECT_NE(sync.out.find("--timeout (default: 30s)"), std::string::npos) << sync.out;
  EXPECT_NE(sync.out.find("--queue (required)"), std::string::npos) << sync.out;
  EXPECT_NE(sync.out.find("    4  timeout"), std::string::npos) << sync.out;
}

TEST_F(Aspctl, UsageErrorsExitOne) {
  EXPECT_EQ(aspctl({}).code, 1);
  EXPECT_EQ(aspctl({"frobnicate"}).code, 1);
  EXPECT_EQ(aspctl({"status", "--no_such_flag=1"}).code, 1);
  Ran missing = aspctl({"status"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("--db is required"), std::string::npos) << missing.err;
  Ran foreign = aspctl({"status", "--db=x", "--queue=y"});
  EXPECT_EQ(foreign.code, 1);
  EXPECT_NE(foreign.err.find("status does not take --queue"), std::string::npos) << foreign.err;
  EXPECT_EQ(aspctl(session({"sync", "--db=" + db_, "--mode=sideways"})).code, 1);
  Ran missing_db = aspctl({"status", "--db=" + dir_.file("missing.db")});
  EXPECT_EQ(missing_db.code, 7);
  EXPECT_NE(missing_db.err.find("does not exist"), std::string::npos);
}

TEST_F(Aspctl, DurationsReadAlikeWithUnitsOrPlainSeconds) {
  ASSERT_EQ(
      aspctl({"persist", "--db=" + db_, "--module=fim"}, changeLine("a", "create", "x", 1)).code,
      0);
  startManager();
  for (const char* flags : {"--timeout=1s", "--timeout=1", "--timeout=1500ms"}) {
    std::vector<std::string> args = session({"sync", "--db=" + db_, "--sync_end_delay=0.1"});
    args.push_back(flags);
    Ran ran = aspctl(args);
    EXPECT_EQ(ran.code, 0) << flags << ": " << ran.err;
  }
  Ran bad = aspctl(session({"sync", "--db=" + db_, "--timeout=soon"}));
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("'soon' is not a duration"), std::string::npos) << bad.err;
}

TEST_F(Aspctl, FullSyncFromAFileThenTheManagersCopyHasTheSameChecksum) {
  startManager();
  ASSERT_EQ(
      aspctl({"persist", "--db=" + db_, "--module=fim"}, changeLine("stale", "create", "s", 1))
          .code,
      0);
  ASSERT_EQ(aspctl(session({"sync", "--db=" + db_})).code, 0);
  const std::string documents = dir_.file("documents.jsonl");
  std::ofstream(documents) << changeLine("/a", "modify", "A", 1)
                           << changeLine("/b", "modify", "B", 2);
  Ran full = aspctl(session({"sync", "--db=" + db_, "--mode=full", "--input=" + documents}));
  ASSERT_EQ(full.code, 0) << full.err;
  Ran sum = aspctl({"checksum", "--index=" + std::string(kIndex), "--input=" + documents});
  ASSERT_EQ(sum.code, 0) << sum.err;
  EXPECT_EQ(sum.out, sha1Hex(sha1Hex("A") < sha1Hex("B") ? sha1Hex("A") + sha1Hex("B")
                                                         : sha1Hex("B") + sha1Hex("A")) +
                         "\n");
  const std::string checksum = sum.out.substr(0, 40);
  EXPECT_EQ(
      aspctl(session({"check", "--index=" + std::string(kIndex), "--checksum=" + checksum})).code,
      0);
  EXPECT_EQ(managerCopy(), (manager::IndexState{{"/a", {"A", 1}}, {"/b", {"B", 2}}}));
  Ran copy = aspctl(
      {"manager-copy", "--state_dir=" + dir_.file("manager"), "--module=fim", "--agent_id=042"});
  ASSERT_EQ(copy.code, 0) << copy.err;
  EXPECT_EQ(aspctl({"checksum", "--index=" + std::string(kIndex)}, copy.out).out, sum.out)
      << "the manager's copy, as JSON lines, has the module's checksum";
}

TEST_F(Aspctl, SyncFullOnATerminalSaysItIsReadingTheTerminal) {
  ASSERT_EQ(
      aspctl({"persist", "--db=" + db_, "--module=fim"}, changeLine("a", "create", "x", 1)).code,
      0);
  Ran ran = testing::runOnTerminal(runfile("asp/tools/aspctl"),
                                   session({"sync", "--db=" + db_, "--mode=full"}),
                                   dir_.file("tty"), "Ctrl-D", "\x04");
  EXPECT_NE(ran.err.find("reading the documents of the full sync as JSON lines from the terminal"),
            std::string::npos)
      << ran.err;
}

TEST_F(Aspctl, CleanMakesTheManagerDropTheIndex) {
  startManager();
  ASSERT_EQ(
      aspctl({"persist", "--db=" + db_, "--module=fim"}, changeLine("a", "create", "x", 1)).code,
      0);
  ASSERT_EQ(aspctl(session({"sync", "--db=" + db_})).code, 0);
  Ran clean = aspctl(session({"clean", "--db=" + db_, "--index=" + std::string(kIndex)}));
  ASSERT_EQ(clean.code, 0) << clean.err;
  EXPECT_NE(clean.out.find("clean: ok"), std::string::npos) << clean.out;
  EXPECT_TRUE(managerCopy().empty());
}

TEST_F(Aspctl, MetadataAndGroupsSessionsReachTheManager) {
  startManager();
  Ran metadata = aspctl(session({"metadata", "--index=states-inventory", "--global_version=7"}));
  ASSERT_EQ(metadata.code, 0) << metadata.err;
  EXPECT_NE(metadata.out.find("metadata delta: ok"), std::string::npos) << metadata.out;
  Ran groups = aspctl(session({"groups", "--index=states-inventory", "--mode=check",
                               "--agent_groups=default,web", "--global_version=8"}));
  ASSERT_EQ(groups.code, 0) << groups.err;
  managerCopy();  // stops the manager
  auto store = manager::SqliteStateStore::open(dir_.file("manager/state.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<manager::AgentMetadata> last = (*store)->metadata({"042", "fim"});
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->global_version, 8u);
  EXPECT_EQ(last->indices, std::vector<std::string>{"states-inventory"});
}

TEST_F(Aspctl, RelativePathsUnderBazelRunAreRelativeToWhereTheCommandWasTyped) {
  setenv("BUILD_WORKING_DIRECTORY", dir_.path().c_str(), 1);
  const std::string input = dir_.file("changes.jsonl");
  std::ofstream(input) << changeLine("a", "create", "x", 1);
  Ran persisted = aspctl({"persist", "--db=relative.db", "--module=fim", "--input=changes.jsonl"});
  unsetenv("BUILD_WORKING_DIRECTORY");
  ASSERT_EQ(persisted.code, 0) << persisted.err;
  EXPECT_EQ(aspctl({"status", "--db=" + dir_.file("relative.db")}).code, 0);
}

}  // namespace
}  // namespace asp::tools
