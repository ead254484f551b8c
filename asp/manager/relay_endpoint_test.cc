// The manager's network endpoint with a real gRPC client over loopback mutual TLS, in
// one process: identity from the certificate, the per-identity stream limit, bad input.
// (Whole relays and managers as processes: asp/tools/relay_end_to_end_test.cc.)
#include "asp/manager/relay_endpoint.h"

#include <chrono>
#include <memory>
#include <string>

#include "asp/manager/manager_core.h"
#include "asp/manager/state_store.h"
#include "asp/proto/relay.grpc.pb.h"
#include "asp/proto/wire.pb.h"
#include "asp/tls/certificate_authority.h"
#include "asp/tls/grpc_credentials.h"
#include "asp/transport/framing.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

using relay::v1::Datagram;
using wire::v1::Message;

tls::TlsMaterial material(const tls::KeyAndCertificate& mine, const std::string& trusted_ca) {
  tls::TlsMaterial m;
  m.private_key_pem = mine.private_key_pem;
  m.certificate_pem = mine.certificate_pem;
  m.trusted_ca_pem = trusted_ca;
  return m;
}

Message start(const std::string& agent, const std::string& module = "fim") {
  Message m;
  m.mutable_start()->set_module(module);
  m.mutable_start()->set_mode(wire::v1::MODE_DELTA);
  m.mutable_start()->set_size(1);
  m.mutable_start()->add_indices("states-fim-files");
  m.mutable_start()->mutable_agent()->set_id(agent);
  return m;
}

// One relay stream, as a relay with `agent`'s certificate opens it.
class TestRelay {
 public:
  TestRelay(int port, std::shared_ptr<grpc::ChannelCredentials> credentials) {
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), credentials);
    stub_ = relay::v1::Relay::NewStub(channel_);
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    stream_ = stub_->Exchange(&context_);
  }

  bool sendRaw(const std::string& payload) {
    Datagram d;
    d.set_payload(payload);
    return stream_->Write(d);
  }
  bool send(const Message& message, const std::string& module = "fim") {
    return sendRaw(*framing::encodeAgentFrame(module, message.SerializeAsString()));
  }
  // The next answer's message, or nullopt when the stream ended.
  absl::optional<Message> receive(const std::string& module = "fim") {
    Datagram d;
    if (!stream_->Read(&d)) return absl::nullopt;
    absl::StatusOr<absl::string_view> bytes = framing::decodeManagerFrame(module, d.payload());
    Message m;
    if (!bytes.ok() || !m.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
      return absl::nullopt;
    return m;
  }
  grpc::Status finish() {
    stream_->WritesDone();
    Datagram ignored;
    while (stream_->Read(&ignored)) {
    }
    return stream_->Finish();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::v1::Relay::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<Datagram, Datagram>> stream_;
};

class RelayEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ =
        std::make_unique<tls::CertificateAuthority>(*tls::CertificateAuthority::create("test ca"));
    server_cert_ = *ca_->issue(tls::serverCertificate("manager", {"localhost"}, {"127.0.0.1"}));
  }

  void startEndpoint(RelayEndpoint::Options options = {}) {
    options.listen_address = "127.0.0.1:0";
    options.tls = material(server_cert_, ca_->certificatePem());
    options.log = [this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_ += std::string(line) + "\n";
    };
    auto endpoint = RelayEndpoint::start(options, &core_);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = *std::move(endpoint);
  }

  std::unique_ptr<TestRelay> relayAs(const std::string& agent) {
    tls::KeyAndCertificate client = *ca_->issue(tls::clientCertificate(agent));
    return std::make_unique<TestRelay>(endpoint_->port(), tls::mutualTlsChannelCredentials(material(
                                                              client, ca_->certificatePem())));
  }

  std::string log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  std::unique_ptr<tls::CertificateAuthority> ca_;
  tls::KeyAndCertificate server_cert_;
  InMemoryStateStore store_;
  ManagerCore core_{ManagerCore::Options{}, &store_};
  std::mutex log_mu_;
  std::string log_;
  std::unique_ptr<RelayEndpoint> endpoint_;  // stopped first: its handlers log
};

TEST_F(RelayEndpointTest, AStartForTheCertificatesOwnAgentOpensASession) {
  startEndpoint();
  auto relay = relayAs("001");
  ASSERT_TRUE(relay->send(start("001")));
  absl::optional<Message> answer = relay->receive();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->start_ack().status(), wire::v1::STATUS_OK);
  EXPECT_NE(answer->start_ack().session(), 0u);
  EXPECT_TRUE(relay->finish().ok());
  EXPECT_EQ(core_.activeSessions(), 1u);
  EXPECT_EQ(endpoint_->counters().identity_mismatches, 0u);
}

