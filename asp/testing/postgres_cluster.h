// PostgresCluster: a throwaway PostgreSQL server for tests, started by the test itself
// from Debian's binaries (/usr/lib/postgresql/<version>/bin: initdb, postgres).
//
//  - Runs as an unprivileged user: tests run as root and PostgreSQL refuses root, so a
//    forked child drops to `nobody` before exec (as itself when not root). Bazel's
//    linux-sandbox runs tests in a user namespace where `nobody` does not exist: a test
//    that uses a cluster is tagged "no-sandbox".
//  - Lives in a fresh directory under /tmp owned by that user (mode 0700): Bazel's
//    TEST_TMPDIR sits under /root (0700, so `nobody` cannot reach it) and is too long for
//    a Unix socket path. The directory is removed when the cluster is destroyed.
//  - Listens on a Unix socket in that directory only (listen_addresses = ''), with
//    trust authentication for the superuser `asp`: only root and `nobody` can reach the
//    socket's directory.
//  - Tuned for tests: fsync off (safe against a server crash, not an OS crash).
//  - The postmaster dies with the process that started it (PR_SET_PDEATHSIG, SIGKILL)
//    even when a test crashes or is killed: no orphaned servers.
//
// shared() gives every test of a binary one cluster (a start costs about a second);
// each test takes a fresh database from createDatabase().
//
// Thread-safety: one thread drives a cluster (start/stop/restart); uri() and
// createDatabase() may be called from any thread while it runs. The parent-death
// signal is tied to the thread that started the server: start it from the test's main
// thread (shared() and the tests' bodies do).
#ifndef ASP_TESTING_POSTGRES_CLUSTER_H_
#define ASP_TESTING_POSTGRES_CLUSTER_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace asp::testing {

class PostgresCluster {
 public:
  enum class StopMode {
    kFast,       // SIGINT: sessions are cut, a checkpoint is written, the server exits
    kImmediate,  // SIGQUIT: exits at once, as after a crash; the next start recovers
  };

  // initdb and start a new cluster; returns once it accepts connections.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> create();
  // The binary's one cluster, created on first use and stopped at exit.
  static absl::StatusOr<PostgresCluster*> shared();

  ~PostgresCluster();  // stops the server (fast) and removes the directory
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // libpq URI of `database` as the superuser, over the Unix socket.
  std::string uri(const std::string& database) const;
  // A new empty database (asp_test_<n>) and its URI.
  absl::StatusOr<std::string> createDatabase();

  // The restart hooks: stop() waits until the server has exited; start() starts it
  // again on the same data and waits until it accepts connections.
  absl::Status stop(StopMode mode = StopMode::kFast);
  absl::Status start();
  absl::Status restart(StopMode mode = StopMode::kFast);
  bool running() const { return pid_ > 0; }
  // The postmaster's process id (-1 when stopped).
  pid_t pid() const { return pid_; }

  const std::string& socketDir() const { return dir_; }
  // The server's own log (for failure messages).
  std::string log() const;

 private:
  PostgresCluster(std::string bin_dir, std::string dir, uid_t uid, gid_t gid)
      : bin_dir_(std::move(bin_dir)), dir_(std::move(dir)), uid_(uid), gid_(gid) {}

  absl::Status initdb();
  absl::Status waitUntilReady();

  const std::string bin_dir_;
  const std::string dir_;  // socket directory; the data lives in dir_/data
  const uid_t uid_;
  const gid_t gid_;
  pid_t pid_ = -1;
  std::atomic<int> databases_{0};
};

}  // namespace asp::testing

#endif  // ASP_TESTING_POSTGRES_CLUSTER_H_
