// asp_manager --http_listen, as an operator meets it: a real manager process, a real
// agent session over its socket, the metrics read with an HTTP client (cpp-httplib's)
// before and after, and the status page rendered by a real headless browser (Debian's
// chromium). On PostgreSQL, any manager's page shows what every manager applied.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "asp/core/socket_sync_protocol.h"
#include "asp/testing/local_agent.h"
#include "asp/testing/postgres_cluster.h"
#include "asp/testing/process.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace asp {
namespace {

using testing::Process;

constexpr char kIndex[] = "states-fim-files";

// A started manager and the port its HTTP endpoint took.
struct RunningManager {
  std::unique_ptr<Process> process;
  int http_port = 0;
};

class ManagerHttpTest : public ::testing::Test {
 protected:
  // Starts asp_manager with `store_flag` and --http_listen on a free loopback port.
  RunningManager start(const std::string& socket, const std::string& store_flag) {
    RunningManager m;
    m.process = std::make_unique<Process>(
        testing::runfile("asp/tools/asp_manager"),
        std::vector<std::string>{"--socket=" + socket, store_flag, "--http_listen=127.0.0.1:0"},
        dir_.file("manager-" + std::to_string(++starts_)));
    const std::string announced = "status page on http://127.0.0.1:";
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::string out;
    while ((out = m.process->out()).find(announced) == std::string::npos &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const size_t at = out.find(announced);
    EXPECT_NE(at, std::string::npos) << out << m.process->err();
    if (at != std::string::npos) m.http_port = std::stoi(out.substr(at + announced.size()));
    return m;
  }

  // Agent `agent`'s module fim records `count` files and syncs them through `socket`.
  void syncFiles(const std::string& socket, const std::string& agent, int count) {
    auto client = SocketSyncProtocol::create(
        testing::localAgentOptions("fim", dir_.file(agent + "_fim_sync.db"), agent), socket);
    ASSERT_TRUE(client.ok()) << client.status();
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE((*client)
                      ->protocol()
                      .persistDifference("/etc/file-" + std::to_string(i), Operation::kModify,
                                         kIndex, "{}", 1)
                      .ok());
    }
    SyncResult result = (*client)->protocol().synchronizeModule(Mode::kDelta);
    ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  }

  static std::string get(int port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    httplib::Result result = client.Get(path.c_str());
    EXPECT_TRUE(result) << "GET " << path << ": " << httplib::to_string(result.error());
    if (!result) return "";
    EXPECT_EQ(result->status, 200) << path;
    return result->body;
  }

  // The value of one series (the whole line's name part, labels included), or -1.
  static double metric(const std::string& text, const std::string& series) {
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }

  testing::TempDir dir_;
  int starts_ = 0;
};

TEST_F(ManagerHttpTest, MetricsMoveWhenARealSessionIsApplied) {
  const std::string socket = dir_.file("queue");
  RunningManager manager = start(socket, "--state_dir=" + dir_.file("state"));
  const std::string before = get(manager.http_port, "/metrics");
  EXPECT_EQ(metric(before, "asp_manager_sessions_applied_total"), 0) << before;
  EXPECT_EQ(metric(before, "asp_manager_changes_applied_total"), 0) << before;

  syncFiles(socket, "101", 25);

  const std::string after = get(manager.http_port, "/metrics");
  EXPECT_EQ(metric(after, "asp_manager_sessions_started_total"), 1) << after;
  EXPECT_EQ(metric(after, "asp_manager_sessions_applied_total"), 1) << after;
  EXPECT_EQ(metric(after, "asp_manager_changes_applied_total"), 25) << after;
  EXPECT_EQ(metric(after, "asp_manager_applied_bytes_total"), 25 * 2) << after;
  EXPECT_EQ(metric(after, "asp_manager_apply_duration_seconds_count"), 1) << after;
  EXPECT_EQ(metric(after, "asp_manager_active_sessions"), 0) << after;
  EXPECT_EQ(metric(after, "asp_manager_sessions_refused_total{reason=\"table_full\"}"), 0) << after;
  EXPECT_GE(metric(after, "asp_manager_datagrams_total{binding=\"socket\"}"), 3)
      << after << "a Start, the values (batched) and an End";
}

TEST_F(ManagerHttpTest, TheStatusPageShowsTheAgentAndItsModuleInABrowser) {
  const std::string socket = dir_.file("queue");
  RunningManager manager = start(socket, "--state_dir=" + dir_.file("state"));
  syncFiles(socket, "agent-042", 7);

  const std::string url = "http://127.0.0.1:" + std::to_string(manager.http_port) + "/";
  // As root, chromium runs only without its sandbox; a profile of its own in the temp dir.
  const int code =
      testing::run("/usr/bin/chromium",
                   {"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--user-data-dir=" + dir_.file("chromium-profile"), "--dump-dom", url},
                   dir_.file("chromium"));
  std::ifstream dumped(dir_.file("chromium") + ".out");
  const std::string dom((std::istreambuf_iterator<char>(dumped)), std::istreambuf_iterator<char>());
  ASSERT_EQ(code, 0) << dom;
  EXPECT_NE(dom.find("<td class=\"agent\">agent-042</td>"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<td class=\"module\">fim</td>"), std::string::npos) << dom;
  EXPECT_NE(dom.find(std::string(kIndex) + ": 7"), std::string::npos) << dom;
  EXPECT_NE(dom.find("1 agents, 1 modules."), std::string::npos) << dom;
}

TEST_F(ManagerHttpTest, APortInUseStopsTheManagerWithAClearError) {
  const int taken = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = std::to_string(ntohs(address.sin_port));

  Process manager(testing::runfile("asp/tools/asp_manager"),
                  {"--socket=" + dir_.file("queue"), "--state_dir=" + dir_.file("state"),
                   "--http_listen=127.0.0.1:" + port},
                  dir_.file("in-use"));
  EXPECT_EQ(manager.wait(), 3) << "exit 3: in use";
  EXPECT_NE(manager.err().find("--http_listen: cannot listen for HTTP on 127.0.0.1:" + port +
                               ": Address already in use"),
            std::string::npos)
      << manager.err();
  close(taken);
}

// Two managers on one database: the page of one shows the agent the other served.
TEST_F(ManagerHttpTest, OnPostgresEveryManagersPageShowsTheWholeFleet) {
  absl::StatusOr<testing::PostgresCluster*> cluster = testing::PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::string> uri = (*cluster)->createDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status();
  RunningManager a = start(dir_.file("queue-a"), "--state_uri=" + *uri);
  RunningManager b = start(dir_.file("queue-b"), "--state_uri=" + *uri);
  syncFiles(dir_.file("queue-a"), "201", 3);
  syncFiles(dir_.file("queue-b"), "202", 4);

  const std::string page = get(a.http_port, "/");
  EXPECT_NE(page.find("<td class=\"agent\">202</td>"), std::string::npos) << page;
  EXPECT_NE(page.find(std::string(kIndex) + ": 4"), std::string::npos) << page;
  EXPECT_NE(page.find("2 agents, 2 modules."), std::string::npos) << page;
  EXPECT_EQ(metric(get(a.http_port, "/metrics"), "asp_manager_sessions_applied_total"), 1)
      << "the figures are this process's own";
}

}  // namespace
}  // namespace asp
