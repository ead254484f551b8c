#include "asp/storage/id_filter.h"

#include <string>

#include "gtest/gtest.h"

namespace asp {
namespace {

TEST(IdFilterTest, EveryAddedIdIsFound) {
  IdFilter filter(1 << 20);
  for (int i = 0; i < 200000; ++i) filter.add("doc-" + std::to_string(i));
  for (int i = 0; i < 200000; ++i) {
    ASSERT_TRUE(filter.mayContain("doc-" + std::to_string(i))) << i;
  }
}

TEST(IdFilterTest, FalsePositivesStayRareAtTheDesignedLoad) {
  IdFilter filter(1 << 22);
  for (int i = 0; i < 500000; ++i) filter.add("file:/etc/" + std::to_string(i));
  int false_positives = 0;
  constexpr int kTries = 100000;
  for (int i = 0; i < kTries; ++i) {
    if (filter.mayContain("file:/usr/" + std::to_string(i))) ++false_positives;
  }
  EXPECT_LT(false_positives, kTries / 20) << "about 2% expected with 8 bits per id";
  EXPECT_GT(false_positives, 0) << "a filter this full cannot be exact";
}

TEST(IdFilterTest, ClearForgetsEverything) {
  IdFilter filter(4096);
  filter.add("a");
  ASSERT_TRUE(filter.mayContain("a"));
  filter.clear();
  EXPECT_FALSE(filter.mayContain("a"));
}

TEST(IdFilterTest, SizeIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(IdFilter(1).bits(), 64u);
  EXPECT_EQ(IdFilter(1000).bits(), 1024u);
  EXPECT_EQ(IdFilter(1 << 22).bits(), size_t{1} << 22);
}

}  // namespace
}  // namespace asp
