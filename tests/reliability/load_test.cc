// Load: 8 modules sync at once to one reference manager (the asp_manager process) over
// real sockets while they keep recording; each must converge exactly. The number of
// changes per module comes from ASP_LOAD_CHANGES (the short form runs in CI; the long
// form, :load_campaign_test, 100,000 per module).
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/proto/wire.pb.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/reliability/campaign_stream.h"

namespace asp::reliability {
namespace {

constexpr int kModules = 8;
constexpr char kAgent[] = "902";

struct Module {
  std::string name;
  std::unique_ptr<SocketSyncProtocol> agent;
  AgentSyncProtocol* protocol = nullptr;
  int sessions = 0, failed = 0;
};

// What a load run faces besides its own work.
struct Hostility {
  std::vector<std::string> manager_flags;  // faults of the manager (duplicates, delays)
  bool forged_answers = false;             // a forger floods every agent's socket
  int huge_starts = 0;                     // Starts of 10M values from made-up agents
  absl::Duration timeout = absl::Seconds(5);
};

int64_t peakMib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) / 1024;
  }
  return -1;
}

void floodHugeStarts(const std::string& socket, int starts) {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un to;
  std::memset(&to, 0, sizeof(to));
  to.sun_family = AF_UNIX;
  std::strncpy(to.sun_path, socket.c_str(), sizeof(to.sun_path) - 1);
  for (int i = 0; i < starts; ++i) {
    wire::v1::Message m;
    m.mutable_start()->set_module("load0");
    m.mutable_start()->set_mode(wire::v1::MODE_DELTA);
    m.mutable_start()->set_size(10'000'000);
    m.mutable_start()->mutable_agent()->set_id("made-up-" + std::to_string(i));
    const std::string datagram = "s:load0:" + m.SerializeAsString();
    (void)sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof(to));
  }
  close(fd);
}

void runLoad(uint64_t changes, const Hostility& hostility) {
  testing::TempDir dir;
  const std::string socket = dir.file("queue");
  std::vector<std::string> flags = {"--socket=" + socket, "--state_dir=" + dir.file("manager")};
  flags.insert(flags.end(), hostility.manager_flags.begin(), hostility.manager_flags.end());
  testing::Process manager(testing::managerBinary(flags), flags, dir.file("manager"));
  while (manager.out().find("listening") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  std::vector<Module> modules(kModules);
  for (int m = 0; m < kModules; ++m) {
    Module& module = modules[m];
    module.name = "load" + std::to_string(m);
    AgentSyncProtocol::Options o = testing::localAgentOptions(
        module.name, dir.file(module.name + ".db"), kAgent, hostility.timeout);
    auto agent = SocketSyncProtocol::create(o, socket);
    ASSERT_TRUE(agent.ok()) << agent.status();
    module.agent = *std::move(agent);
    module.protocol = &module.agent->protocol();
  }
  std::unique_ptr<testing::Process> forger;
  if (hostility.forged_answers) {
    forger = std::make_unique<testing::Process>(
        testing::runfile("tests/trust/forger"),
        std::vector<std::string>{"--pid=" + std::to_string(getpid()), "--module=load0"},
        dir.file("forger"));
  }
  if (hostility.huge_starts > 0) floodHugeStarts(socket, hostility.huge_starts);

  const auto began = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (Module& module : modules) {
    // One thread records, another syncs in a loop meanwhile.
    auto recording = std::make_shared<std::atomic<bool>>(true);
    threads.emplace_back([&module, recording, changes] {
      const std::string index = "states-" + module.name;
      for (uint64_t i = 0; i < changes; ++i) {
        const Change c = streamChange(i, index);
        ASSERT_TRUE(
            module.protocol->persistDifference(c.id, c.operation, c.index, c.data, c.version).ok());
      }
      *recording = false;
    });
    threads.emplace_back([&module, recording] {
      while (*recording) {
        ++module.sessions;
        if (!module.protocol->synchronizeModule(Mode::kDelta).ok()) ++module.failed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (Module& module : modules) {
    SyncResult last;
    for (int attempt = 0;
         attempt < 10 && !(last = module.protocol->synchronizeModule(Mode::kDelta)).ok();
         ++attempt) {
    }
    ASSERT_TRUE(last.ok()) << module.name << ": " << last.message;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  if (forger != nullptr) {
    forger->signal(SIGTERM);
    forger->wait();
    std::cout << forger->out();
  }
  for (Module& module : modules) module.agent.reset();
  const int64_t manager_peak = peakMib(manager.pid());
  manager.signal(SIGTERM);
  ASSERT_EQ(manager.wait(), 0);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // (Sanitizers' shadow memory and quarantine count in the resident set: no bound then.)
  EXPECT_LT(manager_peak, 256) << "the manager's memory stays bounded";
#endif

  auto store = manager::SqliteStateStore::open(dir.file("manager/state.db"));
  ASSERT_TRUE(store.ok());
  int sessions = 0, failed = 0;
  for (const Module& module : modules) {
    const std::string index = "states-" + module.name;
    absl::StatusOr<manager::IndexState> held = (*store)->documents({kAgent, module.name}, index);
    ASSERT_TRUE(held.ok());
    std::map<std::string, std::string> manager_view;
    for (const auto& [id, doc] : *held) manager_view[id] = doc.data;
    EXPECT_TRUE(manager_view == streamState(changes, index)) << module.name << " diverged";
    sessions += module.sessions;
    failed += module.failed;
  }
  std::cout << kModules << " modules x " << changes << " changes converged exactly in " << seconds
            << " s (" << static_cast<uint64_t>(kModules * changes / seconds)
            << " changes/s recorded and synced), " << sessions << " sessions during recording, "
            << failed << " of them failed and were retried; "
            << "manager peak " << manager_peak << " MiB" << std::endl;
}

uint64_t changesFromEnvironment(uint64_t otherwise) {
  const char* env = std::getenv("ASP_LOAD_CHANGES");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : otherwise;
}

TEST(Load, EightModulesSyncingAtOnceWhileRecordingConvergeExactly) {
  runLoad(changesFromEnvironment(10000), Hostility{});
}

// Issue "Trust boundaries" item 4: before, 1 of 8 modules syncing at once failed with
// 10 % of the datagrams duplicated.
TEST(Load, WithTenPercentDuplicatesAndAnswersLaterThanTheTimeoutTheyConvergeExactly) {
  Hostility h;
  h.manager_flags = {"--duplicate_rate=0.1", "--answer_delay=400ms"};
  h.timeout = absl::Milliseconds(250);
  runLoad(changesFromEnvironment(10000) / 4, h);
}

// Forged answers flood every agent, and made-up agents announce huge sessions.
TEST(Load, UnderForgedAnswersAndAFloodOfHugeStartsTheyConvergeExactly) {
  Hostility h;
  h.forged_answers = true;
  h.huge_starts = 500;
  runLoad(changesFromEnvironment(10000) / 4, h);
}

}  // namespace
}  // namespace asp::reliability
