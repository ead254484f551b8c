#include "asp/base/checksum.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace asp {
namespace {

TEST(Checksum, Sha1HexMatchesKnownVectors) {
  EXPECT_EQ(sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Checksum, IndexChecksumIsShaOfSortedDocumentChecksums) {
  // sha1("b") = e9d71f5e..., sha1("a") = 86f7e437...: sorted, "a"'s comes first.
  IndexChecksum forward;
  forward.addDocument("a");
  forward.addDocument("b");
  IndexChecksum backward;
  backward.addDocument("b");
  backward.addDocument("a");
  const std::string expected = sha1Hex(sha1Hex("a") + sha1Hex("b"));
  EXPECT_EQ(forward.finish(), expected);
  EXPECT_EQ(backward.finish(), expected);
}

TEST(Checksum, OrderedIndexChecksumEqualsIndexChecksumAndRefusesDisorder) {
  IndexChecksum sorted_here;
  std::vector<std::string> checksums;
  for (const char* data : {"a", "b", "c", "d"}) {
    sorted_here.addDocument(data);
    checksums.push_back(sha1Hex(data));
  }
  std::sort(checksums.begin(), checksums.end());
  OrderedIndexChecksum streamed;
  for (const std::string& checksum : checksums) ASSERT_TRUE(streamed.add(checksum).ok());
  EXPECT_EQ(streamed.finish(), sorted_here.finish());

  OrderedIndexChecksum disordered;
  ASSERT_TRUE(disordered.add(checksums[1]).ok());
  absl::Status status = disordered.add(checksums[0]);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(checksums[0]), std::string::npos) << status;
  EXPECT_FALSE(OrderedIndexChecksum().add("not hex").ok());
  EXPECT_EQ(OrderedIndexChecksum().finish(), sha1Hex(""));
}

TEST(Checksum, EmptyIndexIsShaOfNothing) {
  IndexChecksum empty;
  EXPECT_EQ(empty.finish(), sha1Hex(""));
}

TEST(Checksum, RecognisesChecksums) {
  EXPECT_TRUE(isChecksum(sha1Hex("x")));
  EXPECT_FALSE(isChecksum("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"));
  EXPECT_FALSE(isChecksum("da39"));
  EXPECT_FALSE(isChecksum(""));
}

}  // namespace
}  // namespace asp
