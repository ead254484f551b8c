#include "asp/base/text.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace asp {
namespace {

TEST(FirstInvalidUtf8, AcceptsWellFormedText) {
  for (const std::string& ok :
       {std::string(""), std::string("states-fim-files"), std::string("caf\xc3\xa9"),
        std::string("\xe2\x82\xac 10"), std::string("\xf0\x9f\x98\x80"),
        std::string("\xef\xbf\xbf"), std::string("\xf4\x8f\xbf\xbf")}) {
    EXPECT_EQ(firstInvalidUtf8(ok), std::nullopt) << quoteValue(ok);
  }
}

TEST(FirstInvalidUtf8, NamesTheFirstOffendingByte) {
  struct Case {
    std::string text;
    size_t offset;
  };
  for (const Case& c : std::vector<Case>{
           {"caf\xe9.txt", 3},       // Latin-1, as Linux file names often are
           {"ab\xc3", 2},            // truncated sequence
           {"\xc0\xaf", 0},          // overlong '/'
           {"x\xe0\x80\xaf", 1},     // overlong, three bytes
           {"\xed\xa0\x80", 0},      // a surrogate
           {"\xf4\x90\x80\x80", 0},  // above U+10FFFF
           {"ok\xff", 2},
           {"\xe2\x82", 0},
       }) {
    EXPECT_EQ(firstInvalidUtf8(c.text), c.offset) << quoteValue(c.text);
  }
}

TEST(CheckUtf8, TheErrorSaysWhereAndHow) {
  absl::Status s = checkUtf8("change id", "caf\xe9.txt");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("change id is not valid UTF-8: byte 3 (0xe9)"), std::string::npos)
      << s;
  EXPECT_NE(s.message().find("'caf\\xe9.txt'"), std::string::npos) << s;
  EXPECT_TRUE(checkUtf8("index", "states").ok());
}

TEST(Quoted, CutsLongValuesAndEscapesBytes) {
  EXPECT_EQ(quoteValue("a\nb"), "'a\\nb'");
  const std::string huge(70000, 'x');
  const std::string q = quoteValue(huge);
  EXPECT_LT(q.size(), 120u);
  EXPECT_NE(q.find("(70000 bytes)"), std::string::npos) << q;
}

}  // namespace
}  // namespace asp
