// The relay's configuration file: one "key = value" per line, the keys being asp_relay's
// flag names, so a file and a command line say the same things the same way:
//
//   # /etc/asp/relay.conf
//   socket = /var/ossec/queue/sockets/queue
//   managers = manager-1.example:7443, manager-2.example:7443
//   cert = /etc/asp/relay.pem
//
// Blank lines and lines starting with '#' are ignored; spaces around keys and values are
// trimmed; a value may contain '='. Flags given on the command line override the file.
//
// Thread-safe: pure functions.
#ifndef ASP_RELAY_RELAY_CONFIG_H_
#define ASP_RELAY_RELAY_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asp::relay {

struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;
};

// The entries of `text`, in order. InvalidArgument naming `source` and the line for a line
// that is not "key = value", a key that is not lowercase letters, digits and '_', or a
// key given twice.
absl::StatusOr<std::vector<ConfigEntry>> parseConfig(absl::string_view text,
                                                     const std::string& source);

// The same for a file; NotFound / FailedPrecondition naming it when it cannot be read or
// is over 1 MiB.
absl::StatusOr<std::vector<ConfigEntry>> readConfigFile(const std::string& path);

// The value of "--config=FILE" or "--config FILE" (or one dash) among `args`, if any.
std::optional<std::string> configFileArgument(const std::vector<std::string>& args);

// "a:1, b:2,c:3" -> {"a:1", "b:2", "c:3"}; empty items are dropped.
std::vector<std::string> splitList(absl::string_view list);

}  // namespace asp::relay

#endif  // ASP_RELAY_RELAY_CONFIG_H_
