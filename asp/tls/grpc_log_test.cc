#include "asp/tls/grpc_log.h"

#include "gtest/gtest.h"

namespace asp::tls {
namespace {

TEST(DescribeGrpcLogLine, AClientWithoutCertificateIsNamedAsSuch) {
  EXPECT_EQ(
      describeGrpcLogLine("Handshake failed with fatal error SSL_ERROR_SSL: error:0A0000C7:SSL "
                          "routines::peer did not return a certificate."),
      "TLS handshake refused: SSL_ERROR_SSL: error:0A0000C7:SSL routines::peer did not return a "
      "certificate (the peer presented no certificate)");
}

TEST(DescribeGrpcLogLine, AFailedVerificationListsWhatUsuallyCausesIt) {
  const std::string line = describeGrpcLogLine(
      "Handshake failed with fatal error SSL_ERROR_SSL: error:0A000086:SSL routines::certificate "
      "verify failed.");
  EXPECT_EQ(line.rfind("TLS handshake refused: SSL_ERROR_SSL", 0), 0u) << line;
  EXPECT_NE(line.find("not signed by the trusted CA, or is expired"), std::string::npos) << line;
}

TEST(DescribeGrpcLogLine, OtherLinesKeepTheirTextBehindAPrefix) {
  EXPECT_EQ(describeGrpcLogLine("Failed to add :: listener"), "grpc: Failed to add :: listener");
}

}  // namespace
}  // namespace asp::tls
