// //bench:manager_fleet_bench: managers as a fleet runs them (docs/protocol.md §9 "Managers
// scale out"), real asp_manager processes on one PostgreSQL server:
//
//   1. scale-out: 1, 2 and 4 manager processes on one database; --agents agents (split
//      evenly over the managers' sockets) each sync one DELTA session of --changes
//      changes, all at once. Reported: changes applied per second (wall clock, from the
//      first Start to the last EndAck), and the CPU seconds the managers and the
//      PostgreSQL server spent, which says where it saturates.
//   2. connected: one manager with --connected_agents agents connected at once, each
//      through its own relay (its own certificate and stream, the asp/relay library
//      in this process), each having synced one small session; the manager's resident
//      set (VmRSS) and peak (VmHWM) then.
//
//   ./bazelw run -c opt //bench:manager_fleet_bench [-- --agents=64 --changes=5000
//       --managers=1,2,4 --connected_agents=1000]
//
// As root (the PostgreSQL cluster runs as `nobody`). Figures in docs/performance.md.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/relay/grpc_manager_connector.h"
#include "asp/relay/relay.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/postgres_cluster.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "asp/tls/certificate_authority.h"
#include "asp/tls/tls_files.h"

ABSL_FLAG(int, agents, 64, "Scale-out: agents syncing at once.");
ABSL_FLAG(int, changes, 5000, "Scale-out: changes in each agent's session.");
ABSL_FLAG(std::vector<std::string>, managers, std::vector<std::string>({"1", "2", "4"}),
          "Scale-out: manager process counts to measure.");
ABSL_FLAG(int, connected_agents, 1000,
          "Connected: agents with a relay stream open at once (0: skip).");

namespace asp::bench {
namespace {

using testing::Process;

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat.
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of every running process named "postgres": the server and its backends
// (a backend lives as long as its manager's connection, which spans the measure).
double postgresCpuSeconds() {
  double total = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(atoi(entry->d_name));
    if (pid <= 0) continue;
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name == "postgres") total += cpuSeconds(pid);
  }
  closedir(proc);
  return total;
}

