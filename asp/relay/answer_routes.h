// AnswerRoutes: where the relay sends each module's answers (docs/protocol.md §4, §9).
//
// An answer names its module ("<module>_sync " + Message), not an address. The relay
// remembers, per module name, the address that module last sent a datagram from (its
// socket's autobind address), and sends the module's answers there. A module that
// restarts gets a new address and is known by it from its first datagram on.
//
// Bounded: at most `capacity` modules are remembered; one more forgets the module heard
// from longest ago (an agent host runs a handful of modules; a flood of invented names
// costs a bounded table, and a real module is re-learned from its next datagram).
//
// Thread-safe: the socket reader remembers, the answer reader finds.
#ifndef ASP_RELAY_ANSWER_ROUTES_H_
#define ASP_RELAY_ANSWER_ROUTES_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asp::relay {

struct ModuleAddress {
  sockaddr_un address;
  socklen_t length = 0;
};

class AnswerRoutes {
 public:
  explicit AnswerRoutes(size_t capacity);

  // `module` sent from `address`. An unnamed sender (length too short to hold a name) is
  // not remembered: nothing could be sent back to it.
  void remember(absl::string_view module, const sockaddr_un& address, socklen_t length);

  std::optional<ModuleAddress> find(absl::string_view module) const;
  size_t size() const;

 private:
  using Order = std::list<std::string>;  // most recently heard first

  const size_t capacity_;
  mutable std::mutex mu_;
  Order order_;
  std::map<std::string, std::pair<ModuleAddress, Order::iterator>, std::less<>> routes_;
};

// The module an answer "<module>_sync <message>" is addressed to (a view into `answer`);
// InvalidArgument when the header is missing or the name is not a module name.
absl::StatusOr<absl::string_view> answerModule(absl::string_view answer);

}  // namespace asp::relay

#endif  // ASP_RELAY_ANSWER_ROUTES_H_
