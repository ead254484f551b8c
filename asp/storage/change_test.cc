#include "asp/storage/change.h"

#include <string>

#include "gtest/gtest.h"

namespace asp {
namespace {

Change change(std::string id, std::string index, Operation op, size_t data_bytes) {
  return Change{std::move(id), std::move(index), op, std::string(data_bytes, 'd'), 1};
}

TEST(ValidateChange, AcceptsAnOrdinaryChange) {
  EXPECT_TRUE(validateChange(change("a", "idx", Operation::kCreate, 100), {}).ok());
}

TEST(ValidateChange, RejectsEmptyIdAndIndex) {
  absl::Status no_id = validateChange(change("", "idx", Operation::kCreate, 1), {});
  EXPECT_EQ(no_id.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_id.message().find("id is empty"), absl::string_view::npos) << no_id;

  absl::Status no_index = validateChange(change("file-1", "", Operation::kCreate, 1), {});
  EXPECT_EQ(no_index.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_index.message().find("file-1"), absl::string_view::npos) << no_index;
}

// docs/protocol.md §2: a peer rejects a frame holding a string that is not UTF-8, so such a
// change must never enter the queue (it would block every later session).
TEST(ValidateChange, RejectsAnIdOrIndexThatIsNotUtf8NamingTheByte) {
  absl::Status id = validateChange(change("caf\xe9.txt", "idx", Operation::kCreate, 1), {});
  EXPECT_EQ(id.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(id.message().find("change id is not valid UTF-8: byte 3 (0xe9)"),
            absl::string_view::npos)
      << id;
  absl::Status index = validateChange(change("a",
                                             "st\xff"
                                             "ates",
                                             Operation::kCreate, 1),
                                      {});
  EXPECT_EQ(index.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(index.message().find("byte 2 (0xff)"), absl::string_view::npos) << index;
  EXPECT_TRUE(validateChange(change("caf\xc3\xa9.txt", "idx", Operation::kCreate, 1), {}).ok());
}

TEST(ValidateChange, AHugeIdIsNotEchoedWhole) {
  absl::Status s =
      validateChange(change(std::string(70000, 'i'), "idx", Operation::kModify, 1), {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(s.message().size(), 400u) << s.message().substr(0, 400);
  EXPECT_NE(s.message().find("(70000 bytes)"), absl::string_view::npos);
}

TEST(ValidateChange, RejectsUnknownOperation) {
  absl::Status s = validateChange(change("a", "idx", static_cast<Operation>(7), 1), {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown operation 7"), absl::string_view::npos) << s;
}

TEST(ValidateChange, RejectsDataTooLargeForAFrameNamingTheSizes) {
  absl::Status s = validateChange(change("big", "idx", Operation::kModify, 70000), {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("70000 bytes of data"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("frame budget is 61440"), absl::string_view::npos) << s;
}

TEST(ValidateChange, TheLargestChangeThatFitsIsAcceptedAndOneMoreByteIsNot) {
  const ChangeLimits limits = ChangeLimits::forModule("fim", 61440);
  // Header 6 + worst-case encoding overhead; find the boundary by search.
  size_t fits = 0;
  for (size_t data = 61000; data < 61440; ++data) {
    if (validateChange(change("a", "idx", Operation::kCreate, data), limits).ok()) fits = data;
  }
  ASSERT_GT(fits, 61000u);
  EXPECT_FALSE(validateChange(change("a", "idx", Operation::kCreate, fits + 1), limits).ok());
  EXPECT_EQ(limits.header_bytes + wire::singleValueMessageBytes(1, 3, fits), 61440u)
      << "the boundary is exactly the budget";
}

TEST(OperationName, NamesEveryOperation) {
  EXPECT_EQ(operationName(Operation::kCreate), "create");
  EXPECT_EQ(operationName(Operation::kModify), "modify");
  EXPECT_EQ(operationName(Operation::kDelete), "delete");
  EXPECT_EQ(operationName(static_cast<Operation>(9)), "operation(9)");
}

}  // namespace
}  // namespace asp
