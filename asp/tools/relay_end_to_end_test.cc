// Across hosts, with real processes over loopback (docs/protocol.md §9): asp_manager listening
// on the relay binding, asp_relay owning the agent's queue socket, certificates from a
// throwaway CA, and the agent (this test process) an unchanged SocketSyncProtocol
// module, written for the local socket.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "asp/base/checksum.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/proto/relay.grpc.pb.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/process.h"
#include "asp/testing/tcp_proxy.h"
#include "asp/testing/temp_dir.h"
#include "asp/tls/certificate_authority.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

// Scaled down under the sanitizers (see BUILD.bazel): the same paths, fewer changes.
#ifndef ASP_RELAY_E2E_CHANGES
#define ASP_RELAY_E2E_CHANGES 100000
#endif

namespace asp {
namespace {

using manager::Document;
using manager::IndexState;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Process;
using testing::runfile;

constexpr char kIndex[] = "states-fim-files";
constexpr int kChanges = ASP_RELAY_E2E_CHANGES;

// Whether `process` printed `text` (stdout or stderr) within `timeout`.
bool waitForOutput(const Process& process, const std::string& text, seconds timeout = seconds(20)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    if (process.out().find(text) != std::string::npos ||
        process.err().find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

// How many times `text` appears in what `process` printed.
size_t countOutput(const Process& process, const std::string& text) {
  const std::string all = process.out() + process.err();
  size_t n = 0;
  for (size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
  return n;
}

// The number after `key` in `text`, or -1.
int64_t numberAfter(const std::string& text, const std::string& key) {
  const size_t at = text.rfind(key);
  if (at == std::string::npos) return -1;
  std::istringstream in(text.substr(at + key.size()));
  int64_t n = -1;
  in >> n;
  return n;
}

class RelayEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = std::make_unique<tls::CertificateAuthority>(
        *tls::CertificateAuthority::create("ASP test CA"));
    ASSERT_TRUE(tls::writePemFile(file("ca.pem"), ca_->certificatePem(), 0644).ok());
    writeCertificate("manager", *ca_,
                     tls::serverCertificate("manager", {"localhost"}, {"127.0.0.1"}));
    writeCertificate("relay-001", *ca_, tls::clientCertificate("001"));
  }

  // A sanitizer report in a child process (built with the same --config) fails the test
  // as it would in this one.
  void TearDown() override {
    for (const std::string& prefix : outputs_) {
      const std::string err = testing::readFile(prefix + ".err");
      for (const char* report :
           {"ThreadSanitizer", "AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
        EXPECT_EQ(err.find(report), std::string::npos) << prefix << ".err:\n" << err;
      }
    }
  }

  std::string file(const std::string& name) const { return dir_.file(name); }

  std::string outputPrefix(const std::string& name) {
    outputs_.push_back(file(name + "-run" + std::to_string(++runs_)));
    return outputs_.back();
  }

  void writeCertificate(const std::string& name, const tls::CertificateAuthority& issuer,
                        const tls::CertificateRequest& request) {
    tls::KeyAndCertificate pair = *issuer.issue(request);
    ASSERT_TRUE(tls::writePemFile(file(name + ".pem"), pair.certificate_pem, 0644).ok());
    ASSERT_TRUE(tls::writePemFile(file(name + ".key"), pair.private_key_pem, 0600).ok());
  }

  // An asp_manager named `name` (its own state directory and local socket), also
  // listening on the relay binding at `port` (0: any). Returns once it listens.
  std::unique_ptr<Process> startManager(const std::string& name,
                                        std::vector<std::string> flags = {}, int port = 0) {
    flags.push_back("--socket=" + file(name + "-local"));
    flags.push_back("--state_dir=" + file(name + "-state"));
    flags.push_back("--relay_listen=127.0.0.1:" + std::to_string(port));
    flags.push_back("--relay_cert=" + file("manager.pem"));
    flags.push_back("--relay_key=" + file("manager.key"));
    flags.push_back("--relay_client_ca=" + file("ca.pem"));
    auto manager =
        std::make_unique<Process>(asp::testing::managerBinary(flags), flags, outputPrefix(name));
    EXPECT_TRUE(waitForOutput(*manager, "relay endpoint listening on port")) << manager->err();
    ports_[name] =
        static_cast<int>(numberAfter(manager->out(), "relay endpoint listening on port"));
    return manager;
  }

  std::string managerAddress(const std::string& name) {
    return "127.0.0.1:" + std::to_string(ports_[name]);
  }

  // Stops a manager cleanly and returns what it printed.
  std::string stopManager(std::unique_ptr<Process>& manager) {
    manager->signal(SIGTERM);
    EXPECT_EQ(manager->wait(), 0) << manager->err();
    std::string out = manager->out() + manager->err();
    manager.reset();
    return out;
  }

  // An asp_relay owning the agent's queue socket, with the certificate `cert` ("relay-001"
  // or another written by writeCertificate), to `managers`. Returns once it relays.
  std::unique_ptr<Process> startRelay(const std::vector<std::string>& managers,
                                      const std::string& cert = "relay-001",
                                      std::vector<std::string> flags = {}) {
    std::string list;
    for (const std::string& m : managers) list += (list.empty() ? "" : ",") + m;
    flags.push_back("--socket=" + queue_);
    flags.push_back("--managers=" + list);
    flags.push_back("--cert=" + file(cert + ".pem"));
    flags.push_back("--key=" + file(cert + ".key"));
    flags.push_back("--ca=" + file("ca.pem"));
    flags.push_back("--backoff_initial=100ms");
    flags.push_back("--backoff_max=1s");
    flags.push_back("--connect_timeout=2s");
    auto relay =
        std::make_unique<Process>(runfile("asp/tools/asp_relay"), flags, outputPrefix("relay"));
    EXPECT_TRUE(waitForOutput(*relay, "relaying")) << relay->err();
    return relay;
  }

  void openAgent(const std::string& agent_id = "001", double max_eps = 0,
                 absl::Duration timeout = absl::Seconds(2)) {
    agent_.reset();
    AgentSyncProtocol::Options o =
        testing::localAgentOptions("fim", file("fim_sync.db"), agent_id, timeout);
    o.session.max_eps = max_eps;
    auto agent = SocketSyncProtocol::create(o, queue_);
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    protocol_ = &agent_->protocol();
  }

  void record(int count, int revision = 1) {
    const absl::Status s = testing::recordFiles(*protocol_, kIndex, count, revision, &module_);
    ASSERT_TRUE(s.ok()) << s;
  }

  uint64_t pending() { return testing::pendingChanges(*protocol_); }

  // DELTA syncs, as a module's sync interval would, until one succeeds with nothing left
  // pending; each failure must keep the changes (the next sync sends them). The results.
  std::vector<SyncResult> syncUntilConverged(int max_syncs = 10) {
    std::vector<SyncResult> results;
    for (int i = 0; i < max_syncs; ++i) {
      results.push_back(protocol_->synchronizeModule(Mode::kDelta));
      if (results.back().ok() && pending() == 0) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    return results;
  }

  IndexState managerState(const std::string& name, const std::string& agent = "001") {
    auto store = manager::SqliteStateStore::open(file(name + "-state/state.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    return (*store)->documents({agent, "fim"}, kIndex).value_or(IndexState{});
  }

  // Sends one datagram over the relay binding as a client with `credentials` would; the
  // stream's end status.
  grpc::Status exchangeAs(const std::string& manager,
                          std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto stub =
        relay::v1::Relay::NewStub(grpc::CreateChannel(managerAddress(manager), credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    auto stream = stub->Exchange(&context);
    relay::v1::Datagram datagram;
    datagram.set_payload("s:fim:x");
    stream->Write(datagram);
    stream->WritesDone();
    while (stream->Read(&datagram)) {
    }
    return stream->Finish();
  }

  testing::TempDir dir_;
  const std::string queue_ = dir_.file("queue");
  std::unique_ptr<tls::CertificateAuthority> ca_;
  std::map<std::string, int> ports_;
  int runs_ = 0;
  std::vector<std::string> outputs_;  // of every child process
  std::unique_ptr<SocketSyncProtocol> agent_;
  AgentSyncProtocol* protocol_ = nullptr;
  IndexState module_;
};

TEST_F(RelayEndToEnd, ADeltaThroughTheRelayLeavesTheManagerEqualToTheModule) {
  auto manager = startManager("m1");
  auto relay = startRelay({managerAddress("m1")});
  openAgent();
  record(kChanges);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message << "\n" << relay->err();
  EXPECT_EQ(result.changes, static_cast<uint64_t>(kChanges));
  EXPECT_EQ(pending(), 0u);
  stopManager(manager);
  EXPECT_EQ(managerState("m1"), module_);
}

TEST_F(RelayEndToEnd, DroppedDatagramsAreAskedForAgainAndOnlyThoseAreResent) {
  auto manager = startManager("m1", {"--drop_rate=0.05", "--seed=3"});
  auto relay = startRelay({managerAddress("m1")});
  openAgent();
  record(kChanges);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  const std::string out = stopManager(manager);
  const size_t summary = out.find("faults: dropped values");
  ASSERT_NE(summary, std::string::npos) << out;
  const int64_t dropped_values = numberAfter(out.substr(summary), "dropped values ");
  EXPECT_GT(dropped_values, 0) << out;
  EXPECT_EQ(result.retransmitted, static_cast<uint64_t>(dropped_values)) << "no blind resend";
  EXPECT_EQ(managerState("m1"), module_);
}

TEST_F(RelayEndToEnd, TheRelayRestartedMidSessionLosesNothing) {
  auto manager = startManager("m1");
  auto relay = startRelay({managerAddress("m1")});
  openAgent("001", /*max_eps=*/20);
  record(20000);
  std::atomic<bool> synced{false};
  std::vector<SyncResult> results;
  std::thread sync([&] {
    results = syncUntilConverged();
    synced = true;
  });
  while (agent_->transport().counters().datagrams_sent < 5)
    std::this_thread::sleep_for(milliseconds(5));
  relay->signal(SIGKILL);
  relay->wait();
  std::this_thread::sleep_for(milliseconds(500));
  relay = startRelay({managerAddress("m1")});  // replaces the stale socket file
  sync.join();
  ASSERT_TRUE(results.back().ok()) << results.back().message;
  EXPECT_EQ(pending(), 0u);
  stopManager(manager);
  EXPECT_EQ(managerState("m1"), module_);
}

TEST_F(RelayEndToEnd, TheManagerRestartedMidSessionLosesNothing) {
  auto manager = startManager("m1");
  const int port = ports_["m1"];
  auto relay = startRelay({managerAddress("m1")});
  openAgent("001", /*max_eps=*/20);
  record(20000);
  std::vector<SyncResult> results;
  std::thread sync([&] { results = syncUntilConverged(); });
  while (agent_->transport().counters().datagrams_sent < 5)
    std::this_thread::sleep_for(milliseconds(5));
  manager->signal(SIGKILL);
  manager->wait();
  manager = startManager("m1", {}, port);  // same address, same state directory
  sync.join();
  ASSERT_TRUE(results.back().ok()) << results.back().message;
  EXPECT_GT(results.size(), 1u) << "the cut session failed and a later one sent everything";
  EXPECT_EQ(pending(), 0u);
  EXPECT_TRUE(waitForOutput(*relay, "connected to manager")) << relay->err();
  stopManager(manager);
  EXPECT_EQ(managerState("m1"), module_);
}

TEST_F(RelayEndToEnd, ANetworkThatStallsAndThenCutsStillConverges) {
  auto manager = startManager("m1");
  testing::TcpProxy proxy("127.0.0.1", ports_["m1"]);
  ASSERT_TRUE(proxy.ok());
  auto relay = startRelay({"127.0.0.1:" + std::to_string(proxy.port())});
  openAgent("001", /*max_eps=*/5);  // a session of several seconds
  record(20000);
  std::vector<SyncResult> results;
  std::atomic<bool> synced{false};
  std::thread sync([&] {
    results = syncUntilConverged();
    synced = true;
  });
  while (agent_->transport().counters().datagrams_sent < 3)
    std::this_thread::sleep_for(milliseconds(5));
  proxy.stall(true);
  std::this_thread::sleep_for(seconds(2));
  proxy.stall(false);
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_FALSE(synced) << "the cut comes while the session runs";
  proxy.cut();
  sync.join();
  ASSERT_TRUE(results.back().ok()) << results.back().message << "\n" << relay->err();
  EXPECT_EQ(pending(), 0u);
  EXPECT_GE(countOutput(*relay, "connected to manager"), 2u)
      << "reconnected after the cut: " << relay->err();
  stopManager(manager);
  EXPECT_EQ(managerState("m1"), module_);
}

TEST_F(RelayEndToEnd, WithTheFirstManagerKilledTheRelayFailsOverToTheSecond) {
  auto first = startManager("m1");
  auto second = startManager("m2");
  auto relay = startRelay({managerAddress("m1"), managerAddress("m2")});
  openAgent();
  record(1000);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::kDelta).ok());
  first->signal(SIGKILL);
  first->wait();
  record(2000, /*revision=*/2);
  std::vector<SyncResult> results = syncUntilConverged();
  ASSERT_TRUE(results.back().ok()) << results.back().message << "\n" << relay->err();
  EXPECT_TRUE(waitForOutput(*relay, "connected to manager " + managerAddress("m2")))
      << relay->err();
  // The second manager holds what reached it; a FULL gives it the module's whole state.
  for (const auto& [id, doc] : module_) {
    ASSERT_TRUE(
        protocol_->persistDifferenceInMemory(id, Operation::kCreate, kIndex, doc.data, doc.version)
            .ok());
  }
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::kFull).ok());
  stopManager(second);
  EXPECT_EQ(managerState("m2"), module_);
}

TEST_F(RelayEndToEnd, ACertificateForAgent002CannotSyncAsAgent001) {
  writeCertificate("relay-002", *ca_, tls::clientCertificate("002"));
  auto manager = startManager("m1");
  auto relay = startRelay({managerAddress("m1")});
  openAgent("001");
  record(100);
  ASSERT_TRUE(protocol_->synchronizeModule(Mode::kDelta).ok());
  const IndexState before = module_;

  relay->signal(SIGTERM);
  relay->wait();
  relay = startRelay({managerAddress("m1")}, "relay-002");  // another host's certificate
  record(100, /*revision=*/2);                              // agent 001 tries to overwrite
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  EXPECT_EQ(result.code, SyncCode::kManagerError) << result.message;
  EXPECT_EQ(pending(), 100u) << "refused changes stay queued";
  EXPECT_TRUE(waitForOutput(*manager, "agent '002' sent a Start for agent '001'"))
      << manager->err();
  const std::string out = stopManager(manager);
  EXPECT_GE(numberAfter(out, "identity mismatches "), 1) << out;
  EXPECT_EQ(managerState("m1"), before) << "agent 001's state untouched";
}

TEST_F(RelayEndToEnd, AClientWithoutACertificateIsRefusedInTheHandshake) {
  auto manager = startManager("m1");
  grpc::SslCredentialsOptions no_certificate;
  no_certificate.pem_root_certs = ca_->certificatePem();
  const grpc::Status status = exchangeAs("m1", grpc::SslCredentials(no_certificate));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(
      waitForOutput(*manager,
                    "relay endpoint: TLS handshake refused: SSL_ERROR_SSL: error:0A0000C7:SSL "
                    "routines::peer did not return a certificate (the peer presented no "
                    "certificate)"))
      << manager->err();
}

TEST_F(RelayEndToEnd, AnExpiredCertificateIsRefusedWithAClearLineOnBothSides) {
  writeCertificate("relay-expired", *ca_,
                   tls::clientCertificate("001", tls::expiredFor(absl::Hours(1))));
  auto manager = startManager("m1");
  auto relay = startRelay({managerAddress("m1")}, "relay-expired");
  EXPECT_TRUE(
      waitForOutput(*relay, "warning: certificate '" + file("relay-expired.pem") + "' expired on"))
      << relay->err();
  EXPECT_TRUE(waitForOutput(
      *relay, "closed the connection during the TLS handshake: it refuses our certificate '" +
                  file("relay-expired.pem") + "'"))
      << relay->err();
  EXPECT_TRUE(waitForOutput(*manager,
                            "relay endpoint: TLS handshake refused: SSL_ERROR_SSL: "
                            "error:0A000086:SSL routines::certificate verify failed (the peer's "
                            "certificate is not signed by the trusted CA, or is expired"))
      << manager->err();
  EXPECT_EQ(countOutput(*relay, "connected to manager"), 0u);
}

TEST_F(RelayEndToEnd, ACertificateOfAnotherCaIsRefusedWithAClearLineOnBothSides) {
  auto other_ca = tls::CertificateAuthority::create("Some other CA");
  writeCertificate("relay-foreign", *other_ca, tls::clientCertificate("001"));
  auto manager = startManager("m1");
  auto relay = startRelay({managerAddress("m1")}, "relay-foreign");
  EXPECT_TRUE(waitForOutput(
      *relay, "closed the connection during the TLS handshake: it refuses our certificate '" +
                  file("relay-foreign.pem") + "'"))
      << relay->err();
  EXPECT_TRUE(waitForOutput(*manager,
                            "relay endpoint: TLS handshake refused: SSL_ERROR_SSL: "
                            "error:0A000086:SSL routines::certificate verify failed"))
      << manager->err();
  openAgent("001", 0, absl::Milliseconds(300));
  record(10);
  EXPECT_FALSE(protocol_->synchronizeModule(Mode::kDelta).ok());
  EXPECT_EQ(pending(), 10u);
}

TEST_F(RelayEndToEnd, AModuleWrittenForTheLocalSocketWorksUnchangedBehindTheRelay) {
  auto manager = startManager("m1");
  auto relay = startRelay({managerAddress("m1")});
  openAgent();
  record(500);
  ASSERT_EQ(protocol_->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  IndexChecksum checksum;
  for (const auto& [id, doc] : module_) checksum.addDocument(doc.data);
  EXPECT_EQ(protocol_->checkIntegrity(kIndex, checksum.finish()).code, SyncCode::kOk);
  EXPECT_EQ(protocol_->checkIntegrity(kIndex, sha1Hex("something else")).code,
            SyncCode::kChecksumMismatch);
  ASSERT_TRUE(protocol_->notifyDataClean({kIndex}).ok());
  module_.clear();
  stopManager(manager);
  EXPECT_EQ(managerState("m1"), module_);
}

TEST_F(RelayEndToEnd, BadFlagsAndFilesAreClearErrorsWithExitCodes) {
  const std::string relay = runfile("asp/tools/asp_relay");
  const std::string out = file("bad");
  auto err = [&] { return testing::readFile(out + ".err"); };
  EXPECT_EQ(testing::run(relay, {"--socket=" + queue_}, out), 2);
  EXPECT_NE(err().find("--managers is required"), std::string::npos) << err();
  EXPECT_EQ(
      testing::run(
          relay, {"--socket=" + queue_, "--managers=nohost", "--cert=x", "--key=x", "--ca=x"}, out),
      2);
  EXPECT_NE(err().find("'nohost' is not host:port"), std::string::npos) << err();
  ASSERT_TRUE(testing::writeFile(file("garbage.pem"), "not a certificate\n"));
  EXPECT_EQ(
      testing::run(relay,
                   {"--socket=" + queue_, "--managers=127.0.0.1:1", "--cert=" + file("garbage.pem"),
                    "--key=" + file("relay-001.key"), "--ca=" + file("ca.pem")},
                   out),
      2);
  EXPECT_NE(err().find("certificate '" + file("garbage.pem") + "' holds no PEM certificate: "),
            std::string::npos)
      << err();
  EXPECT_NE(err().find("no start line"), std::string::npos) << err();
  ASSERT_TRUE(
      testing::writeFile(file("relay.conf"), "socket = " + queue_ + "\nmanagers 127.0.0.1:1\n"));
  EXPECT_EQ(testing::run(relay, {"--config=" + file("relay.conf")}, out), 2);
  EXPECT_NE(err().find(file("relay.conf") + ":2: expected 'key = value'"), std::string::npos)
      << err();

  auto manager = startManager("m1");  // its local socket is m1-local: a relay may not take it
  EXPECT_EQ(testing::run(relay,
                         {"--socket=" + file("m1-local"), "--managers=127.0.0.1:1",
                          "--cert=" + file("relay-001.pem"), "--key=" + file("relay-001.key"),
                          "--ca=" + file("ca.pem")},
                         out),
            3);
  EXPECT_NE(err().find("socket '" + file("m1-local") + "' is in use by another process"),
            std::string::npos)
      << err();
}

TEST_F(RelayEndToEnd, AConfigFileWorksAndFlagsOverrideIt) {
  auto manager = startManager("m1");
  ASSERT_TRUE(testing::writeFile(
      file("relay.conf"), "# test relay\nsocket = " + queue_ + "\nmanagers = 127.0.0.1:1\ncert = " +
                              file("relay-001.pem") + "\nkey = " + file("relay-001.key") +
                              "\nca = " + file("ca.pem") + "\n"));
  Process relay(runfile("asp/tools/asp_relay"),
                {"--config=" + file("relay.conf"), "--managers=" + managerAddress("m1")},
                outputPrefix("relay-conf"));
  ASSERT_TRUE(waitForOutput(relay, "connected to manager " + managerAddress("m1"))) << relay.err();
  openAgent();
  record(10);
  EXPECT_TRUE(protocol_->synchronizeModule(Mode::kDelta).ok());
}

TEST_F(RelayEndToEnd, AnUnreachableManagerIsLoggedAndRetriedWithBackoff) {
  auto relay = startRelay({"127.0.0.1:1"});
  EXPECT_TRUE(
      waitForOutput(*relay, "manager 127.0.0.1:1: connection refused (no manager listens there)"))
      << relay->err();
  EXPECT_TRUE(waitForOutput(*relay, "no manager reachable; next attempt in")) << relay->err();
  openAgent("001", 0, absl::Milliseconds(300));
  record(10);
  SyncResult result = protocol_->synchronizeModule(Mode::kDelta);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(pending(), 10u) << "nothing lost while no manager is reachable";
  relay->signal(SIGTERM);
  EXPECT_EQ(relay->wait(), 0);
  EXPECT_NE(relay->out().find("stopped by signal"), std::string::npos);
}

TEST_F(RelayEndToEnd, TheDemoSyncsAcrossTheRelayBindingByDefaultAndLocallyOnRequest) {
  Process relayed(runfile("asp/tools/asp_demo"), {"--items=2000"}, outputPrefix("demo"));
  ASSERT_EQ(relayed.wait(), 0) << relayed.out() << relayed.err();
  EXPECT_NE(relayed.out().find("relay: owns the module's queue socket"), std::string::npos)
      << relayed.out();
  EXPECT_NE(relayed.out().find("wire bytes"), std::string::npos);
  EXPECT_NE(relayed.out().find("Demo passed"), std::string::npos);
  Process local(runfile("asp/tools/asp_demo"), {"--items=2000", "--local_socket"},
                outputPrefix("demo-local"));
  ASSERT_EQ(local.wait(), 0) << local.out() << local.err();
  EXPECT_EQ(local.out().find("relay:"), std::string::npos) << local.out();
  EXPECT_NE(local.out().find("Demo passed"), std::string::npos);
}

}  // namespace
}  // namespace asp
