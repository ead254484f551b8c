// gRPC credentials for the relay binding (docs/protocol.md §9): mutual TLS from checked PEM
// material (tls_files.h).
//
// Server: presents its certificate, requests a client certificate, requires one and
// verifies it against the trusted CA; a client with no certificate, or one that does not
// chain to that CA (another CA, expired, not yet valid), fails the TLS handshake before
// any RPC runs. Client: presents its certificate and verifies the server's against the
// trusted CA and the name it dials (or `server_name_override`).
//
// TLS version: gRPC 1.51 allows TLS 1.2 and 1.3 and its public C++ API has no minimum
// setting; with OpenSSL 3 on both sides the handshake negotiates TLS 1.3
// (docs/deployment.md). Thread-safe: pure functions.
#ifndef ASP_TLS_GRPC_CREDENTIALS_H_
#define ASP_TLS_GRPC_CREDENTIALS_H_

#include <memory>
#include <string>

#include "asp/tls/tls_files.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace asp::tls {

std::shared_ptr<grpc::ServerCredentials> mutualTlsServerCredentials(const TlsMaterial& material);

std::shared_ptr<grpc::ChannelCredentials> mutualTlsChannelCredentials(const TlsMaterial& material);

}  // namespace asp::tls

#endif  // ASP_TLS_GRPC_CREDENTIALS_H_
