// EPS pacing (max_eps, docs/protocol.md §5 step 3, §8): every message the agent sends takes a
// token, frames are spaced evenly on the simulated clock, and 0 means unlimited.
#include <algorithm>
#include <vector>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

TEST(Pacing, EpsLimitSpacesFramesEvenlyOnTheSimulatedClock) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.max_eps = 10;
    o.session.frame_budget_bytes = 2048;
    o.session.sync_end_delay = absl::ZeroDuration();
  });
  for (int i = 0; i < 100; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, std::string(500, 'x'));
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  std::vector<absl::Duration> batches = h.manager.arrivals(Message::kDataBatch);
  ASSERT_GE(batches.size(), 30u);
  for (size_t i = 1; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i] - batches[i - 1], absl::Milliseconds(100)) << "frame " << i;
  }
  EXPECT_EQ(h.managerState(), h.module);
}

// Every message the agent sends takes a token, not only data: Start, End, a
// retransmission and the End after it, DataClean and ChecksumModule.
std::vector<absl::Duration> allArrivals(testing::FakeManager& manager) {
  std::vector<absl::Duration> all;
  for (auto kind : {Message::kStart, Message::kDataBatch, Message::kEnd, Message::kDataClean,
                    Message::kChecksumModule}) {
    for (absl::Duration at : manager.arrivals(kind)) all.push_back(at);
  }
  std::sort(all.begin(), all.end());
  return all;
}

void expectSpacedBy(const std::vector<absl::Duration>& arrivals, absl::Duration gap) {
  for (size_t i = 1; i < arrivals.size(); ++i) {
    EXPECT_GE(arrivals[i] - arrivals[i - 1], gap) << "message " << i;
  }
}

TEST(Pacing, EveryKindOfMessageIsPaced) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) {
    o.session.max_eps = 10;
    o.session.sync_end_delay = absl::ZeroDuration();
  });
  h.record("a", Operation::kCreate, "1");
  h.manager.loseSeqsOnce({0});
  SyncResult delta = h.protocol->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(delta.code, SyncCode::kOk) << delta.message;
  ASSERT_EQ(delta.retransmitted, 1u);
  std::vector<absl::Duration> arrivals = allArrivals(h.manager);
  ASSERT_EQ(arrivals.size(), 5u) << "Start, data, End, retransmission, End";
  expectSpacedBy(arrivals, absl::Milliseconds(100));

  // Each session has its own bucket (its Start goes at once), so compare within one.
  for (int session = 0; session < 2; ++session) {
    const size_t before = allArrivals(h.manager).size();
    if (session == 0) {
      ASSERT_EQ(h.protocol->checkIntegrity(kIndex, h.moduleChecksum()).code, SyncCode::kOk);
    } else {
      h.record("a", Operation::kDelete);
      ASSERT_EQ(h.protocol->notifyDataClean({kIndex}).code, SyncCode::kOk);
    }
    arrivals = allArrivals(h.manager);
    ASSERT_EQ(arrivals.size(), before + 3) << "Start, ChecksumModule or DataClean, End";
    expectSpacedBy({arrivals.begin() + before, arrivals.end()}, absl::Milliseconds(100));
  }
}

TEST(Pacing, ZeroMeansUnlimited) {
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.session.frame_budget_bytes = 2048; });
  for (int i = 0; i < 100; ++i)
    h.record("id" + std::to_string(i), Operation::kCreate, std::string(500, 'x'));
  ASSERT_TRUE(h.protocol->synchronizeModule(Mode::kDelta).ok());
  std::vector<absl::Duration> batches = h.manager.arrivals(Message::kDataBatch);
  EXPECT_EQ(batches.back() - batches.front(), absl::ZeroDuration());
}

}  // namespace
}  // namespace asp
