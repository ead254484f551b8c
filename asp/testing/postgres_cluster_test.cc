// The throwaway PostgreSQL cluster the manager's store tests run against: unprivileged,
// Unix socket only, restartable, and never left running after its test process dies.
#include "asp/testing/postgres_cluster.h"

#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::testing {
namespace {

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Connection connect(const std::string& uri) {
  return Connection(PQconnectdb(uri.c_str()), &PQfinish);
}

// The first column of the first row of `sql`, or the error text.
std::string query(PGconn* conn, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK) return "";
  if (status != PGRES_TUPLES_OK) return absl::StrCat("error: ", PQerrorMessage(conn));
  return PQntuples(result.get()) > 0 ? PQgetvalue(result.get(), 0, 0) : "";
}

bool processExists(pid_t pid) { return kill(pid, 0) == 0; }

TEST(PostgresCluster, RunsUnprivilegedAndListensOnlyOnItsUnixSocket) {
  absl::StatusOr<PostgresCluster*> cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  Connection conn = connect((*cluster)->uri("postgres"));
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_EQ(query(conn.get(), "SHOW listen_addresses"), "") << "no TCP listener";
  EXPECT_EQ(query(conn.get(), "SHOW unix_socket_directories"), (*cluster)->socketDir());

  struct stat server {};
  ASSERT_EQ(stat(absl::StrCat("/proc/", (*cluster)->pid()).c_str(), &server), 0);
  EXPECT_NE(server.st_uid, 0u) << "the server does not run as root";
  struct stat dir {};
  ASSERT_EQ(stat((*cluster)->socketDir().c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u) << "only its owner (and root) reach the socket";
  EXPECT_EQ(dir.st_uid, server.st_uid);
}

TEST(PostgresCluster, EachCreatedDatabaseStartsEmpty) {
  absl::StatusOr<PostgresCluster*> cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::string> first = (*cluster)->createDatabase();
  absl::StatusOr<std::string> second = (*cluster)->createDatabase();
  ASSERT_TRUE(first.ok() && second.ok()) << first.status() << second.status();
  EXPECT_NE(*first, *second);
  Connection a = connect(*first);
  ASSERT_EQ(query(a.get(), "CREATE TABLE t (x int)"), "");
  Connection b = connect(*second);
  EXPECT_EQ(query(b.get(), "SELECT count(*) FROM pg_tables WHERE tablename = 't'"), "0");
}

TEST(PostgresCluster, RestartsKeepCommittedDataAndCutOpenConnections) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::create();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::string> uri = (*cluster)->createDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status();
  Connection conn = connect(*uri);
  ASSERT_EQ(query(conn.get(), "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"), "");

  ASSERT_TRUE((*cluster)->restart().ok()) << (*cluster)->log();
  EXPECT_NE(query(conn.get(), "SELECT 1").rfind("error: ", 0), std::string::npos)
      << "a connection from before the restart is cut";
  conn = connect(*uri);
  ASSERT_EQ(query(conn.get(), "INSERT INTO t VALUES (2)"), "");

  ASSERT_TRUE((*cluster)->restart(PostgresCluster::StopMode::kImmediate).ok()) << (*cluster)->log();
  conn = connect(*uri);
  EXPECT_EQ(query(conn.get(), "SELECT sum(x) FROM t"), "3") << "crash recovery kept both commits";

  ASSERT_TRUE((*cluster)->stop().ok());
  EXPECT_FALSE((*cluster)->running());
  EXPECT_NE(PQping((*cluster)->uri("postgres").c_str()), PQPING_OK);
  ASSERT_TRUE((*cluster)->start().ok()) << (*cluster)->log();
  EXPECT_EQ(PQping((*cluster)->uri("postgres").c_str()), PQPING_OK);
}

// What a killed test leaves for the next one to clean: the cluster's directory and the
// small System V segment a killed postmaster cannot remove (its id is in postmaster.pid).
void removeLeftovers(const std::string& dir) {
  std::istringstream pid_file(readFile(dir + "/data/postmaster.pid"));
  std::string line;
  for (int i = 0; i < 7 && std::getline(pid_file, line); ++i) {
  }
  std::istringstream ids(line);
  long key = 0;
  int shmid = -1;
  if (ids >> key >> shmid) shmctl(shmid, IPC_RMID, nullptr);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST(PostgresCluster, ServerDiesWithATestProcessThatDiesWithoutStoppingIt) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t test = fork();
  ASSERT_GE(test, 0);
  if (test == 0) {
    // A test process that starts a cluster, then dies without any cleanup.
    close(pipe_fds[0]);
    absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::create();
    const pid_t server = cluster.ok() ? (*cluster)->pid() : -1;
    const std::string dir = cluster.ok() ? (*cluster)->socketDir() : "";
    (void)!write(pipe_fds[1], &server, sizeof(server));
    (void)!write(pipe_fds[1], dir.data(), dir.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  pid_t server = -1;
  ASSERT_EQ(read(pipe_fds[0], &server, sizeof(server)), static_cast<ssize_t>(sizeof(server)));
  char dir[256] = {};
  (void)!read(pipe_fds[0], dir, sizeof(dir) - 1);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(test, &status, 0);
  ASSERT_GT(server, 0) << "the child could not start a cluster";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (processExists(server) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(processExists(server)) << "postmaster " << server << " outlived its test";
  removeLeftovers(dir);
}

}  // namespace
}  // namespace asp::testing
