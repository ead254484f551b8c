#include "asp/manager/relay_endpoint.h"

#include <grpc/compression.h>
#include <grpc/grpc.h>

#include <chrono>
#include <mutex>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asp/manager/identity_streams.h"
#include "asp/proto/limits.h"
#include "asp/proto/relay.grpc.pb.h"
#include "asp/proto/wire.pb.h"
#include "asp/tls/grpc_credentials.h"
#include "asp/transport/framing.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/grpcpp.h"

namespace asp::manager {
namespace {

using google::protobuf::internal::WireFormatLite;
using relay::v1::Datagram;

// gRPC frames a Datagram as a length-delimited bytes field: a few bytes over the payload.
constexpr int kMessageSlack = 64;
constexpr int kMaxMessageBytes = static_cast<int>(wire::kMaxDatagramBytes) + kMessageSlack;

// Whether a serialized Message may decode as a Start: some top-level field is number 1
// (the last oneof member on the wire wins, so every field counts, not only the first),
// or the bytes do not even walk as fields. Skips the fields without parsing them, so a
// data batch costs a few bytes of reading.
bool mayBeStart(absl::string_view message) {
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(message.data()),
                                               static_cast<int>(message.size()));
  while (const uint32_t tag = input.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == wire::v1::Message::kStartFieldNumber) return true;
    if (!WireFormatLite::SkipField(&input, tag)) return true;
  }
  return !input.ConsumedEntireMessage();
}

// The verified client certificate's subject common name.
absl::StatusOr<std::string> peerIdentity(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> names = auth != nullptr
                                            ? auth->FindPropertyValues("x509_common_name")
                                            : std::vector<grpc::string_ref>{};
  if (names.size() != 1 || names[0].empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("peer ", context.peer(), " presented ", names.size(),
                     " certificate common names; exactly one is needed"));
  }
  return std::string(names[0].data(), names[0].size());
}

absl::Status checkOptions(const RelayEndpoint::Options& options) {
  if (options.listen_address.empty()) return absl::InvalidArgumentError("no listen address given");
  if (options.max_streams < 1 || options.max_streams_per_identity < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream limits must be >= 1, got ", options.max_streams, " and ",
                     options.max_streams_per_identity, " per identity"));
  }
  if (options.max_in_flight_bytes_per_identity / options.max_streams_per_identity <
      wire::kMaxDatagramBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("bytes in flight per identity (", options.max_in_flight_bytes_per_identity,
                     ") must leave each of its ", options.max_streams_per_identity,
                     " streams at least one datagram (", wire::kMaxDatagramBytes, " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace

class RelayEndpoint::Service final : public relay::v1::Relay::Service {
 public:
  Service(const Options& options, ManagerCore* core)
      : options_(options), core_(core), streams_(options.max_streams_per_identity) {}

  grpc::Status Exchange(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<Datagram, Datagram>* stream) override {
    absl::StatusOr<std::string> identity = peerIdentity(*context);
    if (!identity.ok()) {
      log(std::string(identity.status().message()));
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          std::string(identity.status().message()));
    }
    const IdentityStreams::Admission admission =
        streams_.admit(*identity, [context] { context->TryCancel(); });
    countStream();
    log(absl::StrCat("agent '", *identity, "' connected from ", context->peer(),
                     admission.evicted ? "; its older stream is closed" : ""));
    const bool finished = serve(*identity, stream);
    streams_.release(*identity, admission.ticket);
    log(absl::StrCat("agent '", *identity, "' disconnected from ", context->peer(),
                     finished ? "" : " (its stream was cancelled or broke)"));
    return grpc::Status::OK;
  }

  Counters counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    Counters c = counters_;
    c.streams_evicted = streams_.evictions();
    return c;
  }

 private:
  // Reads datagrams until the relay ends the stream (true) or it breaks (false).
  bool serve(const std::string& identity, grpc::ServerReaderWriter<Datagram, Datagram>* stream) {
    bool mismatch_logged = false;
    Datagram in;
    Datagram out;
    while (stream->Read(&in)) {
      for (std::string& answer : handle(identity, in.payload(), &mismatch_logged)) {
        out.set_payload(std::move(answer));
        if (!stream->Write(out)) return false;
        std::lock_guard<std::mutex> lock(mu_);
        ++counters_.answers;
      }
    }
    return true;
  }

  // The framed answers to one agent datagram.
  std::vector<std::string> handle(const std::string& identity, const std::string& payload,
                                  bool* mismatch_logged) {
    absl::StatusOr<framing::AgentFrame> frame = framing::decodeAgentFrame(payload);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.datagrams;
      if (!frame.ok() || payload.size() > wire::kMaxDatagramBytes) {
        ++counters_.bad_datagrams;
        return {};
      }
    }
    const int copies = options_.filter != nullptr ? options_.filter->copies(frame->message) : 1;
    std::vector<wire::v1::Message> answers;
    for (int i = 0; i < copies; ++i) {
      if (absl::optional<wire::v1::Message> refusal =
              refuseForeignStart(identity, *frame, mismatch_logged)) {
        answers.push_back(*std::move(refusal));
        continue;
      }
      absl::StatusOr<std::vector<wire::v1::Message>> handled = core_->handleBytes(frame->message);
      if (!handled.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        ++counters_.bad_datagrams;
        return {};
      }
      for (wire::v1::Message& answer : *handled) answers.push_back(std::move(answer));
    }
    std::vector<std::string> framed;
    for (const wire::v1::Message& answer : answers) {
      absl::StatusOr<std::string> bytes =
          framing::encodeManagerFrame(frame->module, answer.SerializeAsString());
      if (bytes.ok()) framed.push_back(*std::move(bytes));
    }
    return framed;
  }

  // StartAck{ERROR} for a Start that names an agent other than the stream's identity.
  absl::optional<wire::v1::Message> refuseForeignStart(const std::string& identity,
                                                       const framing::AgentFrame& frame,
                                                       bool* mismatch_logged) {
    if (!mayBeStart(frame.message)) return absl::nullopt;
    wire::v1::Message message;
    if (!message.ParseFromArray(frame.message.data(), static_cast<int>(frame.message.size())) ||
        !message.has_start() || message.start().agent().id() == identity) {
      return absl::nullopt;  // the core answers (or refuses) it as usual
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.identity_mismatches;
    }
    if (!*mismatch_logged) {
      *mismatch_logged = true;
      log(absl::StrCat("agent '", identity, "' sent a Start for agent '",
                       message.start().agent().id(), "' (module '", frame.module,
                       "'): refused with StartAck ERROR; further ones on this "
                       "stream are only counted"));
    }
    wire::v1::Message refusal;
    refusal.mutable_start_ack()->set_status(wire::v1::STATUS_ERROR);
    return refusal;
  }

  void countStream() {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.streams;
  }

  void log(const std::string& line) {
    if (options_.log) options_.log(line);
  }

  const Options options_;
  ManagerCore* const core_;
  IdentityStreams streams_;
  mutable std::mutex mu_;  // guards counters_
  Counters counters_;
};

