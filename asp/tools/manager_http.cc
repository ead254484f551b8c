#include "asp/tools/manager_http.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, http_listen, "",
          "Serve Prometheus metrics (/metrics) and a status page (/) over HTTP on HOST:PORT, "
          "e.g. 127.0.0.1:9100 (a bare port means loopback); empty: off.");

namespace asp::tools {
namespace {

manager::ManagerFigures figures(const ManagerObservables& o) {
  manager::ManagerFigures f;
  f.core = o.server->core().counters();
  f.active_sessions = o.server->core().activeSessions();
  f.buffered_bytes = o.server->core().bufferedBytes();
  f.store = o.measured->stats();
  const manager::ManagerServer::Counters socket = o.server->counters();
  f.bindings.push_back({"socket", socket.datagrams, socket.bad_datagrams, socket.answers_sent});
  if (o.relay != nullptr) {
    const manager::RelayEndpoint::Counters relay = o.relay->counters();
    f.bindings.push_back({"relay", relay.datagrams, relay.bad_datagrams, relay.answers});
    f.relay_streams = relay.streams;
  }
  return f;
}

std::string page(const ManagerObservables& o) {
  manager::StatusView view;
  view.state = o.state;
  view.figures = figures(o);
  absl::StatusOr<std::vector<manager::ModuleSummary>> modules = o.reader->modules();
  if (modules.ok()) {
    view.modules = *std::move(modules);
  } else {
    view.modules_error = std::string(modules.status().message());
  }
  view.failures = o.failures->entries();
  return manager::statusPage(view);
}

}  // namespace

bool httpRequested() { return !absl::GetFlag(FLAGS_http_listen).empty(); }

absl::StatusOr<std::unique_ptr<manager::HttpEndpoint>> startHttpFromFlags(
    const ManagerObservables& observables) {
  manager::HttpEndpoint::Options options;
  options.listen = absl::GetFlag(FLAGS_http_listen);
  options.metrics = [observables] { return manager::prometheusText(figures(observables)); };
  options.status_page = [observables] { return page(observables); };
  absl::StatusOr<std::unique_ptr<manager::HttpEndpoint>> endpoint =
      manager::HttpEndpoint::start(std::move(options));
  if (!endpoint.ok()) {
    return absl::Status(endpoint.status().code(),
                        absl::StrCat("--http_listen: ", endpoint.status().message()));
  }
  return endpoint;
}

}  // namespace asp::tools
