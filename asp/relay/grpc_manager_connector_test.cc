// The relay's gRPC connector against the manager's real endpoint over loopback mutual
// TLS, in one process: a working stream, and the sentences for each way it fails.
#include "asp/relay/grpc_manager_connector.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "asp/manager/manager_core.h"
#include "asp/manager/relay_endpoint.h"
#include "asp/manager/state_store.h"
#include "asp/tls/certificate_authority.h"
#include "asp/transport/framing.h"
#include "gtest/gtest.h"

namespace asp::relay {
namespace {

tls::TlsMaterial material(const tls::KeyAndCertificate& mine, const std::string& trusted_ca) {
  tls::TlsMaterial m;
  m.paths = {"/etc/asp/relay.pem", "/etc/asp/relay.key", "/etc/asp/ca.pem"};
  m.private_key_pem = mine.private_key_pem;
  m.certificate_pem = mine.certificate_pem;
  m.trusted_ca_pem = trusted_ca;
  return m;
}

std::string startDatagram(const std::string& agent) {
  wire::v1::Message m;
  m.mutable_start()->set_module("fim");
  m.mutable_start()->set_mode(wire::v1::MODE_DELTA);
  m.mutable_start()->set_size(1);
  m.mutable_start()->add_indices("states-fim-files");
  m.mutable_start()->mutable_agent()->set_id(agent);
  return *framing::encodeAgentFrame("fim", m.SerializeAsString());
}

// A TCP listener on loopback that accepts and then says nothing (no TLS).
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address;
    std::memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(fd_, 8);
  }
  ~SilentListener() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class GrpcManagerConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ =
        std::make_unique<tls::CertificateAuthority>(*tls::CertificateAuthority::create("test ca"));
    other_ca_ =
        std::make_unique<tls::CertificateAuthority>(*tls::CertificateAuthority::create("other ca"));
  }

  void startManager(const tls::CertificateAuthority& issuer) {
    manager::RelayEndpoint::Options options;
    options.listen_address = "127.0.0.1:0";
    options.tls =
        material(*issuer.issue(tls::serverCertificate("manager", {"localhost"}, {"127.0.0.1"})),
                 ca_->certificatePem());
    endpoint_ = *manager::RelayEndpoint::start(options, &core_);
    address_ = "127.0.0.1:" + std::to_string(endpoint_->port());
  }

  GrpcManagerConnector::Options clientOptions(const tls::CertificateAuthority& issuer) {
    GrpcManagerConnector::Options options;
    options.tls = material(*issuer.issue(tls::clientCertificate("001")), ca_->certificatePem());
    options.connect_timeout = absl::Seconds(5);
    return options;
  }

  std::unique_ptr<tls::CertificateAuthority> ca_;
  std::unique_ptr<tls::CertificateAuthority> other_ca_;
  manager::InMemoryStateStore store_;
  manager::ManagerCore core_{manager::ManagerCore::Options{}, &store_};
  std::unique_ptr<manager::RelayEndpoint> endpoint_;
  std::string address_;
};

TEST_F(GrpcManagerConnectorTest, AStreamCarriesDatagramsBothWaysAndCountsTheWireBytes) {
  startManager(*ca_);
  GrpcManagerConnector connector(clientOptions(*ca_));
  auto stream = connector.connect(address_);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE((*stream)->write(startDatagram("001")));
  std::string answer;
  ASSERT_TRUE((*stream)->read(&answer));
  EXPECT_EQ(answer.rfind("fim_sync ", 0), 0u) << answer;
  const WireBytes wire = (*stream)->wireBytes();
  EXPECT_GT(wire.sent, startDatagram("001").size()) << "TLS and HTTP/2 around it";
  EXPECT_GT(wire.received, 0u);
  (*stream)->cancel();
  EXPECT_FALSE((*stream)->read(&answer));
  EXPECT_EQ((*stream)->finish().code(), absl::StatusCode::kCancelled);
}

TEST_F(GrpcManagerConnectorTest, NobodyListeningIsAConnectionRefused) {
  GrpcManagerConnector connector(clientOptions(*ca_));
  auto stream = connector.connect("127.0.0.1:1");
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(stream.status().message(),
            "manager 127.0.0.1:1: connection refused (no manager listens there)");
}

TEST_F(GrpcManagerConnectorTest, AManagerCertificateOfAnotherCaIsRefusedNamingOurCaFile) {
  startManager(*other_ca_);
  GrpcManagerConnector connector(clientOptions(*ca_));
  auto stream = connector.connect(address_);
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(stream.status().message().find(
                "its certificate does not verify against the CA in '/etc/asp/ca.pem'"),
            std::string::npos)
      << stream.status();
}

TEST_F(GrpcManagerConnectorTest, OurCertificateRefusedByTheManagerIsExplained) {
  startManager(*ca_);
  GrpcManagerConnector connector(clientOptions(*other_ca_));
  auto stream = connector.connect(address_);
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(stream.status().message().find(
                "closed the connection during the TLS handshake: it refuses our "
                "certificate '/etc/asp/relay.pem'"),
            std::string::npos)
      << stream.status();
}

TEST_F(GrpcManagerConnectorTest, AHandshakeThatNeverEndsTimesOut) {
  SilentListener silent;
  GrpcManagerConnector::Options options = clientOptions(*ca_);
  options.connect_timeout = absl::Milliseconds(500);
  GrpcManagerConnector connector(options);
  auto stream = connector.connect(silent.address());
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(stream.status().message().find("no connection within 500ms"), std::string::npos)
      << stream.status();
}

TEST_F(GrpcManagerConnectorTest, InterruptEndsAConnectInProgress) {
  SilentListener silent;
  GrpcManagerConnector::Options options = clientOptions(*ca_);
  options.connect_timeout = absl::Seconds(60);
  GrpcManagerConnector connector(options);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    connector.interrupt();
  });
  const auto began = std::chrono::steady_clock::now();
  auto stream = connector.connect(silent.address());
  stopper.join();
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
}

TEST(DescribeConnectFailure, UnknownMessagesKeepGrpcsWords) {
  EXPECT_EQ(describeConnectFailure("m:1", "something odd", {}),
            "manager m:1 unreachable: something odd");
}

}  // namespace
}  // namespace asp::relay
