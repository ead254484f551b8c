#include "asp/testing/postgres_cluster.h"

#include <fcntl.h>
#include <postgresql/libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asp/testing/temp_dir.h"

namespace asp::testing {
namespace {

constexpr char kSuperuser[] = "asp";
constexpr int kPort = 5432;  // names the socket file (.s.PGSQL.5432); no TCP
constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(60);

// The newest /usr/lib/postgresql/<version>/bin that has initdb and postgres, or
// $ASP_POSTGRES_BIN when set.
absl::StatusOr<std::string> findBinDir() {
  if (const char* bin = std::getenv("ASP_POSTGRES_BIN"); bin != nullptr && *bin != '\0') {
    return std::string(bin);
  }
  std::error_code error;
  std::vector<std::pair<int, std::string>> found;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", error)) {
    const std::string bin = entry.path().string() + "/bin";
    if (access((bin + "/initdb").c_str(), X_OK) == 0 &&
        access((bin + "/postgres").c_str(), X_OK) == 0) {
      found.emplace_back(std::atoi(entry.path().filename().c_str()), bin);
    }
  }
  if (found.empty()) {
    return absl::FailedPreconditionError(
        "no PostgreSQL server binaries (initdb, postgres) in /usr/lib/postgresql/*/bin; "
        "./bazelw installs Debian's postgresql-15");
  }
  return std::max_element(found.begin(), found.end())->second;
}

// A child that runs `argv` as uid/gid in `dir` with output appended to `log`. Only
// async-signal-safe calls between fork and exec: the test process has threads.
absl::StatusOr<pid_t> spawn(const std::vector<std::string>& args, const std::string& dir,
                            const std::string& log, uid_t uid, gid_t gid) {
  std::vector<std::string> storage = args;
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string env_path = "PATH=/usr/bin:/bin", env_lang = "LC_ALL=C", env_tz = "TZ=UTC";
  char* envp[] = {env_path.data(), env_lang.data(), env_tz.data(), nullptr};
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0)
    return absl::InternalError(absl::StrCat("cannot open '", log, "': ", strerror(errno)));
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  const bool drop = geteuid() == 0;
  const pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the test may block SIGINT/SIGTERM
    if (drop &&
        (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, gid, gid, gid) != 0 ||
         syscall(SYS_setresuid, uid, uid, uid) != 0)) {
      _exit(125);
    }
    // After the uid change, which clears it; then the parent may already be gone.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(124);
    if (chdir(dir.c_str()) != 0) _exit(123);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    syscall(SYS_close_range, 3, ~0U, 0);
    execve(argv[0], argv.data(), envp);
    _exit(127);
  }
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork failed: ", strerror(errno)));
  return pid;
}

std::string describeExit(int status) {
  if (WIFSIGNALED(status)) return absl::StrCat("was killed by signal ", WTERMSIG(status));
  return absl::StrCat("exited with code ", WEXITSTATUS(status));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::create() {
  absl::StatusOr<std::string> bin = findBinDir();
  if (!bin.ok()) return bin.status();
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (uid == 0) {
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr)
      return absl::FailedPreconditionError("no user 'nobody' to run PostgreSQL as");
    uid = nobody->pw_uid;
    gid = nobody->pw_gid;
  }
  char pattern[] = "/tmp/asp-pg-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp(/tmp/asp-pg-XXXXXX): ", strerror(errno)));
  }
  std::unique_ptr<PostgresCluster> cluster(new PostgresCluster(*bin, pattern, uid, gid));
  if (chown(pattern, uid, gid) != 0 || chmod(pattern, 0700) != 0) {
    const int error = errno;
    std::error_code ignored;
    std::filesystem::remove(pattern, ignored);
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot hand '", pattern, "' to uid ", uid, ": ", strerror(error),
        error == EINVAL ? " (a user namespace without that uid: Bazel's linux-sandbox; tag the "
                          "test \"no-sandbox\")"
                        : ""));
  }
  if (absl::Status s = cluster->initdb(); !s.ok()) return s;
  if (absl::Status s = cluster->start(); !s.ok()) return s;
  return cluster;
}

