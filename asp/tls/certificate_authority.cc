#include "asp/tls/certificate_authority.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asp/tls/openssl_error.h"

namespace asp::tls {
namespace {

struct OpenSslFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509_EXTENSION* ext) const { X509_EXTENSION_free(ext); }
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using CertPtr = std::unique_ptr<X509, OpenSslFree>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree>;

absl::Status openSslFailure(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", takeOpenSslErrors()));
}

absl::StatusOr<KeyPtr> newKey() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (key == nullptr) return openSslFailure("cannot generate an EC P-256 key");
  return key;
}

absl::Status checkValidity(const Validity& validity) {
  if (validity.not_after <= validity.not_before) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate validity ends (", absl::FormatTime(validity.not_after),
                     ") before it begins (", absl::FormatTime(validity.not_before), ")"));
  }
  return absl::OkStatus();
}

absl::Status checkCommonName(const std::string& common_name) {
  // RFC 5280's upper bound for a common name.
  if (common_name.empty() || common_name.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate common name '", common_name, "' must be 1 to 64 bytes"));
  }
  return absl::OkStatus();
}

// A DNS name as subjectAltName takes it: letters, digits, '-', '.', and a leading "*.".
absl::Status checkDnsName(const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '*';
      });
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a DNS name"));
  return absl::OkStatus();
}

absl::Status checkIpAddress(const std::string& address) {
  unsigned char buffer[16];
  if (inet_pton(AF_INET, address.c_str(), buffer) == 1 ||
      inet_pton(AF_INET6, address.c_str(), buffer) == 1) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not an IP address"));
}

absl::Status addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, OpenSslFree> extension(
      X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (extension == nullptr || X509_add_ext(cert, extension.get(), -1) != 1) {
    return openSslFailure(absl::StrCat("cannot add extension ", OBJ_nid2sn(nid), " = ", value));
  }
  return absl::OkStatus();
}

absl::Status setRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return openSslFailure("cannot draw a serial number");
  bytes[0] &= 0x7f;  // a positive INTEGER
  std::unique_ptr<BIGNUM, OpenSslFree> serial(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (serial == nullptr ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return openSslFailure("cannot set the serial number");
  }
  return absl::OkStatus();
}

// A certificate with everything but extensions and signature: version 3, a random
// serial, the subject CN, the validity, `key`'s public half, and the issuer's name
// (`issuer` null: self-issued).
absl::StatusOr<CertPtr> newCertificate(const std::string& common_name, const Validity& validity,
                                       EVP_PKEY* key, X509* issuer) {
  CertPtr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return openSslFailure("cannot create a certificate");
  }
  if (absl::Status s = setRandomSerial(cert.get()); !s.ok()) return s;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return openSslFailure(absl::StrCat("cannot set the common name '", common_name, "'"));
  }
  const X509_NAME* issuer_name = issuer != nullptr ? X509_get_subject_name(issuer) : subject;
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(validity.not_before)) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(validity.not_after)) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return openSslFailure("cannot fill the certificate");
  }
  return cert;
}

absl::StatusOr<std::string> keyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openSslFailure("cannot write the private key as PEM");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

absl::StatusOr<std::string> certificatePemOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return openSslFailure("cannot write the certificate as PEM");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string subjectAltNames(const CertificateRequest& request) {
  std::vector<std::string> names;
  for (const std::string& dns : request.dns_names) names.push_back("DNS:" + dns);
  for (const std::string& ip : request.ip_addresses) names.push_back("IP:" + ip);
  return absl::StrJoin(names, ",");
}

}  // namespace

Validity validFor(absl::Duration lifetime, absl::Time now) {
  return Validity{now - absl::Minutes(5), now + lifetime};
}

Validity expiredFor(absl::Duration ago, absl::Time now) {
  return Validity{now - ago - absl::Hours(24), now - ago};
}

CertificateRequest clientCertificate(const std::string& agent_id, Validity validity) {
  CertificateRequest request;
  request.common_name = agent_id;
  request.usage = CertificateUsage::kClient;
  request.validity = validity;
  return request;
}

