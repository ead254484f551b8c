#include "asp/relay/answer_routes.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"

namespace asp::relay {

AnswerRoutes::AnswerRoutes(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {}

void AnswerRoutes::remember(absl::string_view module, const sockaddr_un& address,
                            socklen_t length) {
  if (length <= static_cast<socklen_t>(sizeof(sa_family_t)) ||
      length > static_cast<socklen_t>(sizeof(sockaddr_un))) {
    return;
  }
  ModuleAddress route;
  std::memcpy(&route.address, &address, static_cast<size_t>(length));
  route.length = length;
  std::lock_guard<std::mutex> lock(mu_);
  auto found = routes_.find(module);
  if (found != routes_.end()) {
    found->second.first = route;
    order_.splice(order_.begin(), order_, found->second.second);
    return;
  }
  if (routes_.size() >= capacity_) {
    routes_.erase(order_.back());
    order_.pop_back();
  }
  order_.emplace_front(module);
  routes_.emplace(order_.front(), std::make_pair(route, order_.begin()));
}

std::optional<ModuleAddress> AnswerRoutes::find(absl::string_view module) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = routes_.find(module);
  if (found == routes_.end()) return std::nullopt;
  return found->second.first;
}

size_t AnswerRoutes::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return routes_.size();
}

absl::StatusOr<absl::string_view> answerModule(absl::string_view answer) {
  constexpr absl::string_view kSuffix = "_sync";
  // Module names have no spaces, so the first space ends the header.
  const size_t space = answer.find(' ');
  if (space == absl::string_view::npos || space < kSuffix.size() ||
      answer.substr(space - kSuffix.size(), kSuffix.size()) != kSuffix) {
    return absl::InvalidArgumentError(
        absl::StrCat("answer of ", answer.size(), " bytes has no '<module>_sync ' header"));
  }
  const absl::string_view module = answer.substr(0, space - kSuffix.size());
  if (absl::Status s = wire::validateModuleName(module); !s.ok()) return s;
  return module;
}

}  // namespace asp::relay
