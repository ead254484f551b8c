#include "asp/testing/agent_mqueue.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "asp/transport/unix_datagram_transport.h"

namespace {

struct Route {
  agent_mqueue_answer_fn on_answer = nullptr;
  void* context = nullptr;
};

// Lock order: open_mu, then a transport's handler lock, then delivery_mu, then mu.
struct AgentQueue {
  std::mutex open_mu;      // one socket opened at a time
  std::mutex delivery_mu;  // held while an answer is delivered; route() waits for it
  std::mutex mu;
  std::string manager_socket;
  std::map<std::string, Route> routes;
  std::map<std::string, std::unique_ptr<asp::UnixDatagramTransport>> sockets;
};

AgentQueue& agentQueue() {
  static AgentQueue* queue = new AgentQueue();
  return *queue;
}

// A socket for `module` to the manager at `path`, its answers routed. Opened with no
// lock of the queue held: setting the answer handler takes the transport's lock, which
// its receiver holds while delivering (and delivering takes the queue's locks).
std::unique_ptr<asp::UnixDatagramTransport> openSocket(const std::string& path,
                                                       const std::string& module) {
  asp::UnixDatagramTransport::Options options;
  options.queue_path = path;
  options.module = module;
  auto opened = asp::UnixDatagramTransport::open(options);
  if (!opened.ok()) return nullptr;
  (*opened)->setAnswerHandler([module](const uint8_t* data, size_t length) {
    std::lock_guard<std::mutex> delivering(agentQueue().delivery_mu);
    Route route;
    {
      std::lock_guard<std::mutex> lock(agentQueue().mu);
      route = agentQueue().routes[module];
    }
    if (route.on_answer != nullptr) route.on_answer(route.context, data, length);
  });
  return *std::move(opened);
}

// The module's socket, opened at its first send; nullptr when there is no manager path or
// the socket cannot be opened.
asp::UnixDatagramTransport* socketFor(const std::string& module) {
  AgentQueue& q = agentQueue();
  std::lock_guard<std::mutex> opening(q.open_mu);
  std::string path;
  {
    std::lock_guard<std::mutex> lock(q.mu);
    if (q.manager_socket.empty()) return nullptr;
    auto it = q.sockets.find(module);
    if (it != q.sockets.end()) return it->second.get();
    path = q.manager_socket;
  }
  std::unique_ptr<asp::UnixDatagramTransport> socket = openSocket(path, module);
  if (socket == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(q.mu);
  return q.sockets.emplace(module, std::move(socket)).first->second.get();
}

// Takes the sockets out of the queue, to close them without holding its lock (their
// receiver threads take it).
std::map<std::string, std::unique_ptr<asp::UnixDatagramTransport>> takeSockets() {
  std::lock_guard<std::mutex> lock(agentQueue().mu);
  return std::exchange(agentQueue().sockets, {});
}

int start(const char* /*key*/, short /*type*/, short /*attempts*/) {
  std::lock_guard<std::mutex> lock(agentQueue().mu);
  return agentQueue().manager_socket.empty() ? -1 : 1;
}

int sendBinary(int /*queue*/, const void* message, size_t length, const char* module,
               char /*location*/) {
  if (module == nullptr || (message == nullptr && length > 0)) return -1;
  asp::UnixDatagramTransport* socket = socketFor(module);
  if (socket == nullptr) return -1;
  const absl::string_view bytes(static_cast<const char*>(message), length);
  return socket->send(module, bytes).ok() ? 0 : -1;
}

}  // namespace

extern "C" {

const MQ_Functions agent_mqueue_functions = {start, sendBinary};

void agent_mqueue_open(const char* manager_socket) {
  std::lock_guard<std::mutex> opening(agentQueue().open_mu);
  takeSockets();
  std::lock_guard<std::mutex> lock(agentQueue().mu);
  agentQueue().manager_socket = manager_socket != nullptr ? manager_socket : "";
}

void agent_mqueue_route(const char* module, agent_mqueue_answer_fn on_answer, void* context) {
  std::lock_guard<std::mutex> delivering(agentQueue().delivery_mu);
  std::lock_guard<std::mutex> lock(agentQueue().mu);
  agentQueue().routes[module != nullptr ? module : ""] = Route{on_answer, context};
}

void agent_mqueue_close(void) {
  std::lock_guard<std::mutex> opening(agentQueue().open_mu);
  takeSockets();
  std::lock_guard<std::mutex> lock(agentQueue().mu);
  agentQueue().manager_socket.clear();
  agentQueue().routes.clear();
}

}  // extern "C"
