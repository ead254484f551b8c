// I/O fault campaign: the queue's file sits on a VFS that makes writes, syncs and reads
// fail (EIO, ENOSPC) after a random number of operations, while the module records and
// syncs. Under faults calls must return errors (never crash, never acknowledge what was
// not committed); once faults clear, the queue must work and have lost nothing: the
// module retries what failed, and a final sync leaves the manager equal to the module.
#include <iostream>
#include <random>

#include "asp/core/agent_sync_protocol.h"
#include "asp/testing/fake_manager.h"
#include "asp/testing/fake_transport.h"
#include "asp/testing/fault_vfs.h"
#include "asp/testing/simulated_clock.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/reliability/campaign_stream.h"

namespace asp::reliability {
namespace {

using testing::FaultVfs;

constexpr char kIndex[] = "states-faults";
constexpr char kAgent[] = "901";

uint64_t envOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

class FaultCampaign : public ::testing::TestWithParam<Durability> {
 protected:
  void SetUp() override { FaultVfs::get().reset(); }
  void TearDown() override { FaultVfs::get().reset(); }
};

TEST_P(FaultCampaign, ErrorsUnderFaultsAndNothingLostAfterwards) {
  const uint64_t seed = envOr("ASP_CAMPAIGN_SEED", std::random_device{}());
  const uint64_t rounds = envOr("ASP_FAULT_ROUNDS", 300);
  std::cout << "ASP_CAMPAIGN_SEED=" << seed << " ASP_FAULT_ROUNDS=" << rounds << std::endl;
  std::mt19937_64 random(seed);
  testing::TempDir dir;
  testing::SimulatedClock clock;
  testing::FakeTransport transport;
  testing::FakeManager manager(&clock);
  manager.attach(transport);
  AgentSyncProtocol::Options o;
  o.module = "faults";
  o.database_path = dir.file("faults.db");
  o.transport = &transport;
  o.clock = &clock;
  o.durability = GetParam();
  o.sqlite_vfs = FaultVfs::kName;
  o.agent_info = [] {
    AgentInfo info;
    info.id = kAgent;
    return info;
  };
  auto created = AgentSyncProtocol::create(o);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<AgentSyncProtocol> protocol = *std::move(created);
  AgentSyncProtocol* p = protocol.get();
  manager.connect([p](const std::string& bytes) {
    (void)p->parseResponseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  });

  uint64_t next = 0, errors = 0, failed_sessions = 0, sessions = 0, faults = 0;
  auto record = [&](uint64_t i) {
    const Change c = streamChange(i, kIndex);
    return p->persistDifference(c.id, c.operation, c.index, c.data, c.version);
  };
  for (uint64_t round = 0; round < rounds; ++round) {
    const int after = std::uniform_int_distribution<int>(0, 40)(random);
    const FaultVfs::Error error = random() % 2 == 0 ? FaultVfs::Error::kIo : FaultVfs::Error::kFull;
    switch (random() % 3) {
      case 0:
        FaultVfs::get().failWritesAfter(after, error);
        break;
      case 1:
        FaultVfs::get().failSyncsAfter(after, error);
        break;
      default:
        FaultVfs::get().failReadsAfter(after * 10);
        break;
    }
    // The module records a few changes and syncs; a change whose recording failed is
    // retried once the disk is back, as a module would.
    const uint64_t batch = 1 + random() % 30;
    uint64_t failed_from = UINT64_MAX;
    for (uint64_t k = 0; k < batch; ++k, ++next) {
      if (!record(next).ok()) {
        ++errors;
        failed_from = next;
        break;
      }
    }
    if (failed_from != UINT64_MAX) next = failed_from;
    ++sessions;
    if (!p->synchronizeModule(Mode::kDelta).ok()) ++failed_sessions;
    faults += FaultVfs::get().faultsInjected();
    FaultVfs::get().reset();
    if (failed_from != UINT64_MAX) {
      ASSERT_TRUE(record(next).ok()) << "after the fault cleared, change " << next;
      ++next;
    }
  }
  SyncResult last = p->synchronizeModule(Mode::kDelta);
  ASSERT_TRUE(last.ok()) << syncCodeName(last.code) << ": " << last.message;

  std::map<std::string, std::string> manager_view;
  for (const auto& [id, doc] : manager.documents({kAgent, "faults"}, kIndex))
    manager_view[id] = doc.data;
  const std::map<std::string, std::string> module_view = streamState(next, kIndex);
  EXPECT_TRUE(manager_view == module_view)
      << "manager holds " << manager_view.size() << ", module " << module_view.size();
  std::cout << rounds << " fault rounds, " << faults << " faults injected: " << errors
            << " recording errors, " << failed_sessions << " of " << sessions
            << " sessions failed, " << next << " changes acknowledged, manager equal to module"
            << std::endl;
  EXPECT_GT(errors + failed_sessions, rounds / 4) << "the faults did bite";
}

INSTANTIATE_TEST_SUITE_P(Durabilities, FaultCampaign,
                         ::testing::Values(Durability::kProcessCrash, Durability::kPowerLoss));

}  // namespace
}  // namespace asp::reliability
