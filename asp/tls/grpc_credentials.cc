#include "asp/tls/grpc_credentials.h"

namespace asp::tls {

std::shared_ptr<grpc::ServerCredentials> mutualTlsServerCredentials(const TlsMaterial& material) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = material.trusted_ca_pem;
  options.pem_key_cert_pairs.push_back({material.private_key_pem, material.certificate_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> mutualTlsChannelCredentials(const TlsMaterial& material) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = material.trusted_ca_pem;
  options.pem_private_key = material.private_key_pem;
  options.pem_cert_chain = material.certificate_pem;
  return grpc::SslCredentials(options);
}

}  // namespace asp::tls
