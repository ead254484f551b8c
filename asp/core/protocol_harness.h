// A module, its AgentSyncProtocol and an in-process FakeManager on a simulated clock:
// the arrangement most core tests start from. ModuleState mirrors what the module
// holds, so tests can assert the manager ends up holding exactly that.
#ifndef ASP_CORE_PROTOCOL_HARNESS_H_
#define ASP_CORE_PROTOCOL_HARNESS_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "asp/core/agent_sync_protocol.h"
#include "asp/testing/fake_manager.h"
#include "asp/testing/fake_transport.h"
#include "asp/testing/simulated_clock.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::testing {

inline constexpr char kAgent[] = "001";
inline constexpr char kIndex[] = "states-fim-files";
inline constexpr char kModule[] = "fim";

// The bytes of a ReqRet for `session` asking for the seq ranges [begin, end] given.
inline std::string reqRet(uint64_t session,
                          const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  wire::v1::Message m;
  m.mutable_req_ret()->set_session(session);
  for (const auto& [begin, end] : ranges) {
    wire::v1::SeqRange* r = m.mutable_req_ret()->add_ranges();
    r->set_begin(begin);
    r->set_end(end);
  }
  return m.SerializeAsString();
}

// The bytes of a StartAck / EndAck with `status` for `session`.
inline std::string startAck(wire::v1::Status status, uint64_t session) {
  wire::v1::Message m;
  m.mutable_start_ack()->set_status(status);
  m.mutable_start_ack()->set_session(session);
  return m.SerializeAsString();
}
inline std::string endAck(wire::v1::Status status, uint64_t session) {
  wire::v1::Message m;
  m.mutable_end_ack()->set_status(status);
  m.mutable_end_ack()->set_session(session);
  return m.SerializeAsString();
}

// Timeout 30 s, retries 3, backoff 1 s doubling to 30 s, no jitter, End delay 1 s:
// exact times.
inline void exactTiming(AgentSyncProtocol::Options& o) {
  o.session.timeout = absl::Seconds(30);
  o.session.retries = 3;
  o.session.backoff.initial = absl::Seconds(1);
  o.session.backoff.cap = absl::Seconds(30);
  o.session.backoff.jitter = 0;
  o.session.sync_end_delay = absl::Seconds(1);
}

// Runs a DELTA session (or any other call) on its own thread; the test acts while it
// waits.
class BackgroundSync {
 public:
  explicit BackgroundSync(AgentSyncProtocol& protocol)
      : BackgroundSync([&protocol] { return protocol.synchronizeModule(Mode::kDelta); }) {}
  explicit BackgroundSync(std::function<SyncResult()> call)
      : thread_([this, call = std::move(call)] { result_ = call(); }) {}
  SyncResult join() {
    thread_.join();
    return result_;
  }

 private:
  SyncResult result_;
  std::thread thread_;
};

// Spins (in real time, up to 30 s) until `condition` holds: a fake's counter, say.
inline void waitUntil(const std::function<bool()>& condition) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  ASSERT_TRUE(condition());
}

class ProtocolHarness {
 public:
  using Customize = std::function<void(AgentSyncProtocol::Options&)>;

  explicit ProtocolHarness(Customize customize = nullptr,
                           SimulatedClock::Mode mode = SimulatedClock::Mode::kAutoAdvance,
                           manager::ManagerCore::Options manager_options = {})
      : clock(mode), manager(&clock, manager_options) {
    manager.attach(transport);
    AgentSyncProtocol::Options options;
    options.module = kModule;
    options.database_path = dir.file("fim_sync.db");
    options.transport = &transport;
    options.clock = &clock;
    options.agent_info = [] {
      AgentInfo info;
      info.id = kAgent;
      info.name = "agent-1";
      info.groups = {"default"};
      return info;
    };
    options.session.timeout = absl::Seconds(30);
    options.session.backoff.seed = 7;
    if (customize) customize(options);
    absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> created =
        AgentSyncProtocol::create(std::move(options));
    EXPECT_TRUE(created.ok()) << created.status();
    protocol = *std::move(created);
    AgentSyncProtocol* p = protocol.get();
    manager.connect([p](const std::string& bytes) {
      (void)p->parseResponseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    });
  }

  // Records a change through the protocol and in the module's own view.
  void record(const std::string& id, Operation op, const std::string& data = "",
              const std::string& index = kIndex, uint64_t version = 1) {
    ASSERT_TRUE(protocol->persistDifference(id, op, index, data, version).ok());
    if (op == Operation::kDelete) {
      module[index].erase(id);
      if (module[index].empty()) module.erase(index);
    } else {
      module[index][id] = manager::Document{data, version};
    }
  }

  // What the manager holds for our agent, in the same shape as `module`.
  std::map<std::string, manager::IndexState> managerState() {
    std::map<std::string, manager::IndexState> state;
    for (const std::string& index : manager.indices({kAgent, kModule})) {
      state[index] = manager.documents({kAgent, kModule}, index);
    }
    return state;
  }

  // The module's checksum of one index (docs/protocol.md §5.1).
  std::string moduleChecksum(const std::string& index = kIndex) {
    return manager::indexChecksum(module[index]);
  }

  // After a failure: the next DELTA succeeds, sends `changes` changes (all of them:
  // nothing was lost), and leaves the manager holding exactly what the module holds.
  void expectNextDeltaSendsAndConverges(uint64_t changes) {
    SyncResult next = protocol->synchronizeModule(Mode::kDelta);
    ASSERT_EQ(next.code, SyncCode::kOk) << next.message;
    EXPECT_EQ(next.changes, changes);
    EXPECT_EQ(managerState(), module);
  }

  // Pending changes in the queue, all indices.
  uint64_t pending() {
    absl::StatusOr<std::vector<IndexCounts>> counts = protocol->queue().counts();
    EXPECT_TRUE(counts.ok()) << counts.status();
    uint64_t n = 0;
    for (const IndexCounts& c : counts.value_or(std::vector<IndexCounts>{})) n += c.pending;
    return n;
  }

  TempDir dir;
  SimulatedClock clock;
  FakeTransport transport;
  FakeManager manager;
  std::unique_ptr<AgentSyncProtocol> protocol;
  std::map<std::string, manager::IndexState> module;
};

}  // namespace asp::testing

#endif  // ASP_CORE_PROTOCOL_HARNESS_H_
