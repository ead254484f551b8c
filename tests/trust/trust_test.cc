// Trust boundaries on one host (docs/protocol.md §4, §7), with real processes and sockets:
// a hostile local user forging answers, and a manager that duplicates or delays.
//
// Outside Bazel's sandbox (tag no-sandbox): the forger switches to another user, which
// the sandbox's user namespace cannot map.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "asp/c_api/aspx.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

constexpr char kAgent[] = "007";
constexpr int kNobody = 65534;

// An asp_manager process on a socket in `dir`, with extra flags (faults).
class ManagerProcess {
 public:
  ManagerProcess(const testing::TempDir& dir, std::vector<std::string> flags)
      : socket_(dir.file("queue")), state_(dir.file("manager")) {
    flags.push_back("--socket=" + socket_);
    flags.push_back("--state_dir=" + state_);
    process_ = std::make_unique<testing::Process>(testing::managerBinary(flags), flags,
                                                  dir.file("manager"));
    while (process_->out().find("listening") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Stops the manager and returns what it holds for kAgent's `module` in `index`.
  manager::IndexState stopAndRead(const std::string& module, const std::string& index) {
    process_->signal(SIGTERM);
    EXPECT_EQ(process_->wait(), 0) << process_->err();
    auto store = manager::SqliteStateStore::open(state_ + "/state.db");
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? (*store)->documents({kAgent, module}, index).value_or(manager::IndexState{})
                      : manager::IndexState{};
  }

  const std::string& socket() const { return socket_; }
  std::string out() const { return process_->out(); }

 private:
  std::string socket_, state_;
  std::unique_ptr<testing::Process> process_;
};

// The forger flooding process `pid`'s abstract sockets as user nobody (when root).
class Forger {
 public:
  Forger(const testing::TempDir& dir, pid_t pid, const std::string& module)
      : process_(testing::runfile("tests/trust/forger"),
                 {"--pid=" + std::to_string(pid), "--module=" + module,
                  "--as_uid=" + std::to_string(kNobody)},
                 dir.file("forger-" + module)) {
    while (process_.out().find("target") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // Stops it; returns its summary line, e.g. "sent 0 forged answers, refused 51234".
  std::string stop() {
    process_.signal(SIGTERM);
    process_.wait();
    std::cout << process_.out();
    return process_.out();
  }

  // The number after `word` in the summary (0 if absent).
  static uint64_t count(const std::string& summary, const std::string& word) {
    const size_t at = summary.find(word + " ");
    if (at == std::string::npos) return 0;
    return std::strtoull(summary.c_str() + at + word.size() + 1, nullptr, 10);
  }

 private:
  testing::Process process_;
};

// docs/protocol.md §4. Before: 10 of 10 sessions of a long-lived agent "succeeded" against a
// manager that held nothing, and 1,000 acknowledged changes were deleted.
TEST(ForgedAnswers, NeverMakeASessionReportDataTheManagerDoesNotHold) {
  testing::TempDir dir;
  // The manager refuses every session (OFFLINE): none can legitimately succeed.
  ManagerProcess manager(dir, {"--max_session_size=0"});
  AgentSyncProtocol::Options o =
      testing::localAgentOptions("fim", dir.file("fim.db"), kAgent, absl::Milliseconds(500));
  auto agent = SocketSyncProtocol::create(o, manager.socket());
  ASSERT_TRUE(agent.ok()) << agent.status();
  AgentSyncProtocol& protocol = (*agent)->protocol();
  Forger forger(dir, getpid(), "fim");

  int succeeded = 0;
  for (int session = 0; session < 10; ++session) {
    for (int i = 0; i < 100; ++i) {
      const std::string id = "file-" + std::to_string(session) + "-" + std::to_string(i);
      ASSERT_TRUE(
          protocol.persistDifference(id, Operation::kCreate, "states-fim-files", "{}", 1).ok());
    }
    if (protocol.synchronizeModule(Mode::kDelta).ok()) ++succeeded;
  }
  const std::string summary = forger.stop();
  EXPECT_EQ(succeeded, 0);
  absl::StatusOr<std::vector<IndexCounts>> counts = protocol.queue().counts();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].pending, 1000u) << "every acknowledged change is still queued";
  EXPECT_GT(Forger::count(summary, "refused"), 0u) << summary;
  EXPECT_EQ(Forger::count(summary, "sent"), 0u) << "the kernel refused every forged answer";
  EXPECT_TRUE(manager.stopAndRead("fim", "states-fim-files").empty());
}

// The same for a module on the C API with the built-in Unix MQ.
TEST(ForgedAnswers, NeverMakeACApiSessionReportDataTheManagerDoesNotHold) {
  testing::TempDir dir;
  ManagerProcess manager(dir, {"--max_session_size=0"});
  aspx_options_t options;
  std::memset(&options, 0, sizeof(options));
  const std::string db = dir.file("inv.db");
  options.module = "inv";
  options.db_path = db.c_str();
  options.mq = NULL; /* the built-in socket */
  options.queue_path = manager.socket().c_str();
  options.timeout = 1;
  options.retries = 1;
  AspxHandle* handle = aspx_create_with_options(&options);
  ASSERT_NE(handle, nullptr) << aspx_last_error();
  aspx_agent_info_t info;
  std::memset(&info, 0, sizeof(info));
  info.id = kAgent;
  ASSERT_EQ(aspx_set_agent_info(handle, &info), 0);
  Forger forger(dir, getpid(), "inv");
  int succeeded = 0;
  for (int session = 0; session < 10; ++session) {
    for (int i = 0; i < 100; ++i) {
      const std::string id = "pkg-" + std::to_string(session) + "-" + std::to_string(i);
      ASSERT_EQ(
          aspx_persist_diff(handle, id.c_str(), ASPX_OPERATION_CREATE, "states-inventory", "{}", 1),
          0);
    }
    if (aspx_sync_module(handle, ASPX_MODE_DELTA).success) ++succeeded;
  }
  const std::string summary = forger.stop();
  aspx_destroy(handle);
  EXPECT_EQ(succeeded, 0);
  EXPECT_EQ(Forger::count(summary, "sent"), 0u) << summary;
  EXPECT_TRUE(manager.stopAndRead("inv", "states-inventory").empty());
}

// Records `count` changes into the queue file at `db` (the file only, no session).
void recordInto(const std::string& db, int count, const std::string& index) {
  SqliteChangeQueue::Options o;
  o.path = db;
  auto queue = SqliteChangeQueue::open(o);
  ASSERT_TRUE(queue.ok()) << queue.status();
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(
        (*queue)->record(Change{"f" + std::to_string(i), index, Operation::kCreate, "{}", 1}).ok());
  }
}

// Before: `aspctl sync` against a manager answering after 300 ms took the forger's
// answers, printed "ok; 500 changes" and exited 0 with the manager empty. Now an ok
// means the manager holds every change.
TEST(ForgedAnswers, AspctlSyncAgainstASlowManagerIsNotFooled) {
  testing::TempDir dir;
  ManagerProcess manager(dir, {"--answer_delay=300ms"});
  const std::string db = dir.file("fim.db");
  recordInto(db, 500, "states-fim-files");
  testing::Process aspctl(testing::runfile("asp/tools/aspctl"),
                          {"sync", "--db=" + db, "--module=fim", "--queue=" + manager.socket(),
                           "--agent_id=" + std::string(kAgent), "--sync_end_delay=0s"},
                          dir.file("aspctl"));
  Forger forger(dir, aspctl.pid(), "fim");
  const int exit_code = aspctl.wait();
  const std::string summary = forger.stop();
  const manager::IndexState held = manager.stopAndRead("fim", "states-fim-files");
  EXPECT_EQ(exit_code, 0) << aspctl.err();
  EXPECT_EQ(held.size(), 500u) << "aspctl said: " << aspctl.out();
  EXPECT_EQ(Forger::count(summary, "sent"), 0u) << summary;
}

// An agent that syncs against `manager` and checks the manager ends up with exactly the
// module's changes after each of three syncs.
void expectThreeSyncsConverge(ManagerProcess& manager, const testing::TempDir& dir,
                              absl::Duration timeout) {
  AgentSyncProtocol::Options o =
      testing::localAgentOptions("fim", dir.file("fim.db"), kAgent, timeout);
  o.session.retries = 4;
  auto agent = SocketSyncProtocol::create(o, manager.socket());
  ASSERT_TRUE(agent.ok()) << agent.status();
  AgentSyncProtocol& protocol = (*agent)->protocol();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::string id = "f" + std::to_string(round * 200 + i);
      ASSERT_TRUE(
          protocol.persistDifference(id, Operation::kCreate, "states-fim-files", id, 1).ok());
    }
    SyncResult result = protocol.synchronizeModule(Mode::kDelta);
    EXPECT_EQ(result.code, SyncCode::kOk) << "sync " << round << ": " << result.message;
  }
  agent->reset();
  const manager::IndexState held = manager.stopAndRead("fim", "states-fim-files");
  EXPECT_EQ(held.size(), 600u);
  for (const auto& [id, document] : held) EXPECT_EQ(document.data, id);
}

// docs/protocol.md §7. Before: with every datagram handled twice, 3 of 3 syncs failed (the
// duplicated Start replaced the session the agent had adopted).
TEST(ResentStarts, EveryDatagramDuplicatedStillConvergesExactly) {
  testing::TempDir dir;
  ManagerProcess manager(dir, {"--duplicate_rate=1"});
  expectThreeSyncsConverge(manager, dir, absl::Seconds(2));
}

// Before: with answers later than the agent's timeout, every sync ended "manager
// answered ERROR to End" and never succeeded.
TEST(ResentStarts, AnswersThreeTimesTheTimeoutLateStillConvergeExactly) {
  testing::TempDir dir;
  ManagerProcess manager(dir, {"--answer_delay=900ms"});
  expectThreeSyncsConverge(manager, dir, absl::Milliseconds(300));
}

}  // namespace
}  // namespace asp
