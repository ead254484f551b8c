#include "asp/relay/grpc_manager_connector.h"

#include <grpc/compression.h>
#include <grpc/grpc.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"
#include "asp/proto/relay.grpc.pb.h"
#include "asp/relay/tcp_connection_meter.h"
#include "asp/tls/grpc_credentials.h"
#include "grpcpp/grpcpp.h"

namespace asp::relay {
namespace {

using relay::v1::Datagram;

// gRPC frames a Datagram as a length-delimited bytes field: a few bytes over the payload.
constexpr int kMaxMessageBytes = static_cast<int>(wire::kMaxDatagramBytes) + 64;

std::chrono::system_clock::time_point after(absl::Duration duration) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(duration);
}

class GrpcManagerStream final : public ManagerStream {
 public:
  GrpcManagerStream(std::string manager, std::shared_ptr<grpc::Channel> channel, bool meter)
      : manager_(std::move(manager)),
        channel_(std::move(channel)),
        stub_(relay::v1::Relay::NewStub(channel_)),
        meter_(meter ? TcpConnectionMeter::find(manager_) : std::nullopt) {
    context_.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    stream_ = stub_->Exchange(&context_);
  }

  bool write(std::string payload) override {
    out_.set_payload(std::move(payload));
    return stream_->Write(out_);
  }

  bool read(std::string* payload) override {
    if (!stream_->Read(&in_)) return false;
    payload->swap(*in_.mutable_payload());
    return true;
  }

  void cancel() override { context_.TryCancel(); }

  absl::Status finish() override {
    const grpc::Status status = stream_->Finish();
    if (status.ok())
      return absl::UnavailableError(absl::StrCat("manager ", manager_, " ended the stream"));
    if (status.error_code() == grpc::StatusCode::CANCELLED) {
      return absl::CancelledError(absl::StrCat("stream to manager ", manager_, " closed"));
    }
    return absl::UnavailableError(
        absl::StrCat("stream to manager ", manager_, " broke: ", status.error_message()));
  }

  WireBytes wireBytes() override {
    std::lock_guard<std::mutex> lock(meter_mu_);
    return meter_.has_value() ? meter_->read() : WireBytes{};
  }

 private:
  const std::string manager_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::v1::Relay::Stub> stub_;
  std::mutex meter_mu_;  // guards meter_
  std::optional<TcpConnectionMeter> meter_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<Datagram, Datagram>> stream_;
  Datagram out_;  // writer thread only
  Datagram in_;   // reader thread only
};

// What gRPC says about the last failed connection attempt of `channel`: a fail-fast call
// on a channel in TRANSIENT_FAILURE ends at once with that error.
std::string lastConnectError(grpc::Channel& channel, absl::Duration connect_timeout) {
  if (channel.GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    return absl::StrCat("no connection within ", absl::FormatDuration(connect_timeout));
  }
  auto stub =
      relay::v1::Relay::NewStub(std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext probe;
  probe.set_deadline(after(absl::Seconds(1)));
  auto stream = stub->Exchange(&probe);
  return stream->Finish().error_message();
}

}  // namespace

std::string describeConnectFailure(const std::string& manager, const std::string& message,
                                   const tls::TlsFilePaths& tls) {
  if (absl::StrContains(message, "Connection refused")) {
    return absl::StrCat("manager ", manager, ": connection refused (no manager listens there)");
  }
  if (absl::StrContains(message, "certificate verify failed")) {
    return absl::StrCat("manager ", manager,
                        ": TLS handshake failed: its certificate does not verify against "
                        "the CA in '",
                        tls.trusted_ca,
                        "' (not signed by it, expired or not yet valid): ", message);
  }
  if (absl::StrContains(message, "Peer name") ||
      absl::StrContains(message, "not in peer certificate")) {
    return absl::StrCat("manager ", manager,
                        ": its certificate is not issued for that name (set the relay's "
                        "server name to one it carries): ",
                        message);
  }
  if (absl::StrContains(message, "Socket closed") ||
      absl::StrContains(message, "Connection reset") || absl::StrContains(message, "alert")) {
    return absl::StrCat("manager ", manager,
                        " closed the connection during the TLS handshake: it refuses our "
                        "certificate '",
                        tls.certificate,
                        "' (not signed by the CA it trusts, expired or not yet "
                        "valid), or it is not a relay endpoint: ",
                        message);
  }
  if (absl::StrContains(message, "DNS") || absl::StrContains(message, "resolution")) {
    return absl::StrCat("manager ", manager, ": the name does not resolve: ", message);
  }
  return absl::StrCat("manager ", manager, " unreachable: ", message);
}

GrpcManagerConnector::GrpcManagerConnector(Options options)
    : options_(std::move(options)), credentials_(tls::mutualTlsChannelCredentials(options_.tls)) {}

GrpcManagerConnector::~GrpcManagerConnector() = default;

absl::StatusOr<std::unique_ptr<ManagerStream>> GrpcManagerConnector::connect(
    const std::string& manager) {
  grpc::ChannelArguments args;
  args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // A connection of its own: never one an older channel to the same manager still holds.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_timeout)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  if (!options_.server_name.empty()) args.SetSslTargetNameOverride(options_.server_name);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(manager, credentials_, args);
  // Waited for in slices, so interrupt() is noticed while a handshake hangs.
  const auto give_up = after(options_.connect_timeout);
  bool connected = false;
  while (!connected && !interrupted_ && std::chrono::system_clock::now() < give_up) {
    connected = channel->WaitForConnected(std::min(give_up, after(absl::Milliseconds(100))));
    if (!connected && channel->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) break;
  }
  if (interrupted_) return absl::CancelledError("relay stopping");
  if (!connected) {
    return absl::UnavailableError(describeConnectFailure(
        manager, lastConnectError(*channel, options_.connect_timeout), options_.tls.paths));
  }
  return std::unique_ptr<ManagerStream>(
      new GrpcManagerStream(manager, std::move(channel), options_.measure_wire_bytes));
}

void GrpcManagerConnector::interrupt() { interrupted_ = true; }

}  // namespace asp::relay
