// CertificateAuthority: a throwaway certificate authority that signs the server and
// client certificates of the relay binding (docs/protocol.md §9), with OpenSSL's libcrypto.
//
// For asp_demo (which crosses hosts over loopback with no setup) and for tests, which
// also need certificates that must be refused: expired ones, not yet valid ones, and
// ones from another authority. A fleet uses its own PKI (docs/deployment.md shows the
// openssl commands); nothing here is meant to replace it.
//
// Keys are ECDSA P-256, signatures SHA-256, serial numbers 128 random bits. The CA
// certificate is X.509 v3 with basicConstraints CA:TRUE (critical) and keyUsage
// keyCertSign; a leaf has CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
// serverAuth or clientAuth, its subjectAltName entries, and the subject common name
// that names it (for a client: the agent id the manager will hold it to).
//
// Validity dates are calendar dates, so they come from the caller (absl::Now() for a
// real one), not from asp::Clock, whose time is monotonic.
//
// Thread-compatible: one thread at a time per object; separate objects are independent.
#ifndef ASP_TLS_CERTIFICATE_AUTHORITY_H_
#define ASP_TLS_CERTIFICATE_AUTHORITY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace asp::tls {

struct Validity {
  absl::Time not_before;
  absl::Time not_after;
};

// From five minutes before `now` (clocks of two hosts differ a little) to `now + lifetime`.
Validity validFor(absl::Duration lifetime, absl::Time now = absl::Now());
// A certificate that expired `ago` before `now` (it was valid for the day before that).
Validity expiredFor(absl::Duration ago, absl::Time now = absl::Now());

// A private key and its certificate, both PEM.
struct KeyAndCertificate {
  std::string private_key_pem;  // PKCS#8, unencrypted
  std::string certificate_pem;
};

enum class CertificateUsage { kServer, kClient };

struct CertificateRequest {
  std::string common_name;  // subject CN; a client's is its agent id
  CertificateUsage usage = CertificateUsage::kClient;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, e.g. "127.0.0.1"
  Validity validity = validFor(absl::Hours(24 * 30));
};

// A client certificate for the agent `agent_id` (its subject common name).
CertificateRequest clientCertificate(const std::string& agent_id,
                                     Validity validity = validFor(absl::Hours(24 * 30)));
// A server certificate named `name`, valid for the DNS names and IP addresses given.
CertificateRequest serverCertificate(const std::string& name, std::vector<std::string> dns_names,
                                     std::vector<std::string> ip_addresses,
                                     Validity validity = validFor(absl::Hours(24 * 30)));

class CertificateAuthority {
 public:
  // A new key pair and a self-signed CA certificate named `common_name`.
  // InvalidArgument for an empty name or a validity that ends before it begins;
  // Internal (with OpenSSL's reason) when OpenSSL fails.
  static absl::StatusOr<CertificateAuthority> create(
      const std::string& common_name, Validity validity = validFor(absl::Hours(24 * 365)));

  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;
  ~CertificateAuthority();

  // The CA certificate (what peers trust), PEM.
  std::string certificatePem() const;

  // A new key pair and a certificate for it, signed by this authority. InvalidArgument
  // for an empty common name, an IP address that does not parse, or a validity that ends
  // before it begins; Internal (with OpenSSL's reason) when OpenSSL fails.
  absl::StatusOr<KeyAndCertificate> issue(const CertificateRequest& request) const;

 private:
  struct State;
  explicit CertificateAuthority(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

// Writes `pem` to `path` (replaced atomically: a temporary file renamed over it) with
// permission bits `mode` (0600 for keys, 0644 for certificates).
absl::Status writePemFile(const std::string& path, const std::string& pem, unsigned mode);

}  // namespace asp::tls

#endif  // ASP_TLS_CERTIFICATE_AUTHORITY_H_
