#include "asp/core/socket_sync_protocol.h"

#include <utility>

namespace asp {

absl::StatusOr<std::unique_ptr<SocketSyncProtocol>> SocketSyncProtocol::create(
    AgentSyncProtocol::Options options, const std::string& queue_path,
    absl::Duration send_timeout) {
  UnixDatagramTransport::Options t;
  t.queue_path = queue_path;
  t.module = options.module;
  t.send_timeout = send_timeout;
  absl::StatusOr<std::unique_ptr<UnixDatagramTransport>> transport = UnixDatagramTransport::open(t);
  if (!transport.ok()) return transport.status();
  std::unique_ptr<SocketSyncProtocol> wired(new SocketSyncProtocol());
  wired->transport_ = *std::move(transport);
  options.transport = wired->transport_.get();
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol =
      AgentSyncProtocol::create(std::move(options));
  if (!protocol.ok()) return protocol.status();
  wired->protocol_ = *std::move(protocol);
  AgentSyncProtocol* p = wired->protocol_.get();
  wired->transport_->setAnswerHandler(
      [p](const uint8_t* data, size_t length) { (void)p->parseResponseBuffer(data, length); });
  return wired;
}

SocketSyncProtocol::~SocketSyncProtocol() {
  if (transport_ != nullptr) transport_->setAnswerHandler(nullptr);
  if (protocol_ != nullptr) protocol_->stop();
  protocol_.reset();
  transport_.reset();
}

}  // namespace asp
