#include "asp/relay/answer_routes.h"

#include <cstring>

#include "gtest/gtest.h"

namespace asp::relay {
namespace {

// An abstract address like Linux autobind gives ("\0" + 5 hex digits).
std::pair<sockaddr_un, socklen_t> abstractAddress(const std::string& name) {
  sockaddr_un address;
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  return {address, static_cast<socklen_t>(sizeof(sa_family_t) + 1 + name.size())};
}

std::string nameOf(const ModuleAddress& route) {
  return std::string(route.address.sun_path + 1, route.length - sizeof(sa_family_t) - 1);
}

TEST(AnswerRoutes, AnswersGoWhereTheModuleLastSentFrom) {
  AnswerRoutes routes(8);
  auto [first, first_length] = abstractAddress("00001");
  auto [second, second_length] = abstractAddress("00002");
  routes.remember("fim", first, first_length);
  EXPECT_EQ(nameOf(*routes.find("fim")), "00001");
  routes.remember("fim", second, second_length);  // the module restarted
  EXPECT_EQ(nameOf(*routes.find("fim")), "00002");
  EXPECT_FALSE(routes.find("sca").has_value());
}

TEST(AnswerRoutes, AnUnnamedSenderIsNotRemembered) {
  AnswerRoutes routes(8);
  sockaddr_un unnamed;
  std::memset(&unnamed, 0, sizeof(unnamed));
  unnamed.sun_family = AF_UNIX;
  routes.remember("fim", unnamed, sizeof(sa_family_t));
  EXPECT_FALSE(routes.find("fim").has_value());
}

TEST(AnswerRoutes, BeyondCapacityTheModuleHeardFromLongestAgoIsForgotten) {
  AnswerRoutes routes(2);
  auto [a, a_length] = abstractAddress("0000a");
  routes.remember("fim", a, a_length);
  routes.remember("sca", a, a_length);
  routes.remember("fim", a, a_length);  // fim heard from again: sca is now the oldest
  routes.remember("inventory", a, a_length);
  EXPECT_TRUE(routes.find("fim").has_value());
  EXPECT_FALSE(routes.find("sca").has_value());
  EXPECT_TRUE(routes.find("inventory").has_value());
  EXPECT_EQ(routes.size(), 2u);
}

TEST(AnswerModule, TheHeaderNamesTheModule) {
  EXPECT_EQ(*answerModule("fim_sync \x08\x01"), "fim");
  EXPECT_EQ(*answerModule("a_sync_sync payload with spaces"), "a_sync")
      << "the first space ends the header";
}

TEST(AnswerModule, AnswersWithoutAValidHeaderAreRefused) {
  EXPECT_FALSE(answerModule("fim payload").ok());
  EXPECT_FALSE(answerModule("_sync payload").ok()) << "an empty module name";
  EXPECT_FALSE(answerModule("fim_sync").ok()) << "no space";
  EXPECT_FALSE(answerModule("f/m_sync x").ok());
  EXPECT_FALSE(answerModule("").ok());
}

}  // namespace
}  // namespace asp::relay
