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
