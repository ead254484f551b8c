#include "asp/storage/change_crc.h"

#include <string>

#include "gtest/gtest.h"

namespace asp {
namespace {

// The values files already hold: zlib's CRC-32 of len(id) id len(index) index op
// version data (numbers as 8 little-endian bytes), computed apart (Python's
// zlib.crc32). A change of the computation must not change them.
TEST(ChangeCrc, IsZlibsCrc32OfTheFieldsAsStoredFilesHoldIt) {
  EXPECT_EQ(changeCrc("id", "idx", 1, "data", 7), 0xb97ae398u);
  // A delete: no data (an empty view, whose pointer may be null).
  EXPECT_EQ(changeCrc("id", "idx", 1, absl::string_view(), 7), 0x02ec5584u);
  // An id too long for the head buffer on the stack: encoded on the heap, the same CRC.
  EXPECT_EQ(changeCrc(std::string(1000, 'i'), "files", 0, std::string(200, 'd'), 42), 0x7da7b350u);
}

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
