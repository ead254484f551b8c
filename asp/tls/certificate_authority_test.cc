#include "asp/tls/certificate_authority.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "asp/testing/temp_dir.h"
#include "asp/tls/tls_files.h"
#include "gtest/gtest.h"

namespace asp::tls {
namespace {

struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
using CertPtr = std::unique_ptr<X509, X509Free>;

CertPtr parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  CertPtr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

// OpenSSL's verdict on `leaf` against `ca` for `purpose`: X509_V_OK or the error code.
int verify(const std::string& leaf_pem, const std::string& ca_pem, int purpose) {
  CertPtr leaf = parse(leaf_pem);
  CertPtr ca = parse(ca_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  X509_STORE_CTX_init(context, store, leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(context, purpose);
  const int result = X509_verify_cert(context) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context);
  X509_STORE_CTX_free(context);
  X509_STORE_free(store);
  return result;
}

TEST(CertificateAuthority, AClientCertificateVerifiesAgainstItsCaForClientUse) {
  auto ca = CertificateAuthority::create("ASP test CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  auto client = ca->issue(clientCertificate("001"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(verify(client->certificate_pem, ca->certificatePem(), X509_PURPOSE_SSL_CLIENT),
            X509_V_OK);
  EXPECT_NE(verify(client->certificate_pem, ca->certificatePem(), X509_PURPOSE_SSL_SERVER),
            X509_V_OK)
      << "a client certificate is not a server certificate";
}

TEST(CertificateAuthority, AServerCertificateCarriesItsNamesAndAddresses) {
  auto ca = CertificateAuthority::create("ASP test CA");
  auto server = ca->issue(serverCertificate("manager", {"localhost"}, {"127.0.0.1", "::1"}));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(verify(server->certificate_pem, ca->certificatePem(), X509_PURPOSE_SSL_SERVER),
            X509_V_OK);
  CertPtr cert = parse(server->certificate_pem);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "elsewhere.example", 0, 0, nullptr), 0);
}

TEST(CertificateAuthority, ACertificateOfAnotherCaDoesNotVerify) {
  auto ca = CertificateAuthority::create("ASP test CA");
  auto other = CertificateAuthority::create("ASP test CA");  // same name, another key
  auto client = other->issue(clientCertificate("001"));
  EXPECT_NE(verify(client->certificate_pem, ca->certificatePem(), X509_PURPOSE_SSL_CLIENT),
            X509_V_OK);
}

TEST(CertificateAuthority, AnExpiredCertificateIsRefusedAsExpired) {
  auto ca = CertificateAuthority::create("ASP test CA");
  auto client = ca->issue(clientCertificate("001", expiredFor(absl::Hours(2))));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(verify(client->certificate_pem, ca->certificatePem(), X509_PURPOSE_SSL_CLIENT),
            X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(CertificateAuthority, BadRequestsAreRefusedNamingTheOffendingValue) {
  auto ca = CertificateAuthority::create("ASP test CA");
  auto empty = ca->issue(clientCertificate(""));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_ip = ca->issue(serverCertificate("m", {}, {"127.0.0.300"}));
  EXPECT_NE(bad_ip.status().message().find("'127.0.0.300'"), std::string::npos) << bad_ip.status();
  auto bad_dns = ca->issue(serverCertificate("m", {"a,IP:1.2.3.4"}, {}));
  EXPECT_NE(bad_dns.status().message().find("'a,IP:1.2.3.4'"), std::string::npos)
      << bad_dns.status();
  const absl::Time now = absl::Now();
  auto backwards = CertificateAuthority::create("ca", Validity{now, now - absl::Hours(1)});
  EXPECT_EQ(backwards.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CertificateAuthority, WrittenFilesLoadBackWithTheModeAskedFor) {
  testing::TempDir dir;
  auto ca = CertificateAuthority::create("ASP test CA");
  auto client = ca->issue(clientCertificate("agent-042"));
  ASSERT_TRUE(writePemFile(dir.file("ca.pem"), ca->certificatePem(), 0644).ok());
  ASSERT_TRUE(writePemFile(dir.file("client.pem"), client->certificate_pem, 0644).ok());
  ASSERT_TRUE(writePemFile(dir.file("client.key"), client->private_key_pem, 0600).ok());
  struct stat st;
  ASSERT_EQ(stat(dir.file("client.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto material =
      loadTlsMaterial({dir.file("client.pem"), dir.file("client.key"), dir.file("ca.pem")});
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_EQ(material->common_name, "agent-042");
  EXPECT_EQ(validityProblem(*material), "");
}

TEST(CertificateAuthority, WritingIntoAMissingDirectoryNamesThePath) {
  absl::Status s = writePemFile("/nonexistent-dir/ca.pem", "x", 0644);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("/nonexistent-dir/ca.pem"), std::string::npos) << s;
}

}  // namespace
}  // namespace asp::tls
