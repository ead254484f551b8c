// forger: a hostile local process for the trust tests (issue: forged answers). It finds
// the abstract (autobind) Unix datagram addresses a process owns, as any local user can
// in /proc/net/unix, drops to another user, and floods every one of them with answers a
// manager would send: StartAck{OK, S} and EndAck{OK, S}, framed "<module>_sync ". It
// runs until SIGTERM, then prints how many it sent and how many the kernel refused.
//
//   forger --pid=1234 --module=fim --as_uid=65534 [--session=42]
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "asp/proto/wire.pb.h"

ABSL_FLAG(int, pid, 0, "Process whose abstract datagram sockets to flood.");
ABSL_FLAG(std::string, module, "fim", "Module name in the answers' header.");
ABSL_FLAG(uint64_t, session, 42, "Session id the forged answers carry.");
ABSL_FLAG(int, as_uid, -1, "Switch to this uid (and gid) before flooding, when root.");

namespace {

std::atomic<bool> stopping{false};

// Inodes of the sockets process `pid` holds open.
std::set<std::string> socketInodes(int pid) {
  std::set<std::string> inodes;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd/";
  for (int fd = 0; fd < 4096; ++fd) {
    char target[256];
    const ssize_t n = readlink((dir + std::to_string(fd)).c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::strncmp(target, "socket:[", 8) == 0) {
      inodes.insert(std::string(target + 8, std::strlen(target + 8) - 1));
    }
  }
  return inodes;
}

// Abstract addresses ("\0name") of those inodes, from /proc/net/unix.
std::vector<std::string> abstractAddresses(const std::set<std::string>& inodes) {
  std::vector<std::string> addresses;
  std::ifstream table("/proc/net/unix");
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string num, refcount, protocol, flags, type, state, inode, path;
    fields >> num >> refcount >> protocol >> flags >> type >> state >> inode >> path;
    if (!path.empty() && path[0] == '@' && inodes.count(inode) != 0) {
      addresses.push_back(std::string(1, '\0') + path.substr(1));
    }
  }
  return addresses;
}

std::string answer(const asp::wire::v1::Message& m) {
  return absl::GetFlag(FLAGS_module) + "_sync " + m.SerializeAsString();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGTERM, [](int) { stopping = true; });
  std::vector<std::string> targets;
  while (targets.empty() && !stopping) {
    targets = abstractAddresses(socketInodes(absl::GetFlag(FLAGS_pid)));
    if (targets.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const int uid = absl::GetFlag(FLAGS_as_uid);
  if (uid >= 0 && geteuid() == 0 && (setgid(uid) != 0 || setuid(uid) != 0)) {
    std::perror("forger: setuid");
  }
  asp::wire::v1::Message start_ack, end_ack;
  start_ack.mutable_start_ack()->set_status(asp::wire::v1::STATUS_OK);
  start_ack.mutable_start_ack()->set_session(absl::GetFlag(FLAGS_session));
  end_ack.mutable_end_ack()->set_status(asp::wire::v1::STATUS_OK);
  end_ack.mutable_end_ack()->set_session(absl::GetFlag(FLAGS_session));
  const std::string forged[] = {answer(start_ack), answer(end_ack)};

  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  uint64_t sent = 0, refused = 0;
  std::cout << "forger: uid " << geteuid() << ", " << targets.size() << " target(s)" << std::endl;
  while (!stopping) {
    for (const std::string& target : targets) {
      sockaddr_un to;
      std::memset(&to, 0, sizeof(to));
      to.sun_family = AF_UNIX;
      std::memcpy(to.sun_path, target.data(), target.size());
      const socklen_t length =
          static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target.size());
      for (const std::string& bytes : forged) {
        const ssize_t n = sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT,
                                 reinterpret_cast<const sockaddr*>(&to), length);
        ++(n == static_cast<ssize_t>(bytes.size()) ? sent : refused);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::cout << "forger: sent " << sent << " forged answers, refused " << refused << std::endl;
  return 0;
}
