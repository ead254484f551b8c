// asp_manager's --http_listen: Prometheus metrics (/metrics) and the status page (/)
// for operators, kept out of manager_main.cc. See docs/manager.md "Watching a manager".
#ifndef ASP_TOOLS_MANAGER_HTTP_H_
#define ASP_TOOLS_MANAGER_HTTP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "asp/manager/http_endpoint.h"
#include "asp/manager/manager_metrics.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/relay_endpoint.h"
#include "asp/manager/status_page.h"

namespace asp::tools {

// What the pages show; everything outlives the endpoint.
struct ManagerObservables {
  manager::ManagerServer* server = nullptr;
  const manager::RelayEndpoint* relay = nullptr;  // null without --relay_listen
  const manager::MeasuredStateStore* measured = nullptr;
  const manager::RecentFailures* failures = nullptr;
  // The store the status page reads, on its own connection where the store has one so
  // that a page never waits behind a session's apply (or the other way round).
  manager::StateStore* reader = nullptr;
  std::string state;  // where the state lives, for the page
};

// Whether --http_listen asks for the endpoint.
bool httpRequested();

// Starts the endpoint --http_listen names; errors name the flag (AlreadyExists: the port
// is in use).
absl::StatusOr<std::unique_ptr<manager::HttpEndpoint>> startHttpFromFlags(
    const ManagerObservables& observables);

}  // namespace asp::tools

#endif  // ASP_TOOLS_MANAGER_HTTP_H_