struct RelayEndpoint::Server {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

RelayEndpoint::RelayEndpoint() = default;

absl::StatusOr<std::unique_ptr<RelayEndpoint>> RelayEndpoint::start(Options options,
                                                                    ManagerCore* core) {
  if (absl::Status s = checkOptions(options); !s.ok()) return s;
  std::unique_ptr<RelayEndpoint> endpoint(new RelayEndpoint());
  endpoint->service_ = std::make_unique<Service>(options, core);
  endpoint->server_ = std::make_unique<Server>();

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, tls::mutualTlsServerCredentials(options.tls),
                           &endpoint->server_->port);
  builder.RegisterService(endpoint->service_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.SetDefaultCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  // gRPC sets SO_REUSEPORT by default: a second manager on the same port would share it
  // silently instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Bytes in flight per identity: a fixed flow-control window per stream.
  const size_t window = options.max_in_flight_bytes_per_identity / options.max_streams_per_identity;
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, static_cast<int>(window));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(options.max_streams_per_identity));
  // Relays ping every 20 s so a cut path is noticed; allow that, and ping them too.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // One thread per open stream (a synchronous server), a few for gRPC itself.
  grpc::ResourceQuota quota("asp-relay-endpoint");
  quota.SetMaxThreads(static_cast<int>(options.max_streams) + 8);
  builder.SetResourceQuota(quota);
  endpoint->server_->server = builder.BuildAndStart();
  if (endpoint->server_->server == nullptr || endpoint->server_->port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", options.listen_address,
                     "' (address in use, not an address of this host, or not host:port)"));
  }
  return endpoint;
}

RelayEndpoint::~RelayEndpoint() { stop(); }

int RelayEndpoint::port() const { return server_->port; }

void RelayEndpoint::stop() {
  if (server_ == nullptr || server_->server == nullptr) return;
  server_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->server->Wait();
  server_->server.reset();
}

RelayEndpoint::Counters RelayEndpoint::counters() const { return service_->counters(); }

}  // namespace asp::manager
