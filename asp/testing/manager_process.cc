#include "asp/testing/manager_process.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

extern "C" {

pid_t manager_process_start(const char* socket_path, const char* state_dir) {
  const char* runfiles = std::getenv("TEST_SRCDIR");
  const std::string binary =
      std::string(runfiles != nullptr ? runfiles : ".") + "/asp/asp/tools/asp_manager";
  const std::string socket_flag = std::string("--socket=") + socket_path;
  const std::string state_flag = std::string("--state_dir=") + state_dir;
  const pid_t manager = fork();
  if (manager < 0) return -1;
  if (manager == 0) {
    execl(binary.c_str(), binary.c_str(), socket_flag.c_str(), state_flag.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  struct stat st;
  for (int i = 0; i < 500 && stat(socket_path, &st) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (stat(socket_path, &st) != 0) {
    std::fprintf(stderr, "manager_process_start: %s did not listen on %s\n", binary.c_str(),
                 socket_path);
    manager_process_stop(manager);
    return -1;
  }
  return manager;
}

int manager_process_stop(pid_t manager) {
  if (manager <= 0) return -1;
  kill(manager, SIGTERM);
  int status = 0;
  if (waitpid(manager, &status, 0) != manager) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

}  // extern "C"
