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

struct AgentQueue {
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

// The module's socket, opened at its first send; nullptr when it cannot be opened.
asp::UnixDatagramTransport* socketFor(AgentQueue& q, const std::string& module) {
  auto it = q.sockets.find(module);
  if (it != q.sockets.end()) return it->second.get();
  asp::UnixDatagramTransport::Options options;
  options.queue_path = q.manager_socket;
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
  return q.sockets.emplace(module, *std::move(opened)).first->second.get();
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

int sendBinary(int /*queue*/, const void* message, size_t length, const char* module, char /*location*/) {
  if (module == nullptr || (message == nullptr && length > 0)) return -1;
  asp::UnixDatagramTransport* socket = nullptr;
  {
    std::lock_guard<std::mutex> lock(agentQueue().mu);
    if (agentQueue().manager_socket.empty()) return -1;
    socket = socketFor(agentQueue(), module);
  }
  if (socket == nullptr) return -1;
  const absl::string_view bytes(static_cast<const char*>(message), length);
  return socket->send(module, bytes).ok() ? 0 : -1;
}

}  // namespace

extern "C" {

const MQ_Functions agent_mqueue_functions = {start, sendBinary};

void agent_mqueue_open(const char* manager_socket) {
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
  takeSockets();
  std::lock_guard<std::mutex> lock(agentQueue().mu);
  agentQueue().manager_socket.clear();
  agentQueue().routes.clear();
}

}  // extern "C"
