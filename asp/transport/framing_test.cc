#include "asp/transport/framing.h"

#include "gtest/gtest.h"

namespace asp::framing {
namespace {

TEST(Framing, AgentFrameRoundTrips) {
  const std::string message("\x0a\x03\x00\xff", 4);
  absl::StatusOr<std::string> frame = encodeAgentFrame("fim", message);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, "s:fim:" + message);
  absl::StatusOr<AgentFrame> decoded = decodeAgentFrame(*frame);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->module, "fim");
  EXPECT_EQ(decoded->message, message);
}

TEST(Framing, ManagerFrameRoundTrips) {
  absl::StatusOr<std::string> frame = encodeManagerFrame("syscollector", "abc");
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, "syscollector_sync abc");
  absl::StatusOr<absl::string_view> message = decodeManagerFrame("syscollector", *frame);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(*message, "abc");
}

TEST(Framing, AFrameOfExactly65536BytesIsAllowedAndOneMoreIsNot) {
  const std::string fits(65536 - 6, 'x');
  EXPECT_TRUE(encodeAgentFrame("fim", fits).ok());
  absl::StatusOr<std::string> too_big = encodeAgentFrame("fim", fits + "x");
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("65537"), absl::string_view::npos) << too_big.status();
}

TEST(Framing, RefusesBadModuleNames) {
  EXPECT_FALSE(encodeAgentFrame("", "x").ok());
  EXPECT_FALSE(encodeAgentFrame("a:b", "x").ok());
  EXPECT_FALSE(encodeManagerFrame(std::string(65, 'm'), "x").ok());
}

TEST(Framing, RefusesMalformedAgentFrames) {
  for (const char* bad : {"", "s", "s:", "x:fim:abc", "s:fim", "s::abc", "s:f m:abc"}) {
    EXPECT_FALSE(decodeAgentFrame(bad).ok()) << bad;
  }
  EXPECT_FALSE(decodeAgentFrame("s:" + std::string(70, 'm') + ":abc").ok());
}

TEST(Framing, RefusesAnswersForAnotherModule) {
  EXPECT_FALSE(decodeManagerFrame("fim", "sca_sync abc").ok());
  EXPECT_FALSE(decodeManagerFrame("fim", "fim_syncabc").ok());
  EXPECT_TRUE(decodeManagerFrame("fim", "fim_sync ").ok())
      << "an empty message is the caller's problem";
}

}  // namespace
}  // namespace asp::framing
