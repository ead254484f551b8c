#include "asp/tools/demo_crossing.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "asp/relay/grpc_manager_connector.h"
#include "asp/tls/certificate_authority.h"
#include "asp/tls/tls_files.h"

namespace asp::tools {
namespace {

// Writes a key and certificate as <dir>/<name>.key and .pem; reads them back checked.
absl::StatusOr<tls::TlsMaterial> install(const std::string& dir, const std::string& name,
                                         const tls::KeyAndCertificate& pair,
                                         const std::string& ca_path) {
  const tls::TlsFilePaths paths{absl::StrCat(dir, "/", name, ".pem"),
                                absl::StrCat(dir, "/", name, ".key"), ca_path};
  if (absl::Status s = tls::writePemFile(paths.certificate, pair.certificate_pem, 0644); !s.ok())
    return s;
  if (absl::Status s = tls::writePemFile(paths.private_key, pair.private_key_pem, 0600); !s.ok())
    return s;
  return tls::loadTlsMaterial(paths);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DemoCrossing>> DemoCrossing::start(const std::string& dir,
                                                                  const std::string& agent,
                                                                  const std::string& queue_path,
                                                                  manager::ManagerCore* core,
                                                                  manager::InboundFilter* filter) {
  std::unique_ptr<DemoCrossing> crossing(new DemoCrossing());
  crossing->certs_ = dir + "/certs";
  mkdir(crossing->certs_.c_str(), 0755);
  absl::StatusOr<tls::CertificateAuthority> ca = tls::CertificateAuthority::create("ASP demo CA");
  if (!ca.ok()) return ca.status();
  const std::string ca_path = crossing->certs_ + "/ca.pem";
  if (absl::Status s = tls::writePemFile(ca_path, ca->certificatePem(), 0644); !s.ok()) return s;
  absl::StatusOr<tls::KeyAndCertificate> server =
      ca->issue(tls::serverCertificate("manager", {"localhost"}, {"127.0.0.1"}));
  if (!server.ok()) return server.status();
  absl::StatusOr<tls::KeyAndCertificate> client = ca->issue(tls::clientCertificate(agent));
  if (!client.ok()) return client.status();
  absl::StatusOr<tls::TlsMaterial> manager_tls =
      install(crossing->certs_, "manager", *server, ca_path);
  if (!manager_tls.ok()) return manager_tls.status();
  absl::StatusOr<tls::TlsMaterial> relay_tls = install(crossing->certs_, "relay", *client, ca_path);
  if (!relay_tls.ok()) return relay_tls.status();

  manager::RelayEndpoint::Options endpoint;
  endpoint.listen_address = "127.0.0.1:0";
  endpoint.tls = *std::move(manager_tls);
  endpoint.filter = filter;
  absl::StatusOr<std::unique_ptr<manager::RelayEndpoint>> started =
      manager::RelayEndpoint::start(endpoint, core);
  if (!started.ok()) return started.status();
  crossing->endpoint_ = *std::move(started);

  relay::GrpcManagerConnector::Options link;
  link.tls = *std::move(relay_tls);
  relay::Relay::Options options;
  options.socket.path = queue_path;
  options.managers = {absl::StrCat("127.0.0.1:", crossing->endpoint_->port())};
  absl::StatusOr<std::unique_ptr<relay::Relay>> relay =
      relay::Relay::start(options, std::make_unique<relay::GrpcManagerConnector>(link));
  if (!relay.ok()) return relay.status();
  crossing->relay_ = *std::move(relay);
  if (!crossing->relay_->waitUntilConnected(absl::Seconds(10))) {
    return absl::UnavailableError(absl::StrCat("the relay did not reach ", options.managers[0]));
  }
  return crossing;
}

DemoCrossing::~DemoCrossing() {
  if (relay_ != nullptr) relay_->stop();
  if (endpoint_ != nullptr) endpoint_->stop();
}

uint64_t DemoCrossing::wireBytesSent() const { return relay_->counters().wire.sent; }

std::string DemoCrossing::description() const {
  return absl::StrCat("  relay: owns the module's queue socket, one gRPC stream to 127.0.0.1:",
                      endpoint_->port(), " (mutual TLS, gzip)\n  certificates: ", certs_,
                      " (a throwaway CA; the relay's common name is the agent id)\n");
}

}  // namespace asp::tools
