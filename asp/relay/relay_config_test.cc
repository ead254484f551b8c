#include "asp/relay/relay_config.h"

#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::relay {
namespace {

TEST(ParseConfig, KeysAndValuesAreTrimmedCommentsAndBlankLinesSkipped) {
  auto entries = parseConfig(
      "# the relay\n\n  socket = /var/ossec/queue/sockets/queue  \nmanagers=a:1, b:2\nserver_name "
      "= x=y\n",
      "relay.conf");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].key, "socket");
  EXPECT_EQ((*entries)[0].value, "/var/ossec/queue/sockets/queue");
  EXPECT_EQ((*entries)[0].line, 3);
  EXPECT_EQ((*entries)[1].value, "a:1, b:2");
  EXPECT_EQ((*entries)[2].value, "x=y") << "a value may contain '='";
}

TEST(ParseConfig, ALineWithoutEqualsNamesTheFileAndLine) {
  auto entries = parseConfig("socket = /q\nmanagers a:1\n", "/etc/asp/relay.conf");
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(entries.status().message(),
            "/etc/asp/relay.conf:2: expected 'key = value', got 'managers a:1'");
}

TEST(ParseConfig, BadAndRepeatedKeysAreRefused) {
  EXPECT_NE(parseConfig("Socket = x\n", "f").status().message().find("'Socket' is not a key"),
            std::string::npos);
  EXPECT_NE(parseConfig("= x\n", "f").status().message().find("is not a key"), std::string::npos);
  EXPECT_NE(parseConfig("cert = a\ncert = b\n", "f")
                .status()
                .message()
                .find("f:2: 'cert' is given twice"),
            std::string::npos);
}

TEST(ReadConfigFile, AMissingFileIsNotFoundAndNamed) {
  auto entries = readConfigFile("/nonexistent/relay.conf");
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(entries.status().message().find("/nonexistent/relay.conf"), std::string::npos);
}

TEST(ReadConfigFile, ReadsAFile) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::writeFile(dir.file("relay.conf"), "cert = /etc/asp/relay.pem\n"));
  auto entries = readConfigFile(dir.file("relay.conf"));
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ((*entries)[0].value, "/etc/asp/relay.pem");
}

TEST(ConfigFileArgument, FindsEitherSpelling) {
  EXPECT_EQ(configFileArgument({"asp_relay", "--config=/etc/asp/relay.conf"}),
            "/etc/asp/relay.conf");
  EXPECT_EQ(configFileArgument({"asp_relay", "-config", "/c"}), "/c");
  EXPECT_EQ(configFileArgument({"asp_relay", "--cert=x"}), std::nullopt);
  EXPECT_EQ(configFileArgument({"asp_relay", "--", "--config=x"}), std::nullopt);
}

TEST(SplitList, DropsSpacesAndEmptyItems) {
  EXPECT_EQ(splitList(" a:1, b:2,,c:3 "), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_TRUE(splitList("").empty());
}

}  // namespace
}  // namespace asp::relay
