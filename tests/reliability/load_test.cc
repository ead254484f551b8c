// Load: 8 modules sync at once to one reference manager (the asp_manager process) over
// real sockets while they keep recording; each must converge exactly. The number of
// changes per module comes from ASP_LOAD_CHANGES (the short form runs in CI; the long
// form, :load_campaign_test, 100,000 per module).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/sqlite_state_store.h"
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

TEST(Load, EightModulesSyncingAtOnceWhileRecordingConvergeExactly) {
  const char* env = std::getenv("ASP_LOAD_CHANGES");
  const uint64_t changes = env != nullptr ? std::strtoull(env, nullptr, 10) : 10000;
  testing::TempDir dir;
  const std::string socket = dir.file("queue");
  testing::Process manager(testing::runfile("asp/tools/asp_manager"),
                           {"--socket=" + socket, "--state_dir=" + dir.file("manager")},
                           dir.file("manager"));
  while (manager.out().find("listening") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  std::vector<Module> modules(kModules);
  for (int m = 0; m < kModules; ++m) {
    Module& module = modules[m];
    module.name = "load" + std::to_string(m);
    AgentSyncProtocol::Options o = testing::localAgentOptions(
        module.name, dir.file(module.name + ".db"), kAgent, absl::Seconds(5));
    auto agent = SocketSyncProtocol::create(o, socket);
    ASSERT_TRUE(agent.ok()) << agent.status();
    module.agent = *std::move(agent);
    module.protocol = &module.agent->protocol();
  }

  const auto began = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (Module& module : modules) {
    // One thread records, another syncs in a loop meanwhile.
    auto recording = std::make_shared<std::atomic<bool>>(true);
    threads.emplace_back([&module, recording, changes] {
      const std::string index = "states-" + module.name;
      for (uint64_t i = 0; i < changes; ++i) {
        const Change c = streamChange(i, index);
        ASSERT_TRUE(module.protocol->persistDifference(c.id, c.operation, c.index, c.data, c.version).ok());
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
    for (int attempt = 0; attempt < 10 && !(last = module.protocol->synchronizeModule(Mode::kDelta)).ok(); ++attempt) {
    }
    ASSERT_TRUE(last.ok()) << module.name << ": " << last.message;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  for (Module& module : modules) module.agent.reset();
  manager.signal(SIGTERM);
  ASSERT_EQ(manager.wait(), 0);

  auto store = manager::SqliteStateStore::open(dir.file("manager/state.db"));
  ASSERT_TRUE(store.ok());
  int sessions = 0, failed = 0;
  for (const Module& module : modules) {
    const std::string index = "states-" + module.name;
    absl::StatusOr<manager::IndexState> held = (*store)->documents(kAgent, index);
    ASSERT_TRUE(held.ok());
    std::map<std::string, std::string> manager_view;
    for (const auto& [id, doc] : *held) manager_view[id] = doc.data;
    EXPECT_TRUE(manager_view == streamState(changes, index)) << module.name << " diverged";
    sessions += module.sessions;
    failed += module.failed;
  }
  std::cout << kModules << " modules x " << changes << " changes converged exactly in " << seconds << " s ("
            << static_cast<uint64_t>(kModules * changes / seconds) << " changes/s recorded and synced), "
            << sessions << " sessions during recording, " << failed << " of them failed and were retried"
            << std::endl;
}

}  // namespace
}  // namespace asp::reliability
