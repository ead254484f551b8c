// Crash campaign: the agent (crash_agent) and the manager (asp_manager) as processes,
// killed with SIGKILL at random moments: while recording, and at random points of a
// session (Start, data, End, commit). After each kill both SQLite files must pass
// PRAGMA integrity_check; the killed process is restarted (the agent resumes the
// stream after its last acknowledged change). At the end a final sync must leave the
// manager holding exactly what the module holds: every acknowledged change, nothing
// else.
//
// Reproducible: ASP_CAMPAIGN_SEED=<n> replays a run; ASP_CAMPAIGN_KILLS sets its length.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "asp/manager/sqlite_state_store.h"
#include "asp/testing/process.h"
#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/reliability/campaign_stream.h"

namespace asp::reliability {
namespace {

using testing::integrityCheck;
using testing::Process;

constexpr char kIndex[] = "states-campaign";
constexpr char kAgent[] = "900";

uint64_t envOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

// What an agent incarnation printed: acknowledged changes and session markers.
struct AgentOutput {
  bool any_ack = false;
  uint64_t last_ack = 0;
  int sync_begins = 0;
  int sync_ends = 0;
};

AgentOutput parse(const std::string& text) {
  AgentOutput out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    if (word == "ack") {
      in >> out.last_ack;
      out.any_ack = true;
    } else if (word == "sync-begin") {
      ++out.sync_begins;
    } else if (word == "sync-end") {
      ++out.sync_ends;
      in >> word;
    }
  }
  return out;
}

class Campaign {
 public:
  explicit Campaign(uint64_t seed) : random_(seed) {}

  void startManager() {
    manager_ = std::make_unique<Process>(
        testing::runfile("asp/tools/asp_manager"),
        std::vector<std::string>{"--socket=" + socket_, "--state_dir=" + dir_.file("manager")},
        dir_.file("manager-" + std::to_string(++processes_)));
    waitFor([&] { return manager_->out().find("listening") != std::string::npos; });
  }

  void startAgent(bool sync_once = false) {
    std::vector<std::string> args = {
        "--db=" + dir_.file("agent.db"), "--queue=" + socket_, "--start=" + std::to_string(next_),
        "--batch=" + std::to_string(batch_), std::string("--agent_id=") + kAgent};
    if (sync_once) args.push_back("--sync_once");
    agent_ = std::make_unique<Process>(testing::runfile("tests/reliability/crash_agent"), args,
                                       dir_.file("agent-" + std::to_string(++processes_)));
  }

  AgentOutput agentOutput() { return parse(agent_->out()); }

  void waitFor(const std::function<bool()>& condition) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!condition() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_TRUE(condition()) << "agent said:\n" << agent_->out() << agent_->err();
  }

  void killAgent() {
    agent_->signal(SIGKILL);
    agent_->wait();
    const AgentOutput out = agentOutput();
    if (out.any_ack) next_ = out.last_ack + 1;  // the change after it may be committed too
    ASSERT_EQ(integrityCheck(dir_.file("agent.db")), "ok");
    ++agent_kills_;
  }

  void killManager() {
    manager_->signal(SIGKILL);
    manager_->wait();
    ASSERT_EQ(integrityCheck(dir_.file("manager/state.db")), "ok");
    ++manager_kills_;
    startManager();
  }

  void randomPause(int max_us) {
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, max_us)(random_)));
  }

  // One kill: of the agent while it records, of the agent during a session, or of the
  // manager during a session.
  void round() {
    startAgent();
    const int mode = std::uniform_int_distribution<int>(0, 2)(random_);
    if (mode == 0) {
      const uint64_t acks = std::uniform_int_distribution<uint64_t>(1, batch_)(random_);
      const uint64_t from = next_;
      waitFor([&] {
        AgentOutput o = agentOutput();
        return o.any_ack && o.last_ack + 1 - from >= acks;
      });
      killAgent();
      ++recording_kills_;
      return;
    }
    waitFor([&] { return agentOutput().sync_begins >= 1; });
    randomPause(mode == 1 ? 20000 : 15000);
    if (mode == 1) {
      killAgent();
      ++session_kills_;
    } else {
      killManager();
      // Let the agent finish (or fail) that session against the restarted manager.
      waitFor([&] { return agentOutput().sync_ends >= 1; });
      killAgent();
    }
  }

  // The last incarnation re-records the change after its last acknowledgement (it may
  // or may not have been committed) and syncs until it succeeds.
  void finish() {
    startAgent(/*sync_once=*/true);
    ASSERT_EQ(agent_->wait(), 0) << agent_->out() << agent_->err();
    const uint64_t end = next_ + batch_;
    manager_->signal(SIGTERM);
    ASSERT_EQ(manager_->wait(), 0);
    ASSERT_EQ(integrityCheck(dir_.file("manager/state.db")), "ok");
    ASSERT_EQ(integrityCheck(dir_.file("agent.db")), "ok");
    auto store = manager::SqliteStateStore::open(dir_.file("manager/state.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<manager::IndexState> held = (*store)->documents({kAgent, "campaign"}, kIndex);
    ASSERT_TRUE(held.ok());
    std::map<std::string, std::string> manager_view;
    for (const auto& [id, doc] : *held) manager_view[id] = doc.data;
    const std::map<std::string, std::string> module_view = streamState(end, kIndex);
    EXPECT_EQ(manager_view.size(), module_view.size());
    EXPECT_TRUE(manager_view == module_view)
        << "the manager does not hold exactly the " << module_view.size()
        << " documents of changes [0, " << end << ")";
    recorded_ = end;
  }

  int kills() const { return agent_kills_ + manager_kills_; }
  std::string summary() const {
    std::ostringstream s;
    s << kills() << " kills: " << recording_kills_ << " of the agent while recording, "
      << session_kills_ << " of the agent in a session, " << manager_kills_
      << " of the manager in a session (each followed by one of the agent); " << recorded_
      << " changes recorded; the manager ends equal to the module";
    return s.str();
  }

 private:
  testing::TempDir dir_;
  const std::string socket_ = dir_.file("queue");
  std::mt19937_64 random_;
  std::unique_ptr<Process> manager_, agent_;
  uint64_t next_ = 0;
  const uint64_t batch_ = 150;
  uint64_t recorded_ = 0;
  int processes_ = 0;
  int agent_kills_ = 0, manager_kills_ = 0, recording_kills_ = 0, session_kills_ = 0;
};

TEST(CrashCampaign, NothingAcknowledgedIsLostAcrossKillsOfAgentAndManager) {
  const uint64_t seed = envOr("ASP_CAMPAIGN_SEED", std::random_device{}());
  const uint64_t kills = envOr("ASP_CAMPAIGN_KILLS", 200);
  std::cout << "ASP_CAMPAIGN_SEED=" << seed << " ASP_CAMPAIGN_KILLS=" << kills << std::endl;
  Campaign campaign(seed);
  campaign.startManager();
  while (static_cast<uint64_t>(campaign.kills()) < kills && !::testing::Test::HasFatalFailure()) {
    campaign.round();
  }
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  campaign.finish();
  std::cout << campaign.summary() << std::endl;
}

}  // namespace
}  // namespace asp::reliability
