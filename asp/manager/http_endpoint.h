// HttpEndpoint: the manager's HTTP listener for operators (cpp-httplib): GET /metrics
// answers Prometheus text, GET / the status page. Read-only: nothing here changes state.
//
// Listens on one address ("127.0.0.1:9100", "[::1]:9100", or a bare port, which means
// loopback): the figures are not secrets, but an operator decides whether they leave the
// host. Serves on its own threads; the pages come from the callbacks given at start().
//
// Thread-safe: the callbacks may run on several threads at once.
#ifndef ASP_MANAGER_HTTP_ENDPOINT_H_
#define ASP_MANAGER_HTTP_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace asp::manager {

class HttpEndpoint {
 public:
  struct Options {
    std::string listen = "127.0.0.1:0";        // port 0: any free port (tests)
    std::function<std::string()> metrics;      // the /metrics body
    std::function<std::string()> status_page;  // the / body
  };

  // InvalidArgument for an address that does not parse (naming it); AlreadyExists when
  // the port is in use; Unavailable when it cannot listen otherwise (not a local address).
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> start(Options options);
  ~HttpEndpoint();

  int port() const { return port_; }
  // The address as "HOST:PORT", with the port picked when it said 0.
  std::string address() const;
  // Stops listening and waits for requests in progress.
  void stop();

 private:
  explicit HttpEndpoint(Options options);

  Options options_;
  std::string host_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

// Splits "HOST:PORT", "[V6]:PORT" or "PORT" (loopback) into host and port.
absl::Status parseListenAddress(const std::string& address, std::string* host, int* port);

}  // namespace asp::manager

#endif  // ASP_MANAGER_HTTP_ENDPOINT_H_
