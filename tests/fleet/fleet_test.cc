// A fleet (docs/protocol.md §9 "Managers scale out"): many agents, each its own identity
// (its own certificate from the fleet's CA, its own relay, its own queue socket) with
// three modules, through relays to two asp_manager processes on one PostgreSQL server,
// with 5 % of the data datagrams lost. Mid-run one manager is killed (SIGKILL): the
// relays that used it fail over to the other. Later PostgreSQL itself crashes and comes
// back (immediate stop: what a power cut leaves) while sessions are being applied.
// Nothing acknowledged may be lost: at the end every agent's integrity check of every
// index (§5.1, through its relay) matches, and the database holds exactly each agent's
// documents.
//
// The relays run in this process (the asp/relay library asp_relay is built on, one per
// agent, each with its own TLS identity), so that hundreds of agents fit in a CI run:
// the counts are flags (--agents, --changes, --workers, --loss), e.g.
//   ./bazelw test //tests/fleet:fleet_test --test_arg=--agents=1000 --test_arg=--changes=1000
// docs/deployment.md "A fleet in numbers" reports what the full-size run measured.
#include <postgresql/libpq-fe.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/postgres_state_store.h"
#include "asp/relay/grpc_manager_connector.h"
#include "asp/relay/relay.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/postgres_cluster.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "asp/tls/certificate_authority.h"
#include "asp/tls/tls_files.h"
#include "gtest/gtest.h"

// Fewer agents under the sanitizers (see BUILD.bazel): the same paths, a fraction of the
// time.
#ifndef ASP_FLEET_AGENTS
#define ASP_FLEET_AGENTS 1000
#endif

ABSL_FLAG(int, agents, ASP_FLEET_AGENTS,
          "Simulated agents, each its own certificate, relay and queue.");
ABSL_FLAG(int, changes, 20, "Changes each module records (in two rounds, each synced).");
ABSL_FLAG(int, workers, 12, "Agents running at once.");
ABSL_FLAG(double, loss, 0.05, "Fraction of data datagrams each manager drops.");

namespace asp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Process;

const std::vector<std::string> kModules = {"fim", "sca", "syscollector"};
constexpr int kRounds = 2;
// How long an agent keeps trying a session that fails (a manager gone, the database
// recovering from its crash) before the test calls it lost.
constexpr auto kPatience = std::chrono::minutes(3);

std::string indexOf(const std::string& module) { return "states-" + module; }