CertificateRequest serverCertificate(const std::string& name, std::vector<std::string> dns_names,
                                     std::vector<std::string> ip_addresses, Validity validity) {
  CertificateRequest request;
  request.common_name = name;
  request.usage = CertificateUsage::kServer;
  request.dns_names = std::move(dns_names);
  request.ip_addresses = std::move(ip_addresses);
  request.validity = validity;
  return request;
}

struct CertificateAuthority::State {
  KeyPtr key;
  CertPtr cert;
};

CertificateAuthority::CertificateAuthority(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;
CertificateAuthority::~CertificateAuthority() = default;

absl::StatusOr<CertificateAuthority> CertificateAuthority::create(const std::string& common_name,
                                                                  Validity validity) {
  if (absl::Status s = checkCommonName(common_name); !s.ok()) return s;
  if (absl::Status s = checkValidity(validity); !s.ok()) return s;
  absl::StatusOr<KeyPtr> key = newKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<CertPtr> cert = newCertificate(common_name, validity, key->get(), nullptr);
  if (!cert.ok()) return cert.status();
  X509* ca = cert->get();
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                            {NID_subject_key_identifier, "hash"}}) {
    if (absl::Status s = addExtension(ca, ca, nid, value); !s.ok()) return s;
  }
  if (X509_sign(ca, key->get(), EVP_sha256()) <= 0)
    return openSslFailure("cannot sign the CA certificate");
  auto state = std::make_unique<State>();
  state->key = *std::move(key);
  state->cert = *std::move(cert);
  return CertificateAuthority(std::move(state));
}

std::string CertificateAuthority::certificatePem() const {
  return certificatePemOf(state_->cert.get()).value_or("");
}

absl::StatusOr<KeyAndCertificate> CertificateAuthority::issue(
    const CertificateRequest& request) const {
  if (absl::Status s = checkCommonName(request.common_name); !s.ok()) return s;
  if (absl::Status s = checkValidity(request.validity); !s.ok()) return s;
  for (const std::string& dns : request.dns_names) {
    if (absl::Status s = checkDnsName(dns); !s.ok()) return s;
  }
  for (const std::string& ip : request.ip_addresses) {
    if (absl::Status s = checkIpAddress(ip); !s.ok()) return s;
  }
  absl::StatusOr<KeyPtr> key = newKey();
  if (!key.ok()) return key.status();
  X509* issuer = state_->cert.get();
  absl::StatusOr<CertPtr> cert =
      newCertificate(request.common_name, request.validity, key->get(), issuer);
  if (!cert.ok()) return cert.status();
  const bool server = request.usage == CertificateUsage::kServer;
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, server ? "serverAuth" : "clientAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  const std::string alt_names = subjectAltNames(request);
  if (!alt_names.empty()) extensions.push_back({NID_subject_alt_name, alt_names});
  for (const auto& [nid, value] : extensions) {
    if (absl::Status s = addExtension(cert->get(), issuer, nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert->get(), state_->key.get(), EVP_sha256()) <= 0) {
    return openSslFailure(
        absl::StrCat("cannot sign the certificate of '", request.common_name, "'"));
  }
  absl::StatusOr<std::string> key_pem = keyPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<std::string> cert_pem = certificatePemOf(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  return KeyAndCertificate{*std::move(key_pem), *std::move(cert_pem)};
}

absl::Status writePemFile(const std::string& path, const std::string& pem, unsigned mode) {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create '", temporary, "': ", std::strerror(errno)));
  }
  // open() applies the umask; the mode asked for is the mode wanted.
  bool ok = fchmod(fd, mode) == 0;
  size_t written = 0;
  while (ok && written < pem.size()) {
    const ssize_t n = write(fd, pem.data() + written, pem.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  const int error = errno;
  ok = (close(fd) == 0) && ok;
  if (!ok || rename(temporary.c_str(), path.c_str()) != 0) {
    const int reason = ok ? errno : error;
    unlink(temporary.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(reason)));
  }
  return absl::OkStatus();
}

}  // namespace asp::tls