// CPU seconds this process (the agents) has used.
double selfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int64_t statusKib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// Starts asp_manager with `flags`; returns once it printed `ready`.
std::unique_ptr<Process> startManager(const std::vector<std::string>& flags,
                                      const std::string& prefix, const std::string& ready) {
  auto manager =
      std::make_unique<Process>(testing::runfile("asp/tools/asp_manager"), flags, prefix);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (manager->out().find(ready) == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return manager;
}

std::string newDatabase() {
  auto cluster = testing::PostgresCluster::shared();
  if (!cluster.ok()) {
    std::cerr << cluster.status() << "\n";
    std::exit(2);
  }
  auto uri = (*cluster)->createDatabase();
  if (!uri.ok()) {
    std::cerr << uri.status() << "\n";
    std::exit(2);
  }
  return *uri;
}

// One scale-out measure with `count` managers; prints a line.
void scaleOut(int count, const testing::TempDir& dir) {
  const std::string uri = newDatabase();
  const int agents = absl::GetFlag(FLAGS_agents);
  const int changes = absl::GetFlag(FLAGS_changes);
  std::vector<std::unique_ptr<Process>> managers;
  std::vector<std::string> sockets;
  for (int m = 0; m < count; ++m) {
    sockets.push_back(dir.file(absl::StrCat("scale", count, "-m", m)));
    managers.push_back(startManager({"--socket=" + sockets.back(), "--state_uri=" + uri},
                                    sockets.back() + "-manager", "listening"));
  }
  // Every agent records its changes first: only the sessions are timed.
  std::vector<std::unique_ptr<SocketSyncProtocol>> clients;
  for (int a = 0; a < agents; ++a) {
    const std::string agent = absl::StrCat("agent-", a);
    auto client = SocketSyncProtocol::create(
        testing::localAgentOptions("fim", dir.file(absl::StrCat("scale", count, "-", agent, ".db")),
                                   agent, absl::Seconds(60)),
        sockets[a % count]);
    if (!client.ok()) {
      std::cerr << client.status() << "\n";
      std::exit(2);
    }
    for (int i = 0; i < changes; ++i) {
      (void)(*client)->protocol().persistDifference(absl::StrCat("/srv/", i), Operation::kModify,
                                                    absl::StrCat("states-fim-", i % 8),
                                                    std::string(200, 'x'), 1);
    }
    (void)(*client)->protocol().flush();
    clients.push_back(*std::move(client));
  }
  double manager_cpu = 0;
  for (const auto& m : managers) manager_cpu -= cpuSeconds(m->pid());
  const double postgres_before = postgresCpuSeconds();
  const double agents_before = selfCpuSeconds();
  std::atomic<int> failed{0};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (auto& client : clients) {
    threads.emplace_back([&client, &failed] {
      if (!client->protocol().synchronizeModule(Mode::kDelta).ok()) ++failed;
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& m : managers) manager_cpu += cpuSeconds(m->pid());
  const double postgres_cpu = postgresCpuSeconds() - postgres_before;
  const double agents_cpu = selfCpuSeconds() - agents_before;
  std::cout << absl::StrFormat(
                   "scale-out  %d manager(s)  %8.0f changes/s  (%d x %d changes in %.2f s; CPU s: "
                   "managers %.2f, PostgreSQL %.2f, agents %.2f; failed sessions %d)",
                   count, agents * static_cast<double>(changes) / seconds, agents, changes, seconds,
                   manager_cpu, postgres_cpu, agents_cpu, failed.load())
            << std::endl;
  for (auto& m : managers) {
    m->signal(SIGTERM);
    m->wait();
  }
}

// One agent connected through its own relay, its session done.
struct ConnectedAgent {
  std::unique_ptr<relay::Relay> relay;
  std::unique_ptr<SocketSyncProtocol> client;
};

void connected(const testing::TempDir& dir) {
  const int agents = absl::GetFlag(FLAGS_connected_agents);
  if (agents <= 0) return;
  auto ca = tls::CertificateAuthority::create("ASP bench CA");
  const tls::TlsFilePaths server{dir.file("manager.pem"), dir.file("manager.key"),
                                 dir.file("ca.pem")};
  auto pair = ca->issue(tls::serverCertificate("manager", {"localhost"}, {"127.0.0.1"}));
  (void)tls::writePemFile(server.trusted_ca, ca->certificatePem(), 0644);
  (void)tls::writePemFile(server.certificate, pair->certificate_pem, 0644);
  (void)tls::writePemFile(server.private_key, pair->private_key_pem, 0600);
  auto manager =
      startManager({"--socket=" + dir.file("connected-local"), "--state_uri=" + newDatabase(),
                    "--relay_listen=127.0.0.1:0", "--relay_cert=" + server.certificate,
                    "--relay_key=" + server.private_key, "--relay_client_ca=" + server.trusted_ca,
                    absl::StrCat("--relay_max_streams=", agents + 16)},
                   dir.file("connected-manager"), "relay endpoint listening on port ");
  const std::string out = manager->out();
  const std::string address =
      absl::StrCat("127.0.0.1:", std::stoi(out.substr(out.find("listening on port ") + 18)));
  const int64_t idle_kib = statusKib(manager->pid(), "VmRSS");
  std::vector<ConnectedAgent> fleet(agents);
  int synced = 0;
  for (int a = 0; a < agents; ++a) {
    const std::string agent = absl::StrCat("relay-agent-", a);
    auto client_pair = ca->issue(tls::clientCertificate(agent));
    const tls::TlsFilePaths paths{dir.file(agent + ".pem"), dir.file(agent + ".key"),
                                  server.trusted_ca};
    (void)tls::writePemFile(paths.certificate, client_pair->certificate_pem, 0644);
    (void)tls::writePemFile(paths.private_key, client_pair->private_key_pem, 0600);
    relay::GrpcManagerConnector::Options link;
    link.tls = *tls::loadTlsMaterial(paths);
    link.measure_wire_bytes = false;  // a thousand relays in this process
    relay::Relay::Options options;
    options.socket.path = dir.file(agent + "-queue");
    options.managers = {address};
    auto started =
        relay::Relay::start(options, std::make_unique<relay::GrpcManagerConnector>(link));
    if (!started.ok() || !(*started)->waitUntilConnected(absl::Seconds(20))) continue;
    fleet[a].relay = *std::move(started);
    auto client = SocketSyncProtocol::create(
        testing::localAgentOptions("fim", dir.file(agent + ".db"), agent, absl::Seconds(10)),
        options.socket.path);
    if (!client.ok()) continue;
    for (int i = 0; i < 10; ++i) {
      (void)(*client)->protocol().persistDifference(absl::StrCat("/etc/", i), Operation::kModify,
                                                    "states-fim-files", std::string(200, 'x'), 1);
    }
    if ((*client)->protocol().synchronizeModule(Mode::kDelta).ok()) ++synced;
    fleet[a].client = *std::move(client);
  }
  std::cout
      << absl::StrFormat(
             "connected  %d agents, each its own relay stream and one synced session (%d ok): "
             "manager VmRSS %.1f MiB (idle before: %.1f MiB), VmHWM %.1f MiB, threads %d",
             agents, synced, statusKib(manager->pid(), "VmRSS") / 1024.0, idle_kib / 1024.0,
             statusKib(manager->pid(), "VmHWM") / 1024.0,
             static_cast<int>(statusKib(manager->pid(), "Threads")))
      << std::endl;
  for (ConnectedAgent& agent : fleet) {
    agent.client.reset();
    if (agent.relay != nullptr) agent.relay->stop();
  }
  manager->signal(SIGTERM);
  manager->wait();
}

}  // namespace
}  // namespace asp::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  asp::testing::TempDir dir;
  for (const std::string& count : absl::GetFlag(FLAGS_managers)) {
    asp::bench::scaleOut(std::stoi(count), dir);
  }
  asp::bench::connected(dir);
  return 0;
}