// Waits until `process` printed `text`; the number after it, or -1.
int numberPrinted(const Process& process, const std::string& text) {
  const auto give_up = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < give_up) {
    const std::string out = process.out();
    if (const size_t at = out.find(text); at != std::string::npos) {
      std::istringstream in(out.substr(at + text.size()));
      int n = -1;
      in >> n;
      return n;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return -1;
}

// What one module of one agent holds: its documents, as the agent recorded them.
struct ModuleState {
  std::map<std::string, std::string> documents;  // id -> data
  std::string checksum() const {
    IndexChecksum sum;
    for (const auto& [id, data] : documents) sum.addDocument(data);
    return sum.finish();
  }
};

// What the run saw, for the assertions and the report.
struct Tally {
  std::atomic<int> agents_done{0};
  std::atomic<uint64_t> sessions_ok{0};
  std::atomic<uint64_t> sessions_failed{0};  // retried
  std::atomic<uint64_t> manager_errors{0};   // of those: answered ERROR (the store failed)
  std::atomic<int> failovers{0};             // agents whose relay connected more than once
  // agents whose relay found a manager of its list down and went on with the next one
  std::atomic<int> passed_over{0};
  std::atomic<int64_t> longest_outage_ms{0};  // from a session's first failure to its success
  std::atomic<uint64_t> checks_matched{0};
  std::mutex mu;
  std::vector<std::string> problems;
  void problem(std::string what) {
    std::lock_guard<std::mutex> lock(mu);
    if (problems.size() < 20) problems.push_back(std::move(what));
  }
};

class Fleet : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = testing::PostgresCluster::shared();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *cluster;
    auto uri = cluster_->createDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
    auto ca = tls::CertificateAuthority::create("ASP fleet CA");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<tls::CertificateAuthority>(*std::move(ca));
    ASSERT_TRUE(tls::writePemFile(dir_.file("ca.pem"), ca_->certificatePem(), 0644).ok());
    ASSERT_TRUE(
        install("manager", tls::serverCertificate("manager", {"localhost"}, {"127.0.0.1"})).ok());
    for (const char* name : {"a", "b"}) managers_.push_back(startManager(name));
  }

  absl::StatusOr<tls::TlsMaterial> install(const std::string& name,
                                           const tls::CertificateRequest& request) {
    auto pair = ca_->issue(request);
    if (!pair.ok()) return pair.status();
    const tls::TlsFilePaths paths{dir_.file(name + ".pem"), dir_.file(name + ".key"),
                                  dir_.file("ca.pem")};
    if (absl::Status s = tls::writePemFile(paths.certificate, pair->certificate_pem, 0644); !s.ok())
      return s;
    if (absl::Status s = tls::writePemFile(paths.private_key, pair->private_key_pem, 0600); !s.ok())
      return s;
    return tls::loadTlsMaterial(paths);
  }

  std::unique_ptr<Process> startManager(const std::string& name) {
    const std::vector<std::string> flags = {
        "--socket=" + dir_.file(name + "-local"), "--state_uri=" + uri_,
        "--relay_listen=127.0.0.1:0", "--relay_cert=" + dir_.file("manager.pem"),
        "--relay_key=" + dir_.file("manager.key"), "--relay_client_ca=" + dir_.file("ca.pem"),
        absl::StrCat("--drop_rate=", absl::GetFlag(FLAGS_loss)),
        // Distinct seeds: the managers' session ids must not repeat each other's.
        absl::StrCat("--seed=", name == "a" ? 17 : 29)};
    auto manager = std::make_unique<Process>(testing::managerBinary(flags), flags,
                                             dir_.file("manager-" + name));
    const int port = numberPrinted(*manager, "relay endpoint listening on port ");
    EXPECT_GT(port, 0) << manager->err();
    addresses_.push_back(absl::StrCat("127.0.0.1:", port));
    return manager;
  }

  // Notes how long an agent's sessions failed before one went through.
  void outageEnded(std::chrono::steady_clock::time_point first_failure) {
    const int64_t ms =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - first_failure)
            .count();
    int64_t longest = tally_.longest_outage_ms;
    while (ms > longest && !tally_.longest_outage_ms.compare_exchange_weak(longest, ms)) {
    }
  }

  // DELTA sessions until one succeeds with nothing pending (a failure keeps the changes),
  // as a module's sync interval would: for as long as a database's crash recovery takes
  // (up to kPatience), not a number of attempts.
  void syncUntilDone(AgentSyncProtocol& protocol, const std::string& who) {
    const auto first = std::chrono::steady_clock::now();
    bool failed = false;
    while (std::chrono::steady_clock::now() - first < kPatience) {
      const SyncResult result = protocol.synchronizeModule(Mode::kDelta);
      if (result.ok()) {
        ++tally_.sessions_ok;
        if (failed) outageEnded(first);
        return;
      }
      failed = true;
      ++tally_.sessions_failed;
      if (result.code == SyncCode::kManagerError) ++tally_.manager_errors;
      std::this_thread::sleep_for(milliseconds(200));
    }
    tally_.problem(who + ": never synced");
  }

  // The integrity check of `state` through the relay; retried while the manager cannot
  // answer, a mismatch is reported.
  void check(AgentSyncProtocol& protocol, const std::string& index, const ModuleState& state,
             const std::string& who) {
    const auto first = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - first < kPatience) {
      const SyncResult result = protocol.checkIntegrity(index, state.checksum());
      if (result.code == SyncCode::kOk) {
        ++tally_.checks_matched;
        return;
      }
      if (result.code == SyncCode::kChecksumMismatch) {
        tally_.problem(who + ": the manager's copy of " + index + " differs");
        return;
      }
      std::this_thread::sleep_for(milliseconds(200));
    }
    tally_.problem(who + ": the integrity check never got an answer");
  }

  // Returns once a manager's transaction is running a statement (an apply), so that the
  // crash that follows cuts one (up to 10 s of looking; then it crashes anyway).
  void waitForAnApplyInProgress() {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(uri_.c_str()), &PQfinish);
    const auto give_up = std::chrono::steady_clock::now() + seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
      std::unique_ptr<PGresult, decltype(&PQclear)> result(
          PQexec(conn.get(),
                 "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                 "'asp_manager' AND state = 'active'"),
          &PQclear);
      if (PQresultStatus(result.get()) == PGRES_TUPLES_OK &&
          std::string(PQgetvalue(result.get(), 0, 0)) != "0") {
        return;
      }
    }
  }

  // One agent's life; its modules' final states go to `states` (per module).
  void runAgent(int n, std::vector<ModuleState>* states) {
    const std::string agent = absl::StrCat("agent-", n);
    auto tls = install(agent, tls::clientCertificate(agent));
    if (!tls.ok()) return tally_.problem(agent + ": " + std::string(tls.status().message()));
    relay::GrpcManagerConnector::Options link;
    link.tls = *std::move(tls);
    link.connect_timeout = absl::Seconds(2);
    link.measure_wire_bytes = false;  // many relays in this process (see the header)
    relay::Relay::Options options;
    options.socket.path = dir_.file(agent + "-queue");
    // Half the fleet prefers each manager; the other is the failover.
    options.managers =
        n % 2 == 0 ? addresses_ : std::vector<std::string>{addresses_[1], addresses_[0]};
    options.backoff.initial = absl::Milliseconds(100);
    options.backoff.cap = absl::Seconds(1);
    auto relay = relay::Relay::start(options, std::make_unique<relay::GrpcManagerConnector>(link));
    if (!relay.ok()) return tally_.problem(agent + ": " + std::string(relay.status().message()));
    // As a host's relay starts before its modules (docs/deployment.md).
    if (!(*relay)->waitUntilConnected(absl::Seconds(30))) {
      return tally_.problem(agent + ": the relay reached no manager");
    }

    std::vector<std::unique_ptr<SocketSyncProtocol>> modules;
    for (const std::string& module : kModules) {
      auto protocol = SocketSyncProtocol::create(
          testing::localAgentOptions(module, dir_.file(agent + "-" + module + ".db"), agent,
                                     absl::Seconds(1)),
          options.socket.path);
      if (!protocol.ok())
        return tally_.problem(agent + ": " + std::string(protocol.status().message()));
      modules.push_back(*std::move(protocol));
    }
    const int changes = absl::GetFlag(FLAGS_changes);
    const int distinct = std::max(1, changes / 2);  // later changes update earlier ids
    for (int round = 0; round < kRounds; ++round) {
      for (size_t m = 0; m < kModules.size(); ++m) {
        for (int i = round * changes / kRounds; i < (round + 1) * changes / kRounds; ++i) {
          const std::string id = absl::StrCat("/", kModules[m], "/", i % distinct);
          const bool remove = i % 10 == 9;
          const std::string data = absl::StrCat("{\"agent\":\"", agent, "\",\"change\":", i, "}");
          absl::Status s = modules[m]->protocol().persistDifference(
              id, remove ? Operation::kDelete : Operation::kModify, indexOf(kModules[m]),
              remove ? "" : data, static_cast<uint64_t>(i + 1));
          if (!s.ok()) return tally_.problem(agent + ": " + std::string(s.message()));
          if (remove) {
            (*states)[m].documents.erase(id);
          } else {
            (*states)[m].documents[id] = data;
          }
        }
        syncUntilDone(modules[m]->protocol(), agent + "/" + kModules[m]);
      }
    }
    for (size_t m = 0; m < kModules.size(); ++m) {
      check(modules[m]->protocol(), indexOf(kModules[m]), (*states)[m], agent + "/" + kModules[m]);
    }
    const relay::Relay::Counters counters = (*relay)->counters();
    if (counters.connects > 1) ++tally_.failovers;
    if (counters.connect_failures > 0) ++tally_.passed_over;
    modules.clear();
    (*relay)->stop();
  }

  testing::TempDir dir_;
  testing::PostgresCluster* cluster_ = nullptr;
  std::string uri_;
  std::unique_ptr<tls::CertificateAuthority> ca_;
  std::vector<std::unique_ptr<Process>> managers_;
  std::vector<std::string> addresses_;
  Tally tally_;
};