TEST_F(RelayEndpointTest, AStartForAnotherAgentIsRefusedCountedAndLoggedOnce) {
  startEndpoint();
  auto relay = relayAs("002");
  ASSERT_TRUE(relay->send(start("001")));
  ASSERT_TRUE(relay->send(start("001", "sca"), "sca"));
  absl::optional<Message> answer = relay->receive();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->start_ack().status(), wire::v1::STATUS_ERROR);
  answer = relay->receive("sca");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->start_ack().status(), wire::v1::STATUS_ERROR);
  EXPECT_TRUE(relay->finish().ok());
  EXPECT_EQ(core_.activeSessions(), 0u) << "nothing reached the core";
  EXPECT_EQ(endpoint_->counters().identity_mismatches, 2u);
  const std::string lines = log();
  EXPECT_NE(lines.find("agent '002' sent a Start for agent '001' (module 'fim'): refused"),
            std::string::npos)
      << lines;
  EXPECT_EQ(lines.find("module 'sca'"), std::string::npos) << "logged once per stream: " << lines;
}

TEST_F(RelayEndpointTest, AStartHiddenBehindAnotherFieldIsStillChecked) {
  startEndpoint();
  auto relay = relayAs("002");
  // The last oneof member on the wire wins: an End followed by a Start decodes as the Start.
  Message end;
  end.mutable_end()->set_session(7);
  const std::string bytes = end.SerializeAsString() + start("001").SerializeAsString();
  ASSERT_TRUE(relay->sendRaw(*framing::encodeAgentFrame("fim", bytes)));
  absl::optional<Message> answer = relay->receive();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->start_ack().status(), wire::v1::STATUS_ERROR);
  EXPECT_EQ(endpoint_->counters().identity_mismatches, 1u);
  EXPECT_EQ(core_.activeSessions(), 0u);
}

TEST_F(RelayEndpointTest, PayloadsThatAreNotAgentDatagramsAreDroppedAndCounted) {
  startEndpoint();
  auto relay = relayAs("001");
  ASSERT_TRUE(relay->sendRaw("hello"));
  ASSERT_TRUE(relay->sendRaw("s:bad module:x"));
  ASSERT_TRUE(relay->sendRaw(*framing::encodeAgentFrame("fim", "\xff\xff\xff")));
  ASSERT_TRUE(relay->send(start("001")));
  absl::optional<Message> answer = relay->receive();
  ASSERT_TRUE(answer.has_value()) << "the stream survives bad payloads";
  EXPECT_EQ(answer->start_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(endpoint_->counters().bad_datagrams, 3u);
}

TEST_F(RelayEndpointTest, ANewerStreamOfTheSameAgentClosesItsOldestBeyondTheLimit) {
  RelayEndpoint::Options options;
  options.max_streams_per_identity = 1;
  startEndpoint(options);
  auto first = relayAs("001");
  ASSERT_TRUE(first->send(start("001")));
  ASSERT_TRUE(first->receive().has_value());
  auto second = relayAs("001");
  ASSERT_TRUE(second->send(start("001", "sca"), "sca"));
  ASSERT_TRUE(second->receive("sca").has_value());
  EXPECT_FALSE(first->receive().has_value()) << "the first stream was closed";
  EXPECT_EQ(first->finish().error_code(), grpc::StatusCode::CANCELLED);
  auto other_agent = relayAs("002");
  ASSERT_TRUE(other_agent->send(start("002")));
  ASSERT_TRUE(other_agent->receive().has_value()) << "another identity has its own limit";
  EXPECT_EQ(endpoint_->counters().streams_evicted, 1u);
}

TEST_F(RelayEndpointTest, ListeningWhereAnotherEndpointListensIsAClearError) {
  startEndpoint();
  RelayEndpoint::Options options;
  options.listen_address = "127.0.0.1:" + std::to_string(endpoint_->port());
  options.tls = material(server_cert_, ca_->certificatePem());
  auto second = RelayEndpoint::start(options, &core_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(options.listen_address), std::string::npos)
      << second.status();
}

TEST_F(RelayEndpointTest, LimitsThatLeaveAStreamLessThanADatagramAreRefused) {
  RelayEndpoint::Options options;
  options.listen_address = "127.0.0.1:0";
  options.tls = material(server_cert_, ca_->certificatePem());
  options.max_streams_per_identity = 4;
  options.max_in_flight_bytes_per_identity = 100000;
  auto endpoint = RelayEndpoint::start(options, &core_);
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(endpoint.status().message().find("100000"), std::string::npos) << endpoint.status();
}

}  // namespace
}  // namespace asp::manager
