// The reference manager's memory under hostile and heavy load (docs/protocol.md §7, issue
// "Trust boundaries", item 3), measured on the asp_manager process itself:
//
//   1. a flood of huge Starts: 5,000 Starts from made-up agent ids, each announcing
//      10,000,000 values (a 50-byte datagram), as fast as one socket sends them;
//   2. 1,000 real sessions at once: 1,000 agents (AgentSyncProtocol on the Unix MQ), each
//      with 500 changes of ~200 bytes, whose Ends wait 3 s so that every session's data
//      sits in the manager at the same time (~125 MB in all).
//
// The manager runs under an address-space limit of 4 GiB (RLIMIT_AS), as a small host
// would give it, with its state in SQLite (so its resident set is what sessions cost, not
// the documents it keeps); its peak resident set is read from /proc/<pid>/status (VmHWM). Before
// the fix, one huge Start cost ~1.1 GB and the fourth crashed the manager (bad_alloc).
//
//   ./bazelw run -c opt //bench:manager_memory_bench
//   ./bazelw run -c opt //bench:manager_memory_bench -- --manager=/path/to/other/asp_manager
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/proto/wire.pb.h"
#include "asp/testing/temp_dir.h"

ABSL_FLAG(std::string, manager, "asp/tools/asp_manager", "The asp_manager binary to measure.");
ABSL_FLAG(std::vector<std::string>, manager_flags, {},
          "Extra flags for the manager, e.g. --manager_flags=--max_buffered_mib=64.");
ABSL_FLAG(int, flood_starts, 5000, "Huge Starts in the flood.");
ABSL_FLAG(int, agents, 1000, "Concurrent real sessions.");
ABSL_FLAG(int, changes_per_agent, 500, "Changes each agent syncs.");

namespace {

constexpr uint64_t kAddressSpaceLimit = uint64_t{4} << 30;

int64_t statusKib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// An asp_manager child under RLIMIT_AS; stopped by SIGTERM on destruction.
class Manager {
 public:
  explicit Manager(const std::string& dir) : socket_(dir + "/queue") {
    std::vector<std::string> args = {absl::GetFlag(FLAGS_manager), "--socket=" + socket_,
                                     "--state_dir=" + dir + "/state", "--max_sessions=1100"};
    for (const std::string& flag : absl::GetFlag(FLAGS_manager_flags)) args.push_back(flag);
    const std::string log = dir + "/manager.log";
    pid_ = fork();
    if (pid_ == 0) {
      rlimit limit{kAddressSpaceLimit, kAddressSpaceLimit};
      setrlimit(RLIMIT_AS, &limit);
      const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, 1);
      dup2(out, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 500 && access(socket_.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~Manager() {
    if (alive()) kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  bool alive() const { return waitpid(pid_, &status_, WNOHANG) == 0; }
  std::string fate() const {
    if (alive()) return "alive";
    return WIFSIGNALED(status_) ? absl::StrFormat("killed by signal %d", WTERMSIG(status_))
                                : absl::StrFormat("exited %d", WEXITSTATUS(status_));
  }
  double peakMib() const { return statusKib(pid_, "VmHWM") / 1024.0; }
  double rssMib() const { return statusKib(pid_, "VmRSS") / 1024.0; }
  const std::string& socket() const { return socket_; }

 private:
  std::string socket_;
  pid_t pid_ = -1;
  mutable int status_ = 0;
};

void row(const std::string& scenario, const Manager& manager, double idle,
         const std::string& note) {
  std::cout << absl::StrFormat("%-34s %10.1f %10.1f %10.1f  %-22s %s\n", scenario, idle,
                               manager.peakMib(), manager.rssMib(), manager.fate(), note);
}

void flood(const Manager& manager, int starts) {
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un to;
  std::memset(&to, 0, sizeof(to));
  to.sun_family = AF_UNIX;
  std::strncpy(to.sun_path, manager.socket().c_str(), sizeof(to.sun_path) - 1);
  for (int i = 0; i < starts && manager.alive(); ++i) {
    asp::wire::v1::Message m;
    asp::wire::v1::Start* start = m.mutable_start();
    start->set_module("fim");
    start->set_mode(asp::wire::v1::MODE_DELTA);
    start->set_size(10'000'000);
    start->add_indices("states-fim-files");
    start->mutable_agent()->set_id("flood-" + std::to_string(i));
    const std::string datagram = "s:fim:" + m.SerializeAsString();
    sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  }
  close(fd);
  std::this_thread::sleep_for(std::chrono::seconds(1));
}

// Returns how many of the sessions succeeded.
int concurrentSessions(const Manager& manager, const std::string& dir, int agents, int changes) {
  std::vector<std::unique_ptr<asp::SocketSyncProtocol>> modules;
  for (int a = 0; a < agents; ++a) {
    asp::AgentSyncProtocol::Options o;
    o.module = "fim";
    o.session.timeout = absl::Seconds(60);
    o.session.sync_end_delay = absl::Seconds(3);  // every session's data held at once
    const std::string id = absl::StrFormat("%04d", a);
    o.agent_info = [id] {
      asp::AgentInfo info;
      info.id = id;
      return info;
    };
    auto module = asp::SocketSyncProtocol::create(o, manager.socket(), absl::Seconds(60));
    if (!module.ok()) {
      std::cerr << module.status() << "\n";
      return 0;
    }
    std::vector<asp::Change> batch;
    for (int c = 0; c < changes; ++c) {
      batch.push_back({absl::StrFormat("%040x", c), "states-fim-files", asp::Operation::kCreate,
                       std::string(200, static_cast<char>('a' + c % 26)), 1});
    }
    if (!(*module)->protocol().queue().recordBatch(batch).ok()) return 0;
    modules.push_back(*std::move(module));
  }
  (void)dir;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (auto& module : modules) {
    threads.emplace_back([&module, &ok] {
      if (module->protocol().synchronizeModule(asp::Mode::kDelta).ok()) ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  return ok.load();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::cout << "manager: " << absl::GetFlag(FLAGS_manager) << ", RLIMIT_AS 4 GiB\n\n";
  std::cout << absl::StrFormat("%-34s %10s %10s %10s  %-22s %s\n", "scenario", "idle MiB",
                               "peak MiB", "after MiB", "manager", "note");
  {
    asp::testing::TempDir dir;
    Manager manager(dir.path());
    const double idle = manager.peakMib();
    const int starts = absl::GetFlag(FLAGS_flood_starts);
    flood(manager, starts);
    row(absl::StrFormat("flood: %d Starts of 10M values", starts), manager, idle,
        "each datagram ~50 bytes");
  }
  {
    asp::testing::TempDir dir;
    Manager manager(dir.path());
    const double idle = manager.peakMib();
    const int agents = absl::GetFlag(FLAGS_agents);
    const int changes = absl::GetFlag(FLAGS_changes_per_agent);
    const auto began = std::chrono::steady_clock::now();
    const int ok = concurrentSessions(manager, dir.path(), agents, changes);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    row(absl::StrFormat("%d sessions at once x %d changes", agents, changes), manager, idle,
        absl::StrFormat("%d ok in %.1f s; ~%.0f MB of data in flight", ok, seconds,
                        agents * changes * 250.0 / 1e6));
  }
  return 0;
}