TEST_F(Fleet, AgentsThroughRelaysToTwoManagersOnOnePostgresLoseNothing) {
  const int agents = absl::GetFlag(FLAGS_agents);
  const int workers = std::min(agents, absl::GetFlag(FLAGS_workers));
  std::vector<std::vector<ModuleState>> states(agents, std::vector<ModuleState>(kModules.size()));
  std::atomic<int> next{0};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (int n; (n = next++) < agents;) {
        runAgent(n, &states[n]);
        ++tally_.agents_done;
      }
    });
  }
  // The faults, from this thread (the cluster's parent-death signal is tied to it): a
  // third of the way, manager a dies; two thirds of the way, PostgreSQL crashes.
  auto waitForDone = [&](int count) {
    while (tally_.agents_done < count) std::this_thread::sleep_for(milliseconds(20));
  };
  waitForDone(agents / 3);
  managers_[0]->signal(SIGKILL);
  managers_[0]->wait();
  waitForDone(agents * 2 / 3);
  waitForAnApplyInProgress();
  EXPECT_TRUE(cluster_->restart(testing::PostgresCluster::StopMode::kImmediate).ok())
      << cluster_->log();
  for (std::thread& t : threads) t.join();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::cout << "fleet: " << agents << " agents x " << kModules.size() << " modules x "
            << absl::GetFlag(FLAGS_changes) << " changes in " << took << " s; sessions ok "
            << tally_.sessions_ok << ", failed and retried " << tally_.sessions_failed
            << " (answered ERROR: " << tally_.manager_errors << ")"
            << "; relays that failed over " << tally_.failovers
            << ", that found manager a down and used b " << tally_.passed_over
            << "; longest an agent's sessions failed " << tally_.longest_outage_ms << " ms"
            << std::endl;
  for (const std::string& problem : tally_.problems) ADD_FAILURE() << problem;
  EXPECT_EQ(tally_.checks_matched, static_cast<uint64_t>(agents) * kModules.size());
  // Manager a's death shows in the relays either way: one connected to it reconnects to b,
  // one started after it is refused by a and connects to b. Which relays were on a at
  // the kill depends on timing (a TSan run once had none), so either counts.
  EXPECT_GT(tally_.failovers + tally_.passed_over, 0)
      << "no relay lost manager a and went on with b";

  // The database holds exactly what every agent holds.
  auto store = manager::PostgresStateStore::open(uri_);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int n = 0; n < agents; ++n) {
    for (size_t m = 0; m < kModules.size(); ++m) {
      const manager::ModuleKey key{absl::StrCat("agent-", n), kModules[m]};
      auto held = (*store)->documents(key, indexOf(kModules[m]));
      ASSERT_TRUE(held.ok()) << held.status();
      ASSERT_EQ(held->size(), states[n][m].documents.size()) << key.agent << "/" << key.module;
      for (const auto& [id, data] : states[n][m].documents) {
        ASSERT_EQ(held->count(id), 1u) << key.agent << " " << id;
        ASSERT_EQ(held->at(id).data, data) << key.agent << " " << id;
      }
    }
  }
  managers_[1]->signal(SIGTERM);
  EXPECT_EQ(managers_[1]->wait(), 0) << managers_[1]->err();
}

}  // namespace
}  // namespace asp

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  absl::ParseCommandLine(argc, argv);
  return RUN_ALL_TESTS();
}
