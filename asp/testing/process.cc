#include "asp/testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "asp/testing/temp_dir.h"

namespace asp::testing {

std::string runfile(const std::string& path) {
  // ASP's files sit under the repository name "asp" in the runfiles tree, whether the
  // test runs in ASP's own workspace or in a consumer's that names it @asp.
  const char* root = std::getenv("TEST_SRCDIR");
  if (root == nullptr) return path;
  return std::string(root) + "/asp/" + path;
}

std::string managerBinary(const std::vector<std::string>& flags) {
  for (const std::string& flag : flags) {
    for (const char* fault : {"--drop_rate=", "--duplicate_rate=", "--answer_delay=", "--seed="}) {
      if (flag.rfind(fault, 0) == 0) return runfile("asp/testing/asp_manager_with_faults");
    }
  }
  return runfile("asp/tools/asp_manager");
}

Process::Process(const std::string& binary, const std::vector<std::string>& args,
                 const std::string& output_prefix, const std::string& stdin_file)
    : prefix_(output_prefix) {
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out = prefix_ + ".out";
  const std::string err = prefix_ + ".err";
  const std::string in = stdin_file.empty() ? "/dev/null" : stdin_file;
  pid_ = fork();
  if (pid_ == 0) {
    const int in_fd = open(in.c_str(), O_RDONLY);
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(126);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    wait();
  }
}

void Process::signal(int signal_number) {
  if (pid_ > 0 && !reaped_) kill(pid_, signal_number);
}

int Process::wait() {
  if (!reaped_ && pid_ > 0) {
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return WEXITSTATUS(status_);
}

std::string Process::out() const { return readFile(prefix_ + ".out"); }
std::string Process::err() const { return readFile(prefix_ + ".err"); }

int run(const std::string& binary, const std::vector<std::string>& args,
        const std::string& output_prefix, const std::string& stdin_file) {
  Process process(binary, args, output_prefix, stdin_file);
  return process.wait();
}

}  // namespace asp::testing
