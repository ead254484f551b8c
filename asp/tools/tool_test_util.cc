#include "asp/tools/tool_test_util.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::tools::testing {
namespace {

std::vector<char*> argvOf(std::vector<std::string>& storage) {
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// In the child: stdout and stderr to <prefix>.out/.err, then exec.
[[noreturn]] void execWithOutput(std::vector<std::string>& storage, const std::string& prefix) {
  const int out_fd = open((prefix + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = open((prefix + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out_fd < 0 || err_fd < 0) _exit(126);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  std::vector<char*> argv = argvOf(storage);
  execv(argv[0], argv.data());
  _exit(127);
}

Ran reap(pid_t pid, const std::string& prefix) {
  Ran ran;
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  ran.code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  ran.max_rss_kb = usage.ru_maxrss;
  ran.out = asp::testing::readFile(prefix + ".out");
  ran.err = asp::testing::readFile(prefix + ".err");
  return ran;
}

}  // namespace

std::unique_ptr<asp::testing::Process> startManager(const std::string& socket,
                                                    const std::string& state_dir,
                                                    const std::string& output_prefix,
                                                    std::vector<std::string> flags) {
  flags.push_back("--socket=" + socket);
  flags.push_back("--state_dir=" + state_dir);
  auto manager = std::make_unique<asp::testing::Process>(asp::testing::managerBinary(flags), flags,
                                                         output_prefix);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (manager->out().find("listening") == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(manager->out().find("listening"), std::string::npos) << manager->err();
  return manager;
}

std::vector<std::string> wordsAfter(const std::string& text, const std::string& key, int count) {
  std::vector<std::string> words;
  const size_t at = text.find(key);
  if (at == std::string::npos) return words;
  std::istringstream in(text.substr(at + key.size()));
  std::string word;
  while (static_cast<int>(words.size()) < count && in >> word) words.push_back(word);
  return words;
}

Ran runTool(const std::string& binary, const std::vector<std::string>& args,
            const std::string& output_prefix, const std::string& stdin_file) {
  std::vector<std::string> storage = {binary};
  storage.insert(storage.end(), args.begin(), args.end());
  const std::string in = stdin_file.empty() ? "/dev/null" : stdin_file;
  const pid_t pid = fork();
  if (pid == 0) {
    const int in_fd = open(in.c_str(), O_RDONLY);
    if (in_fd < 0) _exit(126);
    dup2(in_fd, 0);
    execWithOutput(storage, output_prefix);
  }
  return reap(pid, output_prefix);
}

Ran runOnTerminal(const std::string& binary, const std::vector<std::string>& args,
                  const std::string& output_prefix, const std::string& wait_for,
                  const std::string& typed) {
  std::vector<std::string> storage = {binary};
  storage.insert(storage.end(), args.begin(), args.end());
  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  if (pid == 0) execWithOutput(storage, output_prefix);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (asp::testing::readFile(output_prefix + ".err").find(wait_for) == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (write(terminal, typed.data(), typed.size()) != static_cast<ssize_t>(typed.size())) {
    ADD_FAILURE() << "cannot type on the terminal";
  }
  Ran ran = reap(pid, output_prefix);
  close(terminal);
  return ran;
}

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace asp::tools::testing
