// Helpers shared by the ManagerCore tests.
#ifndef ASP_MANAGER_CORE_TEST_UTIL_H_
#define ASP_MANAGER_CORE_TEST_UTIL_H_

#include <cstdint>
#include <vector>

#include "asp/manager/manager_core.h"
#include "gtest/gtest.h"

namespace asp::manager::core_testing {

// Sends End for `session` and returns the one answer (an empty message if not one).
inline wire::v1::Message endSession(ManagerCore& core, uint64_t session) {
  wire::v1::Message m;
  m.mutable_end()->set_session(session);
  std::vector<wire::v1::Message> answers = core.handle(m);
  EXPECT_EQ(answers.size(), 1u);
  return answers.size() == 1 ? answers[0] : wire::v1::Message();
}

}  // namespace asp::manager::core_testing

#endif  // ASP_MANAGER_CORE_TEST_UTIL_H_
