#include "asp/manager/http_endpoint.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace asp::manager {
namespace {

// Why `host`:`port` cannot be bound, found by binding it once more with a plain socket
// (httplib says only that it failed): the errno of the first attempt that fails.
int bindError(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
    return EADDRNOTAVAIL;
  int error = 0;
  for (addrinfo* a = found; a != nullptr && error == 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) error = errno;
    close(fd);
  }
  freeaddrinfo(found);
  return error;
}

}  // namespace

absl::Status parseListenAddress(const std::string& address, std::string* host, int* port) {
  std::string port_text = address;
  *host = "127.0.0.1";
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find("]:");
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP address '", address, "' is not [V6]:PORT"));
    }
    *host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else if (const size_t colon = address.rfind(':'); colon != std::string::npos) {
    *host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  if (host->empty() || !absl::SimpleAtoi(port_text, port) || *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP address '", address, "' is not HOST:PORT (e.g. 127.0.0.1:9100) or a port"));
  }
  return absl::OkStatus();
}

HttpEndpoint::HttpEndpoint(Options options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::start(Options options) {
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint(std::move(options)));
  HttpEndpoint& e = *endpoint;
  if (absl::Status s = parseListenAddress(e.options_.listen, &e.host_, &e.port_); !s.ok()) return s;
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, with which a second
  // manager on the same port would share it silently instead of being refused.
  e.server_->set_socket_options([](int fd) {
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  e.server_->Get("/metrics", [&e](const httplib::Request&, httplib::Response& response) {
    response.set_content(e.options_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  e.server_->Get("/", [&e](const httplib::Request&, httplib::Response& response) {
    response.set_content(e.options_.status_page(), "text/html; charset=utf-8");
  });
  const bool bound = e.port_ == 0 ? (e.port_ = e.server_->bind_to_any_port(e.host_)) > 0
                                  : e.server_->bind_to_port(e.host_, e.port_);
  if (!bound) {
    const int error = bindError(e.host_, e.port_);
    const std::string message = absl::StrCat("cannot listen for HTTP on ", e.options_.listen, ": ",
                                             error != 0 ? std::strerror(error) : "bind failed");
    if (error == EADDRINUSE) return absl::AlreadyExistsError(message);
    return absl::UnavailableError(message);
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  e.thread_ = std::thread([&e, done] {
    e.server_->listen_after_bind();
    *done = true;
  });
  // httplib's stop() does nothing to a server not yet in its accept loop, which would
  // then never leave it: return only once it runs.
  while (!e.server_->is_running() && !*done)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return endpoint;
}

std::string HttpEndpoint::address() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return absl::StrCat(v6 ? "[" : "", host_, v6 ? "]" : "", ":", port_);
}

void HttpEndpoint::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

HttpEndpoint::~HttpEndpoint() { stop(); }

}  // namespace asp::manager
