// Mutual TLS between a real gRPC server and client on loopback, with certificates from
// CertificateAuthority: who gets through the handshake and who does not.
#include "asp/tls/grpc_credentials.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "asp/proto/relay.grpc.pb.h"
#include "asp/tls/certificate_authority.h"
#include "asp/tls/grpc_log.h"
#include "asp/tls/tls_files.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace asp::tls {
namespace {

using relay::v1::Datagram;
using relay::v1::Relay;

// Answers each datagram with the caller's certificate common name.
class NameEcho final : public Relay::Service {
 public:
  grpc::Status Exchange(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<Datagram, Datagram>* stream) override {
    std::string name;
    for (const grpc::string_ref& value :
         context->auth_context()->FindPropertyValues("x509_common_name")) {
      name.assign(value.data(), value.size());
    }
    Datagram datagram;
    while (stream->Read(&datagram)) {
      Datagram answer;
      answer.set_payload(name);
      stream->Write(answer);
    }
    return grpc::Status::OK;
  }
};

// gRPC's log lines (the server's refusals among them), as routeGrpcLog() rewrites them.
class LogCapture {
 public:
  LogCapture() {
    routeGrpcLog([this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  // Whether a line containing `text` arrives within a few seconds (the server logs on
  // its own thread, maybe after the client saw its failure).
  bool sawLine(const std::string& text) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < give_up) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const std::string& line : lines_) {
          if (line.find(text) != std::string::npos) return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

LogCapture& logs() {
  static LogCapture* capture = new LogCapture;
  return *capture;
}

TlsMaterial material(const KeyAndCertificate& mine, const std::string& trusted_ca) {
  TlsMaterial m;
  m.private_key_pem = mine.private_key_pem;
  m.certificate_pem = mine.certificate_pem;
  m.trusted_ca_pem = trusted_ca;
  return m;
}

class MutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logs();
    ca_ = std::make_unique<CertificateAuthority>(*CertificateAuthority::create("test ca"));
    other_ca_ = std::make_unique<CertificateAuthority>(*CertificateAuthority::create("other ca"));
    server_cert_ = *ca_->issue(serverCertificate("manager", {"localhost"}, {"127.0.0.1"}));
    startServer(material(server_cert_, ca_->certificatePem()));
  }

  void startServer(const TlsMaterial& server_material) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", mutualTlsServerCredentials(server_material), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  // Sends one datagram; the server's answer (the name it saw), or the failed RPC's status.
  std::pair<grpc::Status, std::string> exchange(
      std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), credentials);
    auto stub = Relay::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub->Exchange(&context);
    Datagram datagram;
    datagram.set_payload("s:fim:hello");
    stream->Write(datagram);
    stream->WritesDone();
    Datagram answer;
    std::string seen;
    if (stream->Read(&answer)) seen = answer.payload();
    return {stream->Finish(), seen};
  }

  std::shared_ptr<grpc::ChannelCredentials> clientCredentials(
      const CertificateAuthority& issuer, Validity validity = validFor(absl::Hours(1))) {
    KeyAndCertificate client = *issuer.issue(clientCertificate("001", validity));
    return mutualTlsChannelCredentials(material(client, ca_->certificatePem()));
  }

  std::unique_ptr<CertificateAuthority> ca_;
  std::unique_ptr<CertificateAuthority> other_ca_;
  KeyAndCertificate server_cert_;
  NameEcho service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(MutualTlsTest, AClientWithACertificateOfTheTrustedCaIsKnownByItsCommonName) {
  auto [status, seen] = exchange(clientCredentials(*ca_));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen, "001");
}

TEST_F(MutualTlsTest, AClientWithoutACertificateFailsTheHandshake) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_->certificatePem();
  auto [status, seen] = exchange(grpc::SslCredentials(options));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(seen, "");
  EXPECT_TRUE(
      logs().sawLine("TLS handshake refused: SSL_ERROR_SSL: error:0A0000C7:SSL routines::peer did "
                     "not return a certificate (the peer presented no certificate)"));
}

TEST_F(MutualTlsTest, AClientCertificateFromAnotherCaFailsTheHandshake) {
  auto [status, seen] = exchange(clientCredentials(*other_ca_));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(seen, "");
  EXPECT_TRUE(logs().sawLine(
      "certificate verify failed (the peer's certificate is not signed by the trusted CA"));
}

TEST_F(MutualTlsTest, AnExpiredClientCertificateFailsTheHandshake) {
  auto [status, seen] = exchange(clientCredentials(*ca_, expiredFor(absl::Hours(1))));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(seen, "");
}

TEST_F(MutualTlsTest, AServerCertificateFromAnotherCaIsRefusedByTheClient) {
  server_->Shutdown();
  KeyAndCertificate impostor =
      *other_ca_->issue(serverCertificate("manager", {"localhost"}, {"127.0.0.1"}));
  startServer(material(impostor, ca_->certificatePem()));
  auto [status, seen] = exchange(clientCredentials(*ca_));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_NE(status.error_message().find("certificate verify failed"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(seen, "");
}

}  // namespace
}  // namespace asp::tls
