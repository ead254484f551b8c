#include "asp/tls/tls_files.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "asp/tls/openssl_error.h"

namespace asp::tls {
namespace {

constexpr size_t kMaxPemFileBytes = 1 << 20;

struct OpenSslFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using CertPtr = std::unique_ptr<X509, OpenSslFree>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree>;

absl::Status unreadable(const std::string& what, const std::string& path, int error) {
  const std::string message =
      absl::StrCat("cannot read ", what, " '", path, "': ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

absl::StatusOr<std::string> readPemFile(const std::string& what, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("no ", what, " file given"));
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unreadable(what, path, errno);
  std::string bytes(kMaxPemFileBytes + 1, '\0');
  size_t size = 0;
  while (size < bytes.size()) {
    const ssize_t n = read(fd, bytes.data() + size, bytes.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return unreadable(what, path, error);
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  close(fd);
  if (size > kMaxPemFileBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " '", path, "' is larger than ", kMaxPemFileBytes, " bytes"));
  }
  bytes.resize(size);
  return bytes;
}

BioPtr memoryBio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// The first certificate in `pem`.
absl::StatusOr<CertPtr> firstCertificate(const std::string& what, const std::string& path,
                                         const std::string& pem) {
  ERR_clear_error();
  BioPtr bio = memoryBio(pem);
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "' holds no PEM certificate: ", takeOpenSslErrors()));
  }
  return cert;
}

absl::StatusOr<KeyPtr> privateKey(const std::string& path, const std::string& pem) {
  ERR_clear_error();
  BioPtr bio = memoryBio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "private key '", path, "' holds no usable PEM private key: ", takeOpenSslErrors()));
  }
  return key;
}

absl::Time asn1Time(const ASN1_TIME* time) {
  struct tm broken;
  if (ASN1_TIME_to_tm(time, &broken) != 1) return absl::InfinitePast();
  return absl::FromTM(broken, absl::UTCTimeZone());
}

std::string commonName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at < 0) return "";
  ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) return "";
  std::string name(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return name;
}

}  // namespace

absl::StatusOr<TlsMaterial> loadTlsMaterial(const TlsFilePaths& paths) {
  TlsMaterial material;
  material.paths = paths;
  absl::StatusOr<std::string> cert_pem = readPemFile("certificate", paths.certificate);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = readPemFile("private key", paths.private_key);
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<std::string> ca_pem = readPemFile("CA certificate", paths.trusted_ca);
  if (!ca_pem.ok()) return ca_pem.status();

  absl::StatusOr<CertPtr> cert = firstCertificate("certificate", paths.certificate, *cert_pem);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<KeyPtr> key = privateKey(paths.private_key, *key_pem);
  if (!key.ok()) return key.status();
  absl::StatusOr<CertPtr> ca = firstCertificate("CA certificate", paths.trusted_ca, *ca_pem);
  if (!ca.ok()) return ca.status();
  ERR_clear_error();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("private key '", paths.private_key,
                                                   "' does not belong to certificate '",
                                                   paths.certificate, "': ", takeOpenSslErrors()));
  }
  material.common_name = commonName(cert->get());
  material.not_before = asn1Time(X509_get0_notBefore(cert->get()));
  material.not_after = asn1Time(X509_get0_notAfter(cert->get()));
  material.certificate_pem = *std::move(cert_pem);
  material.private_key_pem = *std::move(key_pem);
  material.trusted_ca_pem = *std::move(ca_pem);
  return material;
}

std::string validityProblem(const TlsMaterial& material, absl::Time now) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  constexpr char kFormat[] = "%Y-%m-%d %H:%M:%S UTC";
  if (now > material.not_after) {
    return absl::StrCat("certificate '", material.paths.certificate, "' expired on ",
                        absl::FormatTime(kFormat, material.not_after, utc));
  }
  if (now < material.not_before) {
    return absl::StrCat("certificate '", material.paths.certificate, "' is not valid before ",
                        absl::FormatTime(kFormat, material.not_before, utc));
  }
  return "";
}

}  // namespace asp::tls
