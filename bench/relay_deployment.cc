#include "bench/relay_deployment.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "asp/relay/grpc_manager_connector.h"
#include "asp/tls/certificate_authority.h"
#include "bench/fim_backlog.h"
#include "bench/sync_bench_support.h"

namespace asp::bench {
namespace {

tls::TlsMaterial material(const tls::KeyAndCertificate& mine, const std::string& trusted_ca) {
  tls::TlsMaterial m;
  m.private_key_pem = mine.private_key_pem;
  m.certificate_pem = mine.certificate_pem;
  m.trusted_ca_pem = trusted_ca;
  return m;
}

}  // namespace

absl::StatusOr<BenchCertificates> makeBenchCertificates() {
  absl::StatusOr<tls::CertificateAuthority> ca =
      tls::CertificateAuthority::create("relay_bench CA");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<tls::KeyAndCertificate> server =
      ca->issue(tls::serverCertificate("manager", {"localhost"}, {"127.0.0.1"}));
  if (!server.ok()) return server.status();
  absl::StatusOr<tls::KeyAndCertificate> client =
      ca->issue(tls::clientCertificate(benchAgentInfo().id));
  if (!client.ok()) return client.status();
  return BenchCertificates{material(*server, ca->certificatePem()),
                           material(*client, ca->certificatePem())};
}

absl::StatusOr<std::unique_ptr<BenchManager>> BenchManager::start(const tls::TlsMaterial& tls) {
  std::unique_ptr<BenchManager> m(new BenchManager());
  manager::ManagerCore::Options core;
  // relay_bench's memory measure runs 100 modules of one agent at once.
  core.max_sessions_per_agent = 256;
  m->core_ = std::make_unique<manager::ManagerCore>(core, &m->store_);
  manager::RelayEndpoint::Options options;
  options.listen_address = "127.0.0.1:0";
  options.tls = tls;
  absl::StatusOr<std::unique_ptr<manager::RelayEndpoint>> endpoint =
      manager::RelayEndpoint::start(std::move(options), m->core_.get());
  if (!endpoint.ok()) return endpoint.status();
  m->endpoint_ = *std::move(endpoint);
  return m;
}

BenchManager::~BenchManager() {
  if (endpoint_ != nullptr) endpoint_->stop();
}

absl::StatusOr<std::unique_ptr<relay::Relay>> startBenchRelay(const tls::TlsMaterial& tls,
                                                              const std::string& socket_path,
                                                              int port) {
  relay::GrpcManagerConnector::Options link;
  link.tls = tls;
  relay::Relay::Options options;
  options.socket.path = socket_path;
  options.managers = {absl::StrCat("127.0.0.1:", port)};
  absl::StatusOr<std::unique_ptr<relay::Relay>> relay =
      relay::Relay::start(std::move(options), std::make_unique<relay::GrpcManagerConnector>(link));
  if (!relay.ok()) return relay.status();
  if (!(*relay)->waitUntilConnected(absl::Seconds(10))) {
    return absl::UnavailableError(
        absl::StrCat("the relay did not reach the manager on port ", port));
  }
  return relay;
}

absl::StatusOr<std::unique_ptr<BenchAgent>> BenchAgent::open(const std::string& module,
                                                             const std::string& queue_path,
                                                             const std::string& socket_path) {
  std::unique_ptr<BenchAgent> agent(new BenchAgent());
  UnixDatagramTransport::Options socket;
  socket.queue_path = socket_path;
  socket.module = module;
  socket.send_timeout = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<UnixDatagramTransport>> opened =
      UnixDatagramTransport::open(socket);
  if (!opened.ok()) return opened.status();
  agent->socket_ = *std::move(opened);
  AgentSyncProtocol::Options options;
  options.module = module;
  options.database_path = queue_path;
  options.transport = agent->socket_.get();
  options.agent_info = benchAgentInfo;
  options.session.sync_end_delay = absl::ZeroDuration();
  // One session of the whole backlog, as the plain side sends it (bounded sessions are
  // measured on their own in session_bench's 3_bounded).
  options.session.max_session_values = 0;
  options.session.max_session_bytes = 0;
  options.session.timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol =
      AgentSyncProtocol::create(std::move(options));
  if (!protocol.ok()) return protocol.status();
  agent->protocol_ = *std::move(protocol);
  AgentSyncProtocol* p = agent->protocol_.get();
  agent->socket_->setAnswerHandler(
      [p](const uint8_t* data, size_t length) { (void)p->parseResponseBuffer(data, length); });
  return agent;
}

BenchAgent::~BenchAgent() {
  if (socket_ != nullptr) socket_->setAnswerHandler(nullptr);
  protocol_.reset();
  socket_.reset();
}

absl::Status verifyFimDelivered(manager::InMemoryStateStore& store, const std::string& module,
                                uint64_t first, uint64_t count) {
  absl::StatusOr<manager::IndexState> documents =
      store.documents({benchAgentInfo().id, module}, kFimIndex);
  if (!documents.ok()) return documents.status();
  if (documents->size() != count) {
    return absl::DataLossError(absl::StrCat("the manager holds ", documents->size(),
                                            " documents of module '", module, "'; ", count,
                                            " were sent"));
  }
  std::set<uint64_t> picks = {0, count - 1, count / 2};
  for (uint64_t k = 1; picks.size() < 10 && k <= 10; ++k) picks.insert((k * 104729) % count);
  for (uint64_t n : picks) {
    const Change expected = fimChange(first + n);
    auto found = documents->find(expected.id);
    if (found == documents->end() || found->second.data != expected.data ||
        found->second.version != expected.version) {
      return absl::DataLossError(
          absl::StrCat("document '", expected.id, "' is missing or differs"));
    }
  }
  return absl::OkStatus();
}

}  // namespace asp::bench
