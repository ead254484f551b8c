// TlsMaterial: the PEM files one side of the relay binding (docs/protocol.md §9) presents and
// trusts, read and checked with OpenSSL before gRPC sees them.
//
// gRPC reports a bad file late and vaguely ("Invalid cert chain file"); these checks say
// which file is wrong and why, in OpenSSL's words, at startup:
//  - NotFound / PermissionDenied / FailedPrecondition: the file cannot be read (it is
//    named, with the system's reason), or is larger than 1 MiB (no PEM file of ours is);
//  - InvalidArgument: the certificate file holds no PEM certificate, the key file no
//    PEM private key, the CA file no PEM certificate, or the key does not belong to the
//    certificate (the file is named, with OpenSSL's reason).
// A certificate outside its validity period is not an error here: the peer decides (its
// clock may be the right one), and validityProblem() gives the sentence to log.
//
// Thread-safe: pure functions.
#ifndef ASP_TLS_TLS_FILES_H_
#define ASP_TLS_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace asp::tls {

struct TlsFilePaths {
  std::string certificate;  // our certificate chain, leaf first, PEM
  std::string private_key;  // its private key, PEM
  std::string trusted_ca;   // the CA certificate(s) the peer's certificate must chain to, PEM
};

struct TlsMaterial {
  TlsFilePaths paths;
  std::string certificate_pem;
  std::string private_key_pem;
  std::string trusted_ca_pem;
  std::string common_name;  // the leaf's subject common name ("" when it has none)
  absl::Time not_before;
  absl::Time not_after;
};

absl::StatusOr<TlsMaterial> loadTlsMaterial(const TlsFilePaths& paths);

// "" when the certificate is valid at `now`; else a sentence naming the file and the date
// ("certificate '/etc/asp/relay.pem' expired on 2026-01-01 00:00:00 UTC").
std::string validityProblem(const TlsMaterial& material, absl::Time now = absl::Now());

}  // namespace asp::tls

#endif  // ASP_TLS_TLS_FILES_H_
