// Fuzzes the agent and the reference manager together: the input is a sequence of
// changes with fuzzed ids, indices and data (any bytes), recorded through the public API
// and synced to a real ManagerCore that parses and validates every frame the agent
// emits. The bug class: a value one side accepts and the other rejects (a non-UTF-8 id
// the agent queued and the manager's parser refused, blocking every later session).
// Invariants: every sync succeeds; the manager never refuses a frame; after each sync
// the manager holds exactly what the module recorded and the library accepted.
#include <cstdlib>
#include <map>
#include <string>

#include "asp/core/agent_sync_protocol.h"
#include "asp/manager/manager_core.h"
#include "asp/manager/state_store.h"
#include "asp/testing/fake_transport.h"
#include "asp/testing/simulated_clock.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using asp::manager::IndexState;

// A chunk: [op][flags] then id, index and data separated by 0x00 bytes. The index of
// an id is fixed the first time the id is seen (moving ids between indices is a module
// decision this fuzzer does not model).
struct Step {
  asp::Operation operation = asp::Operation::kCreate;
  bool sync_after = false;
  std::string id, index, data;
};

Step stepFrom(const std::string& chunk) {
  Step step;
  if (chunk.size() < 2) return step;
  step.operation = static_cast<asp::Operation>(static_cast<uint8_t>(chunk[0]) % 3);
  step.sync_after = (chunk[1] & 1) != 0;
  std::string fields[3];
  size_t field = 0;
  for (size_t i = 2; i < chunk.size(); ++i) {
    if (chunk[i] == '\0' && field < 2) {
      ++field;
    } else {
      fields[field].push_back(chunk[i]);
    }
  }
  step.id = fields[0];
  step.index = fields[1];
  step.data = fields[2];
  return step;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  asp::testing::SimulatedClock clock;
  asp::testing::FakeTransport transport;
  asp::manager::InMemoryStateStore store;
  asp::manager::ManagerCore::Options manager_options;
  manager_options.clock = &clock;
  manager_options.seed = 1;
  asp::manager::ManagerCore manager(manager_options, &store);

  asp::AgentSyncProtocol::Options o;
  o.module = "fuzz";
  o.transport = &transport;
  o.clock = &clock;
  o.session.timeout = absl::Seconds(1);
  o.session.retries = 1;
  o.session.sync_end_delay = absl::ZeroDuration();
  o.session.max_retransmission_rounds = 2;
  o.agent_info = [] {
    asp::AgentInfo info;
    info.id = "001";
    return info;
  };
  auto created = asp::AgentSyncProtocol::create(o);
  if (!created.ok()) std::abort();
  asp::AgentSyncProtocol* agent = created->get();
  uint64_t refused_frames = 0;
  transport.setReceiver([&](const std::string&, const std::string& bytes) {
    absl::StatusOr<std::vector<asp::wire::v1::Message>> answers = manager.handleBytes(bytes);
    if (!answers.ok()) {
      ++refused_frames;
      return;
    }
    for (const asp::wire::v1::Message& answer : *answers) {
      const std::string encoded = answer.SerializeAsString();
      clock.scheduleAfter(absl::Milliseconds(1), [agent, encoded] {
        (void)agent->parseResponseBuffer(reinterpret_cast<const uint8_t*>(encoded.data()),
                                         encoded.size());
      });
    }
  });

  std::map<std::string, std::string> index_of;                       // id -> its index
  std::map<std::string, std::map<std::string, std::string>> module;  // index -> id -> data
  auto sync = [&] {
    const asp::SyncResult result = agent->synchronizeModule(asp::Mode::kDelta);
    if (!result.ok() || refused_frames != 0 || manager.counters().malformed != 0) std::abort();
    for (const auto& [index, documents] : module) {
      absl::StatusOr<IndexState> held = store.documents({"001", "fuzz"}, index);
      if (!held.ok() || held->size() != documents.size()) std::abort();
      for (const auto& [id, value] : documents) {
        auto it = held->find(id);
        if (it == held->end() || it->second.data != value) std::abort();
      }
    }
  };
  for (const std::string& chunk : asp::fuzz::splitMessages(data, size)) {
    Step step = stepFrom(chunk);
    auto known = index_of.find(step.id);
    if (known != index_of.end()) step.index = known->second;
    const absl::Status recorded =
        agent->persistDifference(step.id, step.operation, step.index, step.data, 1);
    if (recorded.ok()) {
      index_of.emplace(step.id, step.index);
      if (step.operation == asp::Operation::kDelete) {
        module[step.index].erase(step.id);
      } else {
        module[step.index][step.id] = step.data;
      }
    } else if (recorded.code() != absl::StatusCode::kInvalidArgument) {
      std::abort();
    }
    if (step.sync_after) sync();
  }
  sync();
  return 0;
}

namespace asp::fuzz {

std::vector<std::string> fuzzSeeds() {
  auto change = [](char op, char flags, const std::string& id, const std::string& index,
                   const std::string& data) {
    return std::string(1, op) + std::string(1, flags) + id + std::string(1, '\0') + index +
           std::string(1, '\0') + data;
  };
  return {
      joinMessages({change(0, 0, "a", "idx", "1"), change(1, 1, "a", "idx", "2")}),
      joinMessages(
          {change(0, 1, "caf\xe9.txt", "idx", "latin-1 name"), change(0, 1, "b", "idx", "x")}),
      joinMessages(
          {change(0, 0, "caf\xc3\xa9", "st\xff", "bad index"), change(2, 1, "c", "i", "")}),
      joinMessages(
          {change(0, 0, "x", "idx", std::string(3000, 'd')), change(2, 1, "x", "idx", "")}),
  };
}

}  // namespace asp::fuzz
