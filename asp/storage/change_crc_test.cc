#include "asp/storage/change_crc.h"

#include <string>

#include "gtest/gtest.h"

namespace asp {
namespace {

TEST(ChangeCrc, EveryFieldCounts) {
  const uint32_t base = changeCrc("id", "idx", 1, "data", 7);
  EXPECT_EQ(changeCrc("id", "idx", 1, "data", 7), base);
  EXPECT_NE(changeCrc("iD", "idx", 1, "data", 7), base);
  EXPECT_NE(changeCrc("id", "idy", 1, "data", 7), base);
  EXPECT_NE(changeCrc("id", "idx", 2, "data", 7), base);
  EXPECT_NE(changeCrc("id", "idx", 1, "Data", 7), base);
  EXPECT_NE(changeCrc("id", "idx", 1, "data", 8), base);
}

TEST(ChangeCrc, ShiftingBytesBetweenFieldsChangesIt) {
  EXPECT_NE(changeCrc("ab", "c", 1, "", 0), changeCrc("a", "bc", 1, "", 0));
  EXPECT_NE(changeCrc("a", "b", 1, "cd", 0), changeCrc("a", "bc", 1, "d", 0));
}

TEST(ChangeCrc, AnyOneBitFlipInTheDataIsDetected) {
  std::string data(1000, 'x');
  const uint32_t good = changeCrc("id", "idx", 1, data, 1);
  for (size_t byte = 0; byte < data.size(); byte += 37) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = data;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      EXPECT_NE(changeCrc("id", "idx", 1, damaged, 1), good) << byte << ":" << bit;
    }
  }
}

}  // namespace
}  // namespace asp
