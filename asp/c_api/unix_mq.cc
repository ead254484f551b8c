#include "asp/c_api/unix_mq.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "asp/proto/limits.h"

namespace asp::c_api {
namespace {

std::mutex& tableMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

// Descriptor -> queue path, for send_binary.
std::map<int, std::string>& queues() {
  static auto* table = new std::map<int, std::string>();
  return *table;
}

int unixStart(const char* path, short /*type*/, short /*attempts*/) {
  sockaddr_un probe;
  if (path == nullptr || std::strlen(path) == 0 || std::strlen(path) >= sizeof(probe.sun_path)) return -1;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un self;
  std::memset(&self, 0, sizeof(self));
  self.sun_family = AF_UNIX;
  timeval timeout{1, 0};
  if (bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0) {
    close(fd);
    return -1;
  }
  std::lock_guard<std::mutex> lock(tableMutex());
  queues()[fd] = path;
  return fd;
}

int unixSendBinary(int queue, const void* message, size_t length, const char* module, char location) {
  if (module == nullptr || (message == nullptr && length > 0)) return -1;
  std::string path;
  {
    std::lock_guard<std::mutex> lock(tableMutex());
    auto it = queues().find(queue);
    if (it == queues().end()) return -1;
    path = it->second;
  }
  std::string frame;
  frame.reserve(length + std::strlen(module) + 3);
  frame.push_back(location);
  frame.push_back(':');
  frame.append(module);
  frame.push_back(':');
  frame.append(static_cast<const char*>(message), length);
  if (frame.size() > wire::kMaxDatagramBytes) return -1;
  sockaddr_un peer;
  std::memset(&peer, 0, sizeof(peer));
  peer.sun_family = AF_UNIX;
  std::memcpy(peer.sun_path, path.data(), path.size());
  const ssize_t n = sendto(queue, frame.data(), frame.size(), MSG_NOSIGNAL,
                           reinterpret_cast<sockaddr*>(&peer), sizeof(peer));
  return n == static_cast<ssize_t>(frame.size()) ? 0 : -1;
}

const MQ_Functions kBuiltin = {unixStart, unixSendBinary};

}  // namespace

const MQ_Functions* builtinUnixMq() { return &kBuiltin; }

bool isBuiltinUnixMq(const MQ_Functions& functions) {
  return functions.start == kBuiltin.start && functions.send_binary == kBuiltin.send_binary;
}

}  // namespace asp::c_api
