#include "asp/tls/tls_files.h"

#include <string>

#include "asp/testing/temp_dir.h"
#include "asp/tls/certificate_authority.h"
#include "gtest/gtest.h"

namespace asp::tls {
namespace {

using testing::writeFile;

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CertificateAuthority::create("ASP test CA");
    ASSERT_TRUE(ca.ok());
    ca_pem_ = ca->certificatePem();
    mine_ = *ca->issue(clientCertificate("001"));
    other_ = *ca->issue(clientCertificate("002"));
    paths_ = {dir_.file("relay.pem"), dir_.file("relay.key"), dir_.file("ca.pem")};
    ASSERT_TRUE(writeFile(paths_.certificate, mine_.certificate_pem));
    ASSERT_TRUE(writeFile(paths_.private_key, mine_.private_key_pem));
    ASSERT_TRUE(writeFile(paths_.trusted_ca, ca_pem_));
  }

  testing::TempDir dir_;
  std::string ca_pem_;
  KeyAndCertificate mine_;
  KeyAndCertificate other_;
  TlsFilePaths paths_;
};

TEST_F(TlsFilesTest, MatchingFilesLoadWithTheCommonNameAndValidity) {
  auto material = loadTlsMaterial(paths_);
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_EQ(material->common_name, "001");
  EXPECT_EQ(material->certificate_pem, mine_.certificate_pem);
  EXPECT_LT(material->not_before, absl::Now());
  EXPECT_GT(material->not_after, absl::Now());
}

TEST_F(TlsFilesTest, AMissingFileIsNotFoundAndNamed) {
  paths_.trusted_ca = dir_.file("missing-ca.pem");
  auto material = loadTlsMaterial(paths_);
  EXPECT_EQ(material.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(material.status().message().find("missing-ca.pem"), std::string::npos)
      << material.status();
}

TEST_F(TlsFilesTest, ACertificateFileWithoutACertificateNamesTheFileAndOpenSslsReason) {
  ASSERT_TRUE(writeFile(paths_.certificate, "not a certificate\n"));
  auto material = loadTlsMaterial(paths_);
  EXPECT_EQ(material.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(material.status().message().find("relay.pem"), std::string::npos) << material.status();
  EXPECT_NE(material.status().message().find("no start line"), std::string::npos)
      << material.status();
}

TEST_F(TlsFilesTest, AKeyFileHoldingACertificateIsRefused) {
  ASSERT_TRUE(writeFile(paths_.private_key, mine_.certificate_pem));
  auto material = loadTlsMaterial(paths_);
  EXPECT_EQ(material.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(material.status().message().find("relay.key"), std::string::npos) << material.status();
}

TEST_F(TlsFilesTest, TheKeyOfAnotherCertificateIsRefusedNamingBothFiles) {
  ASSERT_TRUE(writeFile(paths_.private_key, other_.private_key_pem));
  auto material = loadTlsMaterial(paths_);
  EXPECT_EQ(material.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(material.status().message().find("'" + paths_.private_key +
                                             "' does not belong to certificate '" +
                                             paths_.certificate + "'"),
            std::string::npos)
      << material.status();
}

TEST_F(TlsFilesTest, ADirectoryInsteadOfAFileIsNamed) {
  paths_.certificate = dir_.path();
  auto material = loadTlsMaterial(paths_);
  EXPECT_FALSE(material.ok());
  EXPECT_NE(material.status().message().find(dir_.path()), std::string::npos) << material.status();
}

TEST_F(TlsFilesTest, AnExpiredCertificateLoadsButItsValidityProblemNamesTheFileAndDate) {
  auto ca = CertificateAuthority::create("ASP test CA");
  const absl::Time now =
      absl::FromCivil(absl::CivilSecond(2030, 6, 1, 12, 0, 0), absl::UTCTimeZone());
  auto expired = ca->issue(clientCertificate("001", expiredFor(absl::Hours(12), now)));
  ASSERT_TRUE(writeFile(paths_.certificate, expired->certificate_pem));
  ASSERT_TRUE(writeFile(paths_.private_key, expired->private_key_pem));
  auto material = loadTlsMaterial(paths_);
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_EQ(validityProblem(*material, now),
            "certificate '" + paths_.certificate + "' expired on 2030-06-01 00:00:00 UTC");
  EXPECT_NE(validityProblem(*material, now - absl::Hours(48)).find("is not valid before"),
            std::string::npos);
}

}  // namespace
}  // namespace asp::tls
