#include "asp/tools/cli.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace asp::tools {
namespace {

absl::Duration parsed(const std::string& text) {
  DurationFlag flag;
  std::string error;
  EXPECT_TRUE(AbslParseFlag(text, &flag, &error)) << text << ": " << error;
  return flag.value;
}

std::string refusal(const std::string& text) {
  DurationFlag flag;
  std::string error;
  EXPECT_FALSE(AbslParseFlag(text, &flag, &error)) << text;
  return error;
}

TEST(DurationFlag, ReadsUnitsAndPlainSecondsAlike) {
  EXPECT_EQ(parsed("1s"), absl::Seconds(1));
  EXPECT_EQ(parsed("1"), absl::Seconds(1));
  EXPECT_EQ(parsed("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(parsed("0.5"), absl::Milliseconds(500));
  EXPECT_EQ(parsed("1m30s"), absl::Seconds(90));
  EXPECT_EQ(parsed("0"), absl::ZeroDuration());
}

TEST(DurationFlag, RefusesNegativeInfiniteAndGarbageNamingTheText) {
  EXPECT_NE(refusal("-1").find("'-1'"), std::string::npos);
  EXPECT_NE(refusal("-2s").find("'-2s'"), std::string::npos);
  EXPECT_NE(refusal("inf").find("'inf'"), std::string::npos);
  EXPECT_NE(refusal("soon").find("e.g. 1s, 500ms"), std::string::npos);
}

TEST(DurationFlag, PrintsBackInAbslSyntax) {
  EXPECT_EQ(AbslUnparseFlag(DurationFlag{absl::Milliseconds(1500)}), "1.5s");
}

TEST(UserPath, UnderBazelRunARelativePathIsRelativeToWhereTheCommandWasTyped) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/checkout", 1);
  EXPECT_EQ(userPath("queue.db"), "/home/me/checkout/queue.db");
  EXPECT_EQ(userPath("/var/q.db"), "/var/q.db");
  EXPECT_EQ(userPath(""), "");
  EXPECT_EQ(userPath("-"), "-") << "stdin stays stdin";
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(userPath("queue.db"), "queue.db");
}

TEST(AsksForHelp, EveryUsualSpellingCountsButNotAfterDoubleDash) {
  for (const char* spelling : {"--help", "-help", "-h", "--helpfull", "--helpshort"}) {
    char* argv[] = {const_cast<char*>("tool"), const_cast<char*>("status"),
                    const_cast<char*>(spelling)};
    EXPECT_TRUE(asksForHelp(3, argv)) << spelling;
  }
  char* argv[] = {const_cast<char*>("tool"), const_cast<char*>("--"), const_cast<char*>("--help")};
  EXPECT_FALSE(asksForHelp(3, argv));
}

TEST(IsUtf8, AcceptsUtf8AndRefusesLatin1AndSurrogates) {
  EXPECT_TRUE(isUtf8("caf\xc3\xa9"));
  EXPECT_FALSE(isUtf8("caf\xe9"));
  EXPECT_FALSE(isUtf8("\xed\xa0\x80"));  // U+D800 encoded
}

}  // namespace
}  // namespace asp::tools