absl::StatusOr<PostgresCluster*> PostgresCluster::shared() {
  // Destroyed at exit, which stops the server; a crash kills it by the death signal.
  static std::unique_ptr<PostgresCluster> cluster;
  static absl::Status failure;
  static std::once_flag once;
  std::call_once(once, [] {
    absl::StatusOr<std::unique_ptr<PostgresCluster>> created = create();
    if (created.ok()) {
      cluster = *std::move(created);
    } else {
      failure = created.status();
    }
  });
  if (cluster == nullptr) return failure;
  return cluster.get();
}

PostgresCluster::~PostgresCluster() {
  if (pid_ > 0) (void)stop(StopMode::kFast);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status PostgresCluster::initdb() {
  absl::StatusOr<pid_t> pid = spawn(
      {bin_dir_ + "/initdb", "--pgdata=" + dir_ + "/data", absl::StrCat("--username=", kSuperuser),
       "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"},
      dir_, dir_ + "/initdb.log", uid_, gid_);
  if (!pid.ok()) return pid.status();
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat("initdb ", describeExit(status), ":\n", readFile(dir_ + "/initdb.log")));
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::start() {
  if (pid_ > 0) return absl::FailedPreconditionError("the PostgreSQL server is already running");
  absl::StatusOr<pid_t> pid = spawn({bin_dir_ + "/postgres",
                                     "-D",
                                     dir_ + "/data",
                                     "-k",
                                     dir_,
                                     "-p",
                                     std::to_string(kPort),
                                     "-c",
                                     "listen_addresses=",
                                     "-c",
                                     "unix_socket_permissions=0700",
                                     "-c",
                                     "fsync=off",
                                     "-c",
                                     "full_page_writes=off",
                                     "-c",
                                     "dynamic_shared_memory_type=mmap",
                                     "-c",
                                     "max_connections=60",
                                     "-c",
                                     "shared_buffers=32MB"},
                                    dir_, dir_ + "/postgres.log", uid_, gid_);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  return waitUntilReady();
}

absl::Status PostgresCluster::waitUntilReady() {
  const std::string conninfo = uri("postgres");
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("the PostgreSQL server ", describeExit(status),
                                              " while starting:\n", log()));
    }
    if (PQping(conninfo.c_str()) == PQPING_OK) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (void)stop(StopMode::kImmediate);
  return absl::DeadlineExceededError(
      absl::StrCat("the PostgreSQL server did not accept connections within 60 s:\n", log()));
}

absl::Status PostgresCluster::stop(StopMode mode) {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, mode == StopMode::kFast ? SIGINT : SIGQUIT);
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return absl::DeadlineExceededError("the PostgreSQL server did not stop within 60 s; killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status PostgresCluster::restart(StopMode mode) {
  if (absl::Status s = stop(mode); !s.ok()) return s;
  return start();
}

std::string PostgresCluster::uri(const std::string& database) const {
  return absl::StrCat("postgresql:///", database, "?host=", dir_, "&port=", kPort,
                      "&user=", kSuperuser);
}

absl::StatusOr<std::string> PostgresCluster::createDatabase() {
  const std::string name = absl::StrCat("asp_test_", ++databases_);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(uri("postgres").c_str()),
                                                    &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to the test cluster: ", PQerrorMessage(conn.get())));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexec(conn.get(), absl::StrCat("CREATE DATABASE ", name, " STRATEGY = FILE_COPY").c_str()),
      &PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return absl::InternalError(
        absl::StrCat("CREATE DATABASE ", name, ": ", PQerrorMessage(conn.get())));
  }
  return uri(name);
}

std::string PostgresCluster::log() const { return readFile(dir_ + "/postgres.log"); }

}  // namespace asp::testing
